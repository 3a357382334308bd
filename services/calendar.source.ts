import { z } from 'zod';
import { calendarOverrideSchema, type CalendarOverride, WorkingCalendar, withOverrides, withYearArrangements } from '../domain/calendar';
import type { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import { listCalendarDays, listCalendarYears } from '../db/calendar.repository';
import type { Db } from '../db/database';
import { officialCalendarData } from './official-calendar';
import { type FileLogger, watchedJsonFile } from './watched-json-file';

/** A file of local overrides: `{"days": [{"date": "2027-01-01", "kind": "holiday", "note": "元旦"}]}`. */
export const calendarFileSchema = z.object({ days: z.array(calendarOverrideSchema) }).strict();

/** The working calendar in force, read afresh on each call; `problem()` tells what is wrong with the overrides file. */
export interface CalendarSource {
  (): Promise<WorkingCalendar>;
  problem(): DomainError | undefined;
}

/**
 * The office's working calendar as it stands now: the official arrangements (built in, with the
 * years imported by `duban calendar import` taking their year's place), then the overrides file
 * (updatable without a release), then the days the office set at run time (`duban calendar set`).
 */
export function createCalendarSource(deps: {
  db: Db;
  timeZone: string;
  overridesFile?: string | undefined;
  logger?: FileLogger | undefined;
}): CalendarSource {
  const fileDays = watchedJsonFile<CalendarOverride[]>({
    file: deps.overridesFile,
    what: `calendar file ${deps.overridesFile}`,
    parse: (json) => parseInput(calendarFileSchema, json, `calendar file ${deps.overridesFile}`).days,
    fallback: [],
    logger: deps.logger,
  });
  const current = async (): Promise<WorkingCalendar> => {
    const [runtime, years] = await Promise.all([listCalendarDays(deps.db), listCalendarYears(deps.db)]);
    const official = withYearArrangements(officialCalendarData(), years);
    return new WorkingCalendar(deps.timeZone, withOverrides(official, [...fileDays(), ...runtime]));
  };
  return Object.assign(current, { problem: () => fileDays.problem() });
}
