import { log } from '@temporalio/activity';
import { type Alarm, planAlarms, type TaskDeadlines } from '../domain/alarm.plan';
import type { Severity } from '../domain/case.schema';
import type { Policy } from '../domain/policy';
import { rectificationWindow } from '../domain/policy';
import type { TaskLimits } from '../domain/task.machine';
import { dueInstant } from '../domain/time';
import type { WorkingCalendar } from '../domain/calendar';
import type { CalendarSource } from '../services/calendar.source';
import type { PolicySource } from '../services/policy.source';

export interface ComputeDeadlinesInput {
  readonly assignedAt: string;
  readonly severity: Severity;
  readonly category: string;
  /** The case's explicit due date, which replaces the policy's rectification window. */
  readonly dueDate?: string | undefined;
}

export interface ComputedDeadlines {
  readonly ackDueAt: string;
  readonly rectificationDueAt: string;
  readonly limits: TaskLimits;
  /** What falls due first for a task with these deadlines (absent in results recorded before). */
  readonly firstAlarm?: Alarm | null;
  /**
   * Every reminder and rung of a task with these deadlines under the policy in force, which a new
   * task takes as its plan instead of planning again (absent in results recorded before).
   */
  readonly alarms?: Alarm[];
}

const limitsOf = (policy: Policy): TaskLimits => ({
  maxExtensionsPerTask: policy.maxExtensionsPerTask,
  maxExtensionWorkingDays: policy.maxExtensionWorkingDays,
});

/** Where the deadline activities warn; by default the activity's logger (Temporal's `log`). */
export interface DeadlineLogger {
  warn(message: string, attributes: Record<string, unknown>): void;
}

/** A span of days a computation counted working days over, and why. */
interface CountedSpan {
  readonly deadline: 'acknowledgement' | 'rectification' | 'extension' | 'suspension' | 'alarms' | 'follow-up';
  readonly from: string;
  readonly to: string | null;
}

/**
 * Deadline arithmetic on the working calendar and the policy in force. The workflows call these
 * as activities so that the calendar and the policy (data the office changes at run time) enter
 * their history once, keeping replay deterministic.
 */
export function createDeadlineActivities(deps: { calendar: CalendarSource; policy: PolicySource; logger?: DeadlineLogger }) {
  const logger: DeadlineLogger = deps.logger ?? log;
  // A year without official data counts weekends only: 1 January would be a working day. The
  // deadline stands (the office may import the year and extend), but nobody should be surprised.
  const warnUncovered = (calendar: WorkingCalendar, spans: readonly CountedSpan[]) => {
    for (const span of spans) {
      if (span.to === null) continue;
      const years = calendar.uncoveredYears(calendar.dateOf(span.from), calendar.dateOf(span.to));
      if (years.length === 0) continue;
      logger.warn('deadline counted across a year without official holiday data (weekends only): import the year with `duban calendar import`', {
        deadline: span.deadline,
        from: span.from,
        to: span.to,
        uncoveredYears: years,
      });
    }
  };

  return {
    async computeDeadlines(input: ComputeDeadlinesInput): Promise<ComputedDeadlines> {
      const [calendar, policy] = [await deps.calendar(), deps.policy()];
      const ackDueAt = calendar.dueAfter(input.assignedAt, policy.acknowledgeWorkingDays);
      const explicit = input.dueDate ? dueInstant(input.dueDate, calendar.zone) : undefined;
      // An explicit due date already past (a task reassigned late) gives way to the policy window.
      const rectificationDueAt =
        explicit !== undefined && explicit > input.assignedAt
          ? explicit
          : calendar.dueAfter(input.assignedAt, rectificationWindow(policy, input.category, input.severity));
      warnUncovered(calendar, [
        { deadline: 'acknowledgement', from: input.assignedAt, to: ackDueAt },
        { deadline: 'rectification', from: input.assignedAt, to: rectificationDueAt },
      ]);
      const alarms = planAlarms({ assignedAt: input.assignedAt, ackDueAt, rectificationDueAt }, policy, calendar);
      return { ackDueAt, rectificationDueAt, limits: limitsOf(policy), firstAlarm: alarms[0] ?? null, alarms };
    },

    /** Every reminder and rung of a task under the policy in force, and the policy's limits. */
    async planTaskAlarms(deadlines: TaskDeadlines): Promise<{ alarms: Alarm[]; limits: TaskLimits }> {
      const [calendar, policy] = [await deps.calendar(), deps.policy()];
      const alarms = planAlarms(deadlines, policy, calendar);
      // Rungs fall after the deadline, so they may reach a year the deadline itself did not.
      const last = alarms.reduce<string | null>((latest, a) => (latest === null || a.at > latest ? a.at : latest), null);
      if (last !== null && last > deadlines.rectificationDueAt) {
        warnUncovered(calendar, [{ deadline: 'alarms', from: deadlines.rectificationDueAt, to: last }]);
      }
      return { alarms, limits: limitsOf(policy) };
    },

    /**
     * 回访: the end of the complainant's window, the policy's working days after the answer, and
     * how many reopenings (重办) the policy allows a case now.
     */
    async followUpWindow(input: { answeredAt: string }): Promise<{ followUpDueAt: string; windowWorkingDays: number; maxReopens: number }> {
      const [calendar, policy] = [await deps.calendar(), deps.policy()];
      const { windowWorkingDays, maxReopens } = policy.followUp;
      const followUpDueAt = calendar.dueAfter(input.answeredAt, windowWorkingDays);
      warnUncovered(calendar, [{ deadline: 'follow-up', from: input.answeredAt, to: followUpDueAt }]);
      return { followUpDueAt, windowWorkingDays, maxReopens };
    },

    /** The deadline `workingDays` working days after `dueAt`'s day (an approved extension). */
    async extendDeadline(input: { dueAt: string; workingDays: number }): Promise<string> {
      const calendar = await deps.calendar();
      const dueAt = calendar.endOfDay(calendar.nthWorkingDayAfter(calendar.dateOf(input.dueAt), input.workingDays));
      warnUncovered(calendar, [{ deadline: 'extension', from: input.dueAt, to: dueAt }]);
      return dueAt;
    },

    /**
     * The working days a suspension took (the days from its start up to, not including, the day it
     * ended) and the deadlines moved on by as many working days.
     */
    async shiftForSuspension(input: {
      since: string;
      until: string;
      ackDueAt: string | null;
      rectificationDueAt: string | null;
    }): Promise<{ pausedWorkingDays: number; ackDueAt: string | null; rectificationDueAt: string | null }> {
      const calendar = await deps.calendar();
      const paused = calendar.workingDaysBetween(calendar.dateOf(input.since), calendar.dateOf(input.until));
      const shift = (dueAt: string | null) =>
        dueAt === null || paused === 0
          ? dueAt
          : calendar.endOfDay(calendar.nthWorkingDayAfter(calendar.dateOf(dueAt), paused));
      const shifted = { ackDueAt: shift(input.ackDueAt), rectificationDueAt: shift(input.rectificationDueAt) };
      warnUncovered(calendar, [
        { deadline: 'suspension', from: input.since, to: input.until },
        ...(input.rectificationDueAt ? [{ deadline: 'suspension' as const, from: input.rectificationDueAt, to: shifted.rectificationDueAt }] : []),
      ]);
      return { pausedWorkingDays: paused, ...shifted };
    },
  };
}

export type DeadlineActivities = ReturnType<typeof createDeadlineActivities>;
