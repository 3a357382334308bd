import crypto from 'node:crypto';
import type { EscalationRecord, OutboxNotification } from '../domain/task.machine';
import type { Executor } from './database';

/** A notification with the key that makes writing it idempotent. */
export interface KeyedNotification {
  readonly key: string;
  readonly caseId: string;
  readonly taskId: string | null;
  readonly notification: OutboxNotification;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface KeyedEscalation {
  readonly key: string;
  readonly caseId: string;
  readonly taskId: string;
  readonly department: string;
  readonly record: EscalationRecord;
}

/** Adds pending notifications to the outbox; a key already there is skipped. */
export async function enqueueNotifications(db: Executor, items: readonly KeyedNotification[], now: string): Promise<void> {
  if (items.length === 0) return;
  await db
    .insertInto('notifications')
    .values(
      items.map(({ key, caseId, taskId, notification: n, payload }) => ({
        notification_key: key,
        case_id: caseId,
        task_id: taskId,
        department_code: n.department,
        recipient: n.recipient,
        kind: n.kind,
        level: n.level,
        subject: n.subject,
        payload: JSON.stringify(payload),
        status: 'pending',
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('notification_key').doNothing())
    .execute();
}

/** Records rungs reached against departments; a key already there is skipped. */
export async function recordEscalations(db: Executor, items: readonly KeyedEscalation[]): Promise<void> {
  if (items.length === 0) return;
  await db
    .insertInto('escalations')
    .values(
      items.map(({ key, caseId, taskId, department, record }) => ({
        escalation_key: key,
        case_id: caseId,
        task_id: taskId,
        department_code: department,
        deadline: record.deadline,
        level: record.level,
        due_at: record.dueAt,
        at: record.at,
        bulletin_id: null,
      })),
    )
    .onConflict((oc) => oc.column('escalation_key').doNothing())
    .execute();
  // Rung 4 (约谈) calls for an accountability interview that the office records.
  const interviews = items.filter((item) => item.record.level === 4);
  if (interviews.length === 0) return;
  await db
    .insertInto('interviews')
    .values(
      interviews.map(({ key, caseId, taskId, department, record }) => ({
        id: interviewIdFor(key),
        escalation_key: key,
        case_id: caseId,
        task_id: taskId,
        department_code: department,
        status: 'pending',
        called_at: record.at,
      })),
    )
    .onConflict((oc) => oc.column('escalation_key').doNothing())
    .execute();
}

/** The interview a rung-4 escalation calls for, named after it (the same however often it is written). */
export function interviewIdFor(escalationKey: string): string {
  return `iv_${crypto.createHash('sha256').update(escalationKey).digest('hex').slice(0, 12)}`;
}

/** Pending notifications, oldest first. */
export async function listPendingNotifications(db: Executor, filter: { caseId?: string } = {}) {
  let query = db.selectFrom('notifications').selectAll().where('status', '=', 'pending');
  if (filter.caseId) query = query.where('case_id', '=', filter.caseId);
  return query.orderBy('id').execute();
}

/** Rungs reached in a case, in order. */
export async function listCaseEscalations(db: Executor, caseId: string) {
  return db.selectFrom('escalations').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
}
