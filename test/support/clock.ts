import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { officialCalendarData } from '../../services/official-calendar';

/**
 * 10:00 (in `zone`) on a Monday at least two days after the server's clock, with no official
 * holiday or make-up day in the five weeks after it, so that only the days a test sets are special.
 */
export async function quietMonday(env: TestWorkflowEnvironment, zone = 'Asia/Shanghai'): Promise<DateTime> {
  const official = officialCalendarData();
  let monday = DateTime.fromMillis(await env.currentTimeMs(), { zone }).plus({ days: 2 }).startOf('day');
  monday = monday.plus({ days: (8 - monday.weekday) % 7 }).set({ hour: 10 });
  for (;;) {
    const days = Array.from({ length: 36 }, (_, i) => monday.plus({ days: i }).toISODate()!);
    if (!days.some((d) => official.holidays.has(d) || official.workdays.has(d))) return monday;
    monday = monday.plus({ weeks: 1 });
  }
}

/** Lets the time-skipping server's clock run on to `when` (nothing when it is already past). */
export async function sleepUntil(env: TestWorkflowEnvironment, when: DateTime): Promise<void> {
  const now = await env.currentTimeMs();
  if (when.toMillis() > now) await env.sleep(when.toMillis() - now);
}
