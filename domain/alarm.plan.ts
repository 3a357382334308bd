import type { LocalDate, WorkingCalendar } from './calendar';
import { type EscalationLevel, escalationRungs, type Policy } from './policy';

export type DeadlineKind = 'acknowledgement' | 'rectification';

/** A task's two deadlines and when its window opened. */
export interface TaskDeadlines {
  readonly assignedAt: string;
  readonly ackDueAt: string;
  readonly rectificationDueAt: string;
}

/** Something that falls due at an instant: a reminder before a deadline or a rung after it. */
export interface Alarm {
  /** Stable per alarm: a reminder's key names the deadline it reminds of, a rung's its level. */
  readonly key: string;
  readonly kind: 'reminder' | 'escalation';
  readonly deadline: DeadlineKind;
  readonly level: EscalationLevel | null;
  readonly at: string;
  readonly dueAt: string;
  /** e.g. "50%", "1 working day left", "催办 / reminder notice". */
  readonly label: string;
}

function reminderLabel(rule: Policy['reminders'][number]): string {
  return 'atFraction' in rule
    ? `${Math.round(rule.atFraction * 100)}%`
    : `剩余 ${rule.workingDaysLeft} 个工作日 / ${rule.workingDaysLeft} working day${rule.workingDaysLeft > 1 ? 's' : ''} left`;
}

/**
 * Every reminder and rung of a task under `policy`, in time order. Reminders fire at the start
 * of a working day (policy.workdayStartTime) once their share of the window has passed; rung k
 * fires at the start of the k-th working day after the due day.
 */
export function planAlarms(deadlines: TaskDeadlines, policy: Policy, calendar: WorkingCalendar): Alarm[] {
  const time = policy.workdayStartTime;
  const startDay = calendar.dateOf(deadlines.assignedAt);
  const dueDay = calendar.dateOf(deadlines.rectificationDueAt);
  const window = calendar.workingDaysAfter(startDay, dueDay);
  const alarms: Alarm[] = [];
  const seen = new Set<string>();

  for (const rule of policy.reminders) {
    const dayIndex = 'atFraction' in rule ? Math.ceil(window * rule.atFraction) + 1 : window - rule.workingDaysLeft + 1;
    if (dayIndex < 1 || dayIndex > window) continue;
    const at = calendar.atTime(calendar.nthWorkingDayAfter(startDay, dayIndex), time);
    if (seen.has(at) || at <= deadlines.assignedAt) continue;
    seen.add(at);
    const label = reminderLabel(rule);
    alarms.push({
      key: `reminder:${label}:${deadlines.rectificationDueAt}`,
      kind: 'reminder',
      deadline: 'rectification',
      level: null,
      at,
      dueAt: deadlines.rectificationDueAt,
      label,
    });
  }

  const rungs = (deadline: DeadlineKind, dueAt: string, ladder: Policy['escalation']['rectification']) => {
    const day: LocalDate = calendar.dateOf(dueAt);
    for (const rung of ladder) {
      const names = escalationRungs[rung.level];
      alarms.push({
        key: `escalation:${deadline}:${rung.level}`,
        kind: 'escalation',
        deadline,
        level: rung.level,
        at: calendar.atTime(calendar.nthWorkingDayAfter(day, rung.workingDaysOverdue), time),
        dueAt,
        label: `${names.zh} / ${names.en}`,
      });
    }
  };
  rungs('acknowledgement', deadlines.ackDueAt, policy.escalation.acknowledgement);
  rungs('rectification', deadlines.rectificationDueAt, policy.escalation.rectification);

  return alarms.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.key < b.key ? -1 : 1));
}
