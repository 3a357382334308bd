import crypto from 'node:crypto';
import { z } from 'zod';
import { departmentCodeSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import type { NoticeKind } from '../domain/notice';
import { httpUrlSchema, text } from '../domain/text';
import { parseInput } from '../domain/validation';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import {
  deactivateWebhookSubscriber,
  findDelivery,
  insertWebhookSubscriber,
  listDeliveries,
  listWebhookSubscribers,
  retryDelivery,
} from '../db/notice.repository';
import { webhookSecret } from './secret-key';

export const deliveryStatuses = ['pending', 'sending', 'sent', 'failed'] as const;

/** A delivery as the office follows it. */
export interface DeliveryView {
  id: string;
  /** Null for a digest, which is about no one case. */
  caseId: string | null;
  taskId: string | null;
  department: string | null;
  kind: NoticeKind;
  urgent: boolean;
  channel: 'email' | 'webhook';
  recipient: string;
  role: string | null;
  /** The address it goes to (the office sees it; nobody else lists deliveries). */
  address: string;
  status: (typeof deliveryStatuses)[number];
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  sentAt: string | null;
  createdAt: string;
}

export const webhookInputSchema = z
  .object({
    name: text(100),
    url: httpUrlSchema,
    /** Only this department's notices; absent: every notice (the office's own systems). */
    department: departmentCodeSchema.optional(),
  })
  .strict();

/**
 * What the office does with notices: follows the deliveries (the failed ones above all), retries a
 * failed one, and manages the systems that receive notices as signed webhooks.
 */
export function createNoticeService(deps: { db: Db; secretKey: () => string; wake?: () => Promise<void>; now?: () => Date }) {
  const now = () => (deps.now ?? (() => new Date()))().toISOString();
  return {
    async listDeliveries(filter: { status?: DeliveryView['status']; caseId?: string; limit?: number }): Promise<DeliveryView[]> {
      const rows = await listDeliveries(deps.db, { status: filter.status, caseId: filter.caseId, limit: filter.limit ?? 100 });
      return rows.map((r) => ({
        id: r.id,
        caseId: r.case_id,
        taskId: r.task_id,
        department: r.department_code,
        kind: r.kind as NoticeKind,
        urgent: r.urgent === 1,
        channel: r.channel as DeliveryView['channel'],
        recipient: r.recipient_name,
        role: r.role,
        address: r.address,
        status: r.status as DeliveryView['status'],
        attempts: r.attempts,
        lastError: r.last_error,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
        sentAt: r.sent_at,
        createdAt: r.created_at,
      }));
    },

    /** Puts a failed delivery back in the queue and wakes the dispatcher. */
    async retry(id: string): Promise<void> {
      const found = await findDelivery(deps.db, id);
      if (!found) throw new DomainError('not_found', `没有投递 ${id} / no delivery ${id}`);
      if (!(await retryDelivery(deps.db, id, now()))) {
        throw new DomainError('invalid_state', `投递 ${id} 当前为 ${found.status}，只有失败的可以重试 / delivery ${id} is ${found.status}: only a failed one is retried`);
      }
      await deps.wake?.().catch(() => undefined);
    },

    /** Adds a webhook subscriber; answers its signing secret (derived, so shown again on asking). */
    async addWebhook(input: unknown): Promise<{ id: string; name: string; url: string; department: string | null; secret: string }> {
      const parsed = parseInput(webhookInputSchema, input, 'webhook');
      if (parsed.department && !(await findDepartment(deps.db, parsed.department))?.active) {
        throw new DomainError('invalid_state', `部门 ${parsed.department} 不存在或已停用 / unknown or inactive department`, [
          { path: 'department', message: 'unknown or inactive department' },
        ]);
      }
      const id = `wh_${crypto.randomBytes(6).toString('base64url')}`;
      await insertWebhookSubscriber(deps.db, {
        id,
        name: parsed.name,
        department_code: parsed.department ?? null,
        url: parsed.url,
        active: 1,
        created_at: now(),
      });
      return { id, name: parsed.name, url: parsed.url, department: parsed.department ?? null, secret: webhookSecret(deps.secretKey(), id) };
    },

    async listWebhooks() {
      return (await listWebhookSubscribers(deps.db)).map((w) => ({
        id: w.id,
        name: w.name,
        url: w.url,
        department: w.department_code,
        active: w.active === 1,
        createdAt: w.created_at,
      }));
    },

    /** The signing secret of a subscriber, for setting up its receiver again. */
    async webhookSecret(id: string): Promise<string> {
      if (!(await listWebhookSubscribers(deps.db)).some((w) => w.id === id)) throw new DomainError('not_found', `没有订阅 ${id} / no subscriber ${id}`);
      return webhookSecret(deps.secretKey(), id);
    },

    async removeWebhook(id: string): Promise<void> {
      if (!(await deactivateWebhookSubscriber(deps.db, id))) throw new DomainError('not_found', `没有有效的订阅 ${id} / no active subscriber ${id}`);
    },
  };
}
export type NoticeService = ReturnType<typeof createNoticeService>;
