import type { Actor } from './case.schema';

/** Every kind of entry on a case's audit trail. */
export const eventActions = [
  'case.opened',
  'case.closed',
  'case.withdrawn',
  'task.assigned',
  'task.acknowledged',
  'task.progress_reported',
  'task.submitted',
  'task.accepted',
  'task.rejected',
  'task.withdrawn',
  'task.extension_requested',
  'task.extension_granted',
  'task.extension_denied',
  'task.transfer_requested',
  'task.transfer_rejected',
  'task.transferred',
  'task.suspended',
  'task.resumed',
  'task.reminded',
  'task.escalated',
] as const;
export type EventAction = (typeof eventActions)[number];

/** One fact on the audit trail: who did what, when, to which task, with what payload. */
export interface DomainEvent {
  readonly action: EventAction;
  readonly actor: Actor;
  /** ISO 8601 instant (UTC). */
  readonly at: string;
  readonly taskId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
}
