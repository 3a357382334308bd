import crypto from 'node:crypto';
import { z } from 'zod';
import { type Actor, departmentCodeSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import type { NoticeKind } from '../domain/notice';
import { httpUrlSchema, text } from '../domain/text';
import { parseInput } from '../domain/validation';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import { appendEvents } from '../db/event.repository';
import {
  deactivateWebhookSubscriber,
  findDelivery,
  findNotice,
  findWebhookSubscriber,
  insertWebhookSubscriber,
  listDeliveries,
  listWebhookSubscribers,
  retryDelivery,
} from '../db/notice.repository';
import { createNoticeDirectory } from './notice.directory';
import { createPeopleService } from './people.service';
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
  const directory = createNoticeDirectory({ db: deps.db, people: createPeopleService({ db: deps.db }) });
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

    /**
     * Puts a failed delivery back in the queue for one more try, to the address the directory has
     * now (the usual fix for a failure is to correct it), and wakes the dispatcher. The retry is
     * on the case's timeline, with who asked for it.
     */
    async retry(id: string, actor: Actor): Promise<void> {
      const found = await findDelivery(deps.db, id);
      if (!found) throw new DomainError('not_found', `没有投递 ${id} / no delivery ${id}`);
      if (found.status !== 'failed') {
        throw new DomainError('invalid_state', `投递 ${id} 当前为 ${found.status}，只有失败的可以重试 / delivery ${id} is ${found.status}: only a failed one is retried`);
      }
      const target = await directory.currentAddress(found);
      if ('gone' in target) {
        throw new DomainError('invalid_state', `无法重试投递 ${id}：${target.gone} / cannot retry delivery ${id}: ${target.gone}`, [
          { path: 'id', message: target.gone },
        ]);
      }
      const at = now();
      const retried = await deps.db.transaction().execute(async (trx) => {
        if (!(await retryDelivery(trx, id, at))) return false;
        const notice = await findNotice(trx, found.notice_key);
        if (notice?.case_id) {
          await appendEvents(
            trx,
            [
              {
                key: `${found.delivery_key}#retried@${at}`,
                caseId: notice.case_id,
                event: {
                  action: 'notice.retried',
                  actor,
                  at,
                  taskId: notice.task_id,
                  payload: { kind: notice.kind, channel: found.channel, recipient: found.recipient_name, role: found.role, attempts: found.attempts },
                },
              },
            ],
            at,
          );
        }
        return true;
      });
      if (!retried) throw new DomainError('invalid_state', `投递 ${id} 已不是失败状态 / delivery ${id} is no longer failed`);
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
      // The same address for the same notices twice would send each notice twice.
      const same = (await listWebhookSubscribers(deps.db)).find((w) => w.active === 1 && w.url === parsed.url && w.department_code === (parsed.department ?? null));
      if (same) {
        throw new DomainError('conflict', `该地址已订阅这些通知（${same.id}）/ this URL already receives these notices (${same.id})`, [
          { path: 'url', message: `already subscribed as ${same.id}` },
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

    /** The signing secret of an active subscriber, for setting up its receiver again. */
    async webhookSecret(id: string): Promise<string> {
      const subscriber = await findWebhookSubscriber(deps.db, id);
      if (subscriber?.active !== 1) throw new DomainError('not_found', `没有有效的订阅 ${id} / no active subscriber ${id}`);
      return webhookSecret(deps.secretKey(), id);
    },

    async removeWebhook(id: string): Promise<void> {
      if (!(await deactivateWebhookSubscriber(deps.db, id))) throw new DomainError('not_found', `没有有效的订阅 ${id} / no active subscriber ${id}`);
    },
  };
}
export type NoticeService = ReturnType<typeof createNoticeService>;
