import type { WorkingCalendar } from './calendar';

/**
 * A deadline counted across a year without an official holiday arrangement: in such a year only
 * weekends are known, so 1 January or the Spring Festival count as working days.
 */
export interface CalendarWarning {
  readonly code: 'calendar_not_covered';
  readonly taskId: string;
  readonly deadline: 'ackDueAt' | 'rectificationDueAt';
  readonly dueAt: string;
  readonly years: readonly number[];
  readonly message: string;
}

/** What a task's deadlines are counted from and to; instants as ISO 8601 (any offset). */
export interface TaskDeadlineWindow {
  readonly id: string;
  /** Whether the task still runs: a finished task's deadlines no longer matter. */
  readonly live: boolean;
  readonly assignedAt: string;
  readonly acknowledgedAt: string | null;
  readonly ackDueAt: string | null;
  readonly rectificationDueAt: string | null;
}

const importHint = '用 duban calendar import 导入该年安排 / import the year with `duban calendar import`';

const yearsText = (years: readonly number[]) => years.join(', ');

/** A warning for each live deadline counted across a year the calendar has no official data for. */
export function deadlineWarnings(calendar: WorkingCalendar, tasks: readonly TaskDeadlineWindow[]): CalendarWarning[] {
  const warnings: CalendarWarning[] = [];
  for (const task of tasks) {
    if (!task.live) continue;
    const windows = [
      ...(task.acknowledgedAt === null ? [['ackDueAt', task.ackDueAt] as const] : []),
      ['rectificationDueAt', task.rectificationDueAt] as const,
    ];
    for (const [deadline, dueAt] of windows) {
      if (dueAt === null) continue;
      const years = calendar.uncoveredYears(calendar.dateOf(task.assignedAt), calendar.dateOf(dueAt));
      if (years.length === 0) continue;
      warnings.push({
        code: 'calendar_not_covered',
        taskId: task.id,
        deadline,
        dueAt,
        years,
        message: `${task.id} 的 ${deadline} 跨入无官方节假日数据的 ${yearsText(years)} 年，仅按周末计算 / ${task.id}'s ${deadline} is counted across ${yearsText(years)} without official holiday data (weekends only); ${importHint}`,
      });
    }
  }
  return warnings;
}

/** Warnings when this year or the next has no official arrangement in `coveredYears`. */
export function coverageWarnings(coveredYears: readonly number[], currentYear: number): string[] {
  return [currentYear, currentYear + 1]
    .filter((year) => !coveredYears.includes(year))
    .map(
      (year) =>
        `${year} 年没有官方节假日安排，期限仅按周末计算 / no official holiday arrangement for ${year}: deadlines in it count weekends only; ${importHint}`,
    );
}
