import { log } from '@temporalio/activity';
import { type Alarm, planAlarms, type TaskDeadlines } from '../domain/alarm.plan';
import type { Severity } from '../domain/case.schema';
import type { Policy } from '../domain/policy';
import { rectificationWindow } from '../domain/policy';
import type { TaskLimits } from '../domain/task.machine';
import { dueInstant } from '../domain/time';
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
}

const limitsOf = (policy: Policy): TaskLimits => ({
  maxExtensionsPerTask: policy.maxExtensionsPerTask,
  maxExtensionWorkingDays: policy.maxExtensionWorkingDays,
});

/**
 * Deadline arithmetic on the working calendar and the policy in force. The workflows call these
 * as activities so that the calendar and the policy (data the office changes at run time) enter
 * their history once, keeping replay deterministic.
 */
export function createDeadlineActivities(deps: { calendar: CalendarSource; policy: PolicySource }) {
  const warnUncovered = async (instants: readonly (string | null)[]) => {
    const calendar = await deps.calendar();
    for (const instant of instants) {
      if (instant && !calendar.covers(calendar.dateOf(instant))) {
        log.warn('deadline beyond the official holiday data: add the year’s arrangement to the calendar overrides', {
          instant,
        });
      }
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
      await warnUncovered([ackDueAt, rectificationDueAt]);
      const [firstAlarm] = planAlarms({ assignedAt: input.assignedAt, ackDueAt, rectificationDueAt }, policy, calendar);
      return { ackDueAt, rectificationDueAt, limits: limitsOf(policy), firstAlarm: firstAlarm ?? null };
    },

    /** Every reminder and rung of a task under the policy in force, and the policy's limits. */
    async planTaskAlarms(deadlines: TaskDeadlines): Promise<{ alarms: Alarm[]; limits: TaskLimits }> {
      const [calendar, policy] = [await deps.calendar(), deps.policy()];
      return { alarms: planAlarms(deadlines, policy, calendar), limits: limitsOf(policy) };
    },

    /** The deadline `workingDays` working days after `dueAt`'s day (an approved extension). */
    async extendDeadline(input: { dueAt: string; workingDays: number }): Promise<string> {
      const calendar = await deps.calendar();
      const dueAt = calendar.endOfDay(calendar.nthWorkingDayAfter(calendar.dateOf(input.dueAt), input.workingDays));
      await warnUncovered([dueAt]);
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
      return { pausedWorkingDays: paused, ackDueAt: shift(input.ackDueAt), rectificationDueAt: shift(input.rectificationDueAt) };
    },
  };
}

export type DeadlineActivities = ReturnType<typeof createDeadlineActivities>;
