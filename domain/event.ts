import { z } from 'zod';
import type { Actor } from './case.schema';
import { instantSchema } from './time';

/** Every kind of entry on a case's audit trail. */
export const eventActions = [
  'case.opened',
  'case.closed',
  'case.withdrawn',
  'case.answered',
  'case.rated',
  'case.reopened',
  'case.rating_dismissed',
  'case.follow_up_expired',
  'task.assigned',
  'task.acknowledged',
  'task.responsible_person_assigned',
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
  'notice.sent',
  'notice.failed',
  'notice.retried',
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

const instant = instantSchema;
const text = z.string();
const evidenceList = z.array(z.looseObject({}));

/**
 * What each kind of event carries, as read back on a timeline: the fields that are instants are
 * declared as such (they are shown in the office's zone); everything else is data as recorded.
 * Objects are loose and fields optional so that events recorded by earlier versions still fit.
 */
export const eventPayloadSchemas = {
  'case.opened': z.looseObject({ title: text.optional(), description: text.optional() }),
  'case.closed': z.looseObject({ tasks: z.array(text).optional() }),
  'case.withdrawn': z.looseObject({ reason: text.optional() }),
  // 答复: the office's answer to the complainant once the case closed, the after-photos it shows,
  // and until when the complainant may rate it (回访).
  'case.answered': z.looseObject({ answer: text.optional(), evidence: evidenceList.optional(), followUpDueAt: instant.optional() }),
  // 回访: satisfied | basically_satisfied | dissatisfied, with the complainant's reason.
  'case.rated': z.looseObject({ rating: text.optional(), reason: text.nullable().optional() }),
  // 重办: the office upheld a 不满意; the case runs again with a new task for the department named.
  'case.reopened': z.looseObject({
    reason: text.optional(),
    taskId: text.optional(),
    department: text.optional(),
    ackDueAt: instant.nullable().optional(),
    rectificationDueAt: instant.nullable().optional(),
  }),
  'case.rating_dismissed': z.looseObject({ comment: text.optional() }),
  // No rating within the window (counted as docs/indicators.md says).
  'case.follow_up_expired': z.looseObject({ followUpDueAt: instant.optional() }),
  'task.assigned': z.looseObject({
    department: text.optional(),
    role: text.optional(),
    ackDueAt: instant.nullable().optional(),
    rectificationDueAt: instant.nullable().optional(),
    transferredFrom: text.optional(),
    reason: text.optional(),
  }),
  'task.acknowledged': z.looseObject({ note: text.optional() }),
  // 责任人 as of the assignment: who (an id of the directory), their name and post; never contact data.
  'task.responsible_person_assigned': z.looseObject({ personId: text.optional(), name: text.optional(), post: text.optional() }),
  'task.progress_reported': z.looseObject({ note: text.optional(), evidence: evidenceList.optional() }),
  'task.submitted': z.looseObject({ report: text.optional(), evidence: evidenceList.optional(), submissionCount: z.number().optional() }),
  'task.accepted': z.looseObject({ comment: text.optional() }),
  'task.rejected': z.looseObject({ comment: text.optional(), reworkCount: z.number().optional() }),
  'task.withdrawn': z.looseObject({ reason: text.optional() }),
  'task.extension_requested': z.looseObject({
    workingDays: z.number().optional(),
    reason: text.optional(),
    rectificationDueAt: instant.nullable().optional(),
  }),
  'task.extension_granted': z.looseObject({
    requestedWorkingDays: z.number().optional(),
    workingDays: z.number().optional(),
    from: instant.nullable().optional(),
    rectificationDueAt: instant.nullable().optional(),
    comment: text.nullable().optional(),
  }),
  'task.extension_denied': z.looseObject({ requestedWorkingDays: z.number().optional(), comment: text.nullable().optional() }),
  'task.transfer_requested': z.looseObject({ reason: text.optional(), suggestedDepartment: text.nullable().optional() }),
  'task.transfer_rejected': z.looseObject({ comment: text.optional() }),
  'task.transferred': z.looseObject({ toDepartment: text.optional(), toTaskId: text.optional(), reason: text.optional() }),
  'task.suspended': z.looseObject({ reason: text.optional() }),
  'task.resumed': z.looseObject({
    suspendedSince: instant.optional(),
    pausedWorkingDays: z.number().optional(),
    ackDueAt: instant.nullable().optional(),
    rectificationDueAt: instant.nullable().optional(),
    comment: text.optional(),
  }),
  'task.reminded': z.looseObject({ deadline: text.optional(), label: text.optional(), plannedAt: instant.optional(), dueAt: instant.optional() }),
  'task.escalated': z.looseObject({
    deadline: text.optional(),
    level: z.number().optional(),
    rung: text.optional(),
    rungEn: text.optional(),
    plannedAt: instant.optional(),
    dueAt: instant.optional(),
  }),
  'notice.sent': z.looseObject({ kind: text.optional(), channel: text.optional(), recipient: text.optional(), role: text.nullable().optional(), attempts: z.number().optional() }),
  'notice.failed': z.looseObject({
    kind: text.optional(),
    channel: text.optional(),
    recipient: text.optional(),
    role: text.nullable().optional(),
    attempts: z.number().optional(),
    error: text.optional(),
  }),
  'notice.retried': z.looseObject({
    kind: text.optional(),
    channel: text.optional(),
    recipient: text.optional(),
    role: text.nullable().optional(),
    attempts: z.number().optional(),
  }),
} as const satisfies Record<EventAction, z.ZodType>;
