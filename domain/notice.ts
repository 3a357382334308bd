import { DateTime } from 'luxon';
import type { DomainEvent, EventAction } from './event';

/**
 * The notices duban sends: one for each event that asks someone to act. Pure rules: which events
 * give a notice, to whom (by role, resolved to people from the directory when it is sent), and
 * whether it may wait for the end of quiet hours.
 */
export const noticeKinds = [
  'assignment', // 交办通知单: a department has a new task, with its deadlines
  'reminder', // 提醒: a deadline draws near
  'escalation', // 催办 / 督办 / 通报批评 / 约谈: a deadline has passed
  'rework', // 返工: the office sent the rectification back
  'extension_decision', // 延期审批结果
  'transfer_decision', // 转办审批结果: granted (the task moves on) or refused (it stays)
  'awaiting_verification', // 待核查: a department submitted its rectification
  'request', // 延期 or 转办 asked for, awaiting the office
  'closure', // 销号: the case is closed
  'withdrawal', // 撤销: the office withdrew the task (or the whole case): stop work
  'named_responsible', // 指定责任人: a person was named responsible for a task
  'resumption', // 恢复计时: a suspended task's clock runs again, with its new deadlines
  'answer', // 答复: the office answered a complaint; its complainant is asked to rate it (回访)
  'rating_dissatisfied', // 不满意: the complainant is not satisfied with the answer, awaiting the office's decision
  'alert', // to the office: a notice found nobody to go to
  'digest', // 每日汇总: a department's open tasks
] as const;
export type NoticeKind = (typeof noticeKinds)[number];

/**
 * Who a notice is for. `responsible` is the task's responsible person (责任人), or the department's
 * liaison when it has none; `head`, `deputy` (分管领导) and `liaison` hold those roles in the task's
 * department; `office_lead` and `office_clerk` are the office's own people; `complainant` is whoever
 * filed the complaint the case came from, reached at the contact data of that complaint as it is
 * when the notice is sent.
 */
export const noticeRoles = ['responsible', 'head', 'deputy', 'liaison', 'office_lead', 'office_clerk', 'complainant'] as const;
export type NoticeRole = (typeof noticeRoles)[number];

/** What an event gives: a notice of a kind, for roles, urgent or not. */
export interface NoticeRule {
  readonly kind: NoticeKind;
  readonly roles: readonly NoticeRole[];
  /** Urgent notices go out at once, quiet hours or not. */
  readonly urgent: boolean;
}

const rule = (kind: NoticeKind, roles: readonly NoticeRole[], urgent = false): NoticeRule => ({ kind, roles, urgent });

/** The rungs of the escalation ladder, by whom they reach (催办/督办: the person and the head; 通报批评/约谈: the head and the 分管领导). */
const rungRoles: Record<number, readonly NoticeRole[]> = {
  1: ['responsible', 'head'],
  2: ['responsible', 'head', 'office_lead'],
  3: ['head', 'deputy'],
  4: ['head', 'deputy', 'office_lead'],
};

const byAction: Partial<Record<EventAction, (payload: Readonly<Record<string, unknown>>) => NoticeRule | null>> = {
  'task.assigned': () => rule('assignment', ['liaison', 'responsible']),
  'task.reminded': () => rule('reminder', ['responsible']),
  'task.escalated': (p) => {
    const level = typeof p.level === 'number' ? p.level : 1;
    // From 督办 up a rung is urgent: it reaches people at once, quiet hours or not.
    return rule('escalation', rungRoles[level] ?? rungRoles[1]!, level >= 2);
  },
  'task.rejected': () => rule('rework', ['responsible']),
  'task.extension_granted': () => rule('extension_decision', ['responsible']),
  'task.extension_denied': () => rule('extension_decision', ['responsible']),
  'task.transfer_rejected': () => rule('transfer_decision', ['responsible']),
  'task.transferred': () => rule('transfer_decision', ['responsible']),
  'task.withdrawn': () => rule('withdrawal', ['responsible']),
  'task.responsible_person_assigned': () => rule('named_responsible', ['responsible']),
  'task.resumed': () => rule('resumption', ['responsible']),
  'task.submitted': () => rule('awaiting_verification', ['office_clerk']),
  'task.extension_requested': () => rule('request', ['office_clerk']),
  'task.transfer_requested': () => rule('request', ['office_clerk']),
  'case.closed': () => rule('closure', ['responsible']),
  'case.answered': () => rule('answer', ['complainant']),
  // 满意 and 基本满意 end the follow-up and ask nobody to act; an expired window neither.
  'case.rated': (p) => (p.rating === 'dissatisfied' ? rule('rating_dissatisfied', ['office_clerk']) : null),
};

/**
 * Kinds that are the office's and the complainant's business, never a department's: the
 * complainant's contact data, tracking code and own words travel in them. They go to the office's
 * people and the office's own webhook subscribers only, whatever departments the case has.
 */
const officeOnlyKinds: ReadonlySet<NoticeKind> = new Set<NoticeKind>(['answer', 'rating_dissatisfied']);

/** Whether a kind of notice stays with the office (and the complainant): no department, nor its webhook, receives it. */
export function isOfficeOnly(kind: NoticeKind): boolean {
  return officeOnlyKinds.has(kind);
}

/** The notice an event gives, or null when it asks nobody to act. */
export function noticeFor(event: Pick<DomainEvent, 'action' | 'payload'>): NoticeRule | null {
  return byAction[event.action]?.(event.payload) ?? null;
}

/**
 * The notices of events recorded together, one per event (or null): a person named responsible
 * in the same step as the task's assignment (a case opened naming them) learns it from the
 * assignment, which goes to them, and gets no second notice.
 */
export function noticesFor(events: readonly Pick<DomainEvent, 'action' | 'payload' | 'taskId'>[]): (NoticeRule | null)[] {
  const assigned = new Set(events.filter((e) => e.action === 'task.assigned').map((e) => e.taskId));
  return events.map((e) => (e.action === 'task.responsible_person_assigned' && assigned.has(e.taskId) ? null : noticeFor(e)));
}

/** Quiet hours in the office's zone, as HH:MM: from `from` to `to` (across midnight when to < from). */
export interface QuietHours {
  readonly from: string;
  readonly to: string;
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When a notice may go out: at once, unless `now` falls in quiet hours and it is not urgent, in
 * which case at the end of them (office time). Returns an ISO 8601 UTC instant.
 */
export function sendableAt(now: string, zone: string, quiet: QuietHours | null, urgent: boolean): string {
  if (!quiet || urgent) return now;
  const local = DateTime.fromISO(now, { zone: 'utc' }).setZone(zone);
  const minute = local.hour * 60 + local.minute;
  const [from, to] = [minutesOf(quiet.from), minutesOf(quiet.to)];
  const inside = from <= to ? minute >= from && minute < to : minute >= from || minute < to;
  if (!inside) return now;
  let end = local.set({ hour: Math.floor(to / 60), minute: to % 60, second: 0, millisecond: 0 });
  if (end <= local) end = end.plus({ days: 1 });
  return end.toUTC().toISO()!;
}
