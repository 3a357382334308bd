import fs from 'node:fs';
import { z } from 'zod';
import { calendarOverrideSchema, type CalendarOverride, WorkingCalendar, withOverrides } from '../domain/calendar';
import { parseInput } from '../domain/validation';
import { listCalendarDays } from '../db/calendar.repository';
import type { Db } from '../db/database';
import { officialCalendarData } from './official-calendar';

/** A file of local overrides: `{"days": [{"date": "2027-01-01", "kind": "holiday", "note": "元旦"}]}`. */
export const calendarFileSchema = z.object({ days: z.array(calendarOverrideSchema) }).strict();

/** Reads a JSON file again only when it changed. */
export function watchedJsonFile<T>(file: string | undefined, parse: (json: unknown) => T, fallback: T): () => T {
  let cache: { mtimeMs: number; value: T } | undefined;
  return () => {
    if (!file || !fs.existsSync(file)) return fallback;
    const { mtimeMs } = fs.statSync(file);
    if (cache?.mtimeMs !== mtimeMs) {
      let json: unknown;
      try {
        json = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (error) {
        throw new Error(`${file}: malformed JSON: ${(error as Error).message}`);
      }
      cache = { mtimeMs, value: parse(json) };
    }
    return cache.value;
  };
}

/**
 * The office's working calendar as it stands now: the official arrangements, then the overrides
 * file (updatable without a release, e.g. next year's arrangement), then the days the office set
 * at run time (`duban calendar set`).
 */
export function createCalendarSource(deps: { db: Db; timeZone: string; overridesFile?: string | undefined }) {
  const fileDays = watchedJsonFile<CalendarOverride[]>(
    deps.overridesFile,
    (json) => parseInput(calendarFileSchema, json, `calendar file ${deps.overridesFile}`).days,
    [],
  );
  return async (): Promise<WorkingCalendar> => {
    const runtime = await listCalendarDays(deps.db);
    return new WorkingCalendar(deps.timeZone, withOverrides(officialCalendarData(), [...fileDays(), ...runtime]));
  };
}
export type CalendarSource = ReturnType<typeof createCalendarSource>;
