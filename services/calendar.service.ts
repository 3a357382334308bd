import { DateTime } from 'luxon';
import { type CalendarOverride, calendarOverrideSchema, type CalendarYear, calendarYearSchema, localDateSchema, type WorkingCalendar } from '../domain/calendar';
import { type CalendarWarning, coverageWarnings, deadlineWarnings } from '../domain/calendar-coverage';
import { finishedTaskStatuses } from '../domain/task.machine';
import type { TaskView } from '../db/case.mapper';
import { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import {
  listCalendarDays,
  listCalendarYears,
  removeCalendarDay,
  saveCalendarYear,
  setCalendarDay,
  type StoredCalendarYear,
} from '../db/calendar.repository';
import type { Db } from '../db/database';
import { createCalendarSource } from './calendar.source';
import { officialCalendarData } from './official-calendar';

/** Which years deadlines are counted on official data for, and what is missing. */
export interface CalendarCoverage {
  /** Years with an official arrangement, built in or imported. */
  readonly officialYears: number[];
  /** Of those, the years imported with `duban calendar import`. */
  readonly importedYears: number[];
  /** This year or the next without official data. */
  readonly warnings: string[];
}

/** Which years have official data, and a warning when the current or next year (in `timeZone`) has none. */
export async function calendarCoverage(db: Db, timeZone: string, now: Date): Promise<CalendarCoverage> {
  const imported = (await listCalendarYears(db)).map((y) => y.year);
  const officialYears = [...new Set([...officialCalendarData().coveredYears, ...imported])].sort((a, b) => a - b);
  return {
    officialYears,
    importedYears: imported,
    warnings: coverageWarnings(officialYears, DateTime.fromJSDate(now, { zone: timeZone }).year),
  };
}

/** What the office does with the working calendar (the CLI's `calendar` commands). */
export function createCalendarService(deps: { db: Db; timeZone: string; overridesFile?: string | undefined }) {
  const source = createCalendarSource(deps);
  return {
    /** The calendar in force; refuses while the overrides file is malformed, naming the field. */
    async calendar(): Promise<WorkingCalendar> {
      const calendar = await source();
      const problem = source.problem();
      if (problem) throw problem;
      return calendar;
    },

    /** A local closure or extra working day, replacing any set for that date. */
    async setDay(input: unknown, now: string): Promise<CalendarOverride> {
      const day = parseInput(calendarOverrideSchema, input, 'calendar day');
      await setCalendarDay(deps.db, day, now);
      return day;
    },

    async unsetDay(date: unknown): Promise<string> {
      const day = parseInput(localDateSchema, date, 'date');
      if (!(await removeCalendarDay(deps.db, day))) {
        throw new DomainError('not_found', `${day} 没有本地设置 / no local setting for ${day}`);
      }
      return day;
    },

    listDays: (): Promise<CalendarOverride[]> => listCalendarDays(deps.db),

    /**
     * Stores a whole year's official arrangement (replacing an earlier import of that year); from
     * then on that year counts as covered by official data and replaces the built-in days.
     */
    async importYear(input: unknown, importedBy: string, now: string): Promise<{ year: CalendarYear; replaced: boolean }> {
      const year = parseInput(calendarYearSchema, input, 'calendar year');
      const replaced = await deps.db.transaction().execute((trx) => saveCalendarYear(trx, year, importedBy, now));
      return { year, replaced };
    },

    listYears: (): Promise<StoredCalendarYear[]> => listCalendarYears(deps.db),

    /**
     * Warnings for a case's live deadlines counted across a year without official data, and for a
     * malformed overrides file (the calendar in force is then the one without it).
     */
    async deadlineWarnings(tasks: readonly TaskView[]): Promise<(CalendarWarning | { code: 'calendar_file_invalid'; message: string })[]> {
      const calendar = await source();
      const problem = source.problem();
      const windows = tasks.map((t) => ({ ...t, live: !finishedTaskStatuses.includes(t.status) }));
      return [...(problem ? [{ code: 'calendar_file_invalid' as const, message: problem.message }] : []), ...deadlineWarnings(calendar, windows)];
    },

    coverage: (now: Date): Promise<CalendarCoverage> => calendarCoverage(deps.db, deps.timeZone, now),
  };
}
export type CalendarService = ReturnType<typeof createCalendarService>;
