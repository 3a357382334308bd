import { DateTime } from 'luxon';
import { z } from 'zod';

/** A calendar date, YYYY-MM-DD, in the office's time zone. */
export type LocalDate = string;

export const localDateSchema = z.iso.date();

/**
 * Which days are not ordinary: statutory holidays (days off, weekends inside a holiday included)
 * and make-up working days (调休, weekend days worked). Everything else is a working day from
 * Monday to Friday and a rest day on Saturday and Sunday.
 */
export interface CalendarData {
  readonly holidays: ReadonlySet<LocalDate>;
  readonly workdays: ReadonlySet<LocalDate>;
  /** Years whose official arrangement the data holds; outside them only weekends are known. */
  readonly coveredYears: { readonly from: number; readonly to: number };
}

/** One local change to the calendar: a closure (day off) or an extra working day. */
export const calendarOverrideSchema = z
  .object({
    date: localDateSchema,
    kind: z.enum(['holiday', 'workday']),
    note: z.string().trim().max(200).optional(),
  })
  .strict();
export type CalendarOverride = z.infer<typeof calendarOverrideSchema>;

/** `base` with local overrides applied, later overrides winning. */
export function withOverrides(base: CalendarData, overrides: readonly CalendarOverride[]): CalendarData {
  const holidays = new Set(base.holidays);
  const workdays = new Set(base.workdays);
  for (const o of overrides) {
    if (o.kind === 'holiday') {
      holidays.add(o.date);
      workdays.delete(o.date);
    } else {
      workdays.add(o.date);
      holidays.delete(o.date);
    }
  }
  return { holidays, workdays, coveredYears: base.coveredYears };
}

const day = (date: LocalDate): DateTime => DateTime.fromISO(date, { zone: 'utc' });
const iso = (dt: DateTime): LocalDate => dt.toISODate() as LocalDate;

/** Past this many days of search, a calendar with no working day at all is a data error. */
const maxScanDays = 3660;

/**
 * Working days in one office's time zone. Pure: the data comes in, nothing is read or written,
 * so workflows, activities and the API compute the same deadlines.
 */
export class WorkingCalendar {
  constructor(
    readonly zone: string,
    private readonly data: CalendarData,
  ) {}

  /** Whether `date` is covered by an official arrangement in the data. */
  covers(date: LocalDate): boolean {
    const year = Number(date.slice(0, 4));
    return year >= this.data.coveredYears.from && year <= this.data.coveredYears.to;
  }

  isWorkingDay(date: LocalDate): boolean {
    if (this.data.workdays.has(date)) return true;
    if (this.data.holidays.has(date)) return false;
    return day(date).weekday <= 5;
  }

  /** Working days d with from < d ≤ to: the length of a window that starts on `from`. */
  workingDaysAfter(from: LocalDate, to: LocalDate): number {
    const next = (date: LocalDate) => iso(day(date).plus({ days: 1 }));
    return this.workingDaysBetween(next(from), next(to));
  }

  /** The local date of an instant. */
  dateOf(instant: string): LocalDate {
    return DateTime.fromISO(instant, { zone: 'utc' }).setZone(this.zone).toISODate() as LocalDate;
  }

  /**
   * The n-th working day after `date` (n ≥ 1); for n = 0, `date` itself if it is a working day,
   * else the next working day.
   */
  nthWorkingDayAfter(date: LocalDate, n: number): LocalDate {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`working days must be a whole number ≥ 0, got ${n}`);
    let current = day(date);
    if (n === 0) {
      for (let i = 0; !this.isWorkingDay(iso(current)); i++) {
        if (i > maxScanDays) throw new Error(`no working day within ${maxScanDays} days of ${date}`);
        current = current.plus({ days: 1 });
      }
      return iso(current);
    }
    let counted = 0;
    for (let i = 0; counted < n; i++) {
      if (i > maxScanDays * Math.max(1, n)) throw new Error(`no working day within reach of ${date}`);
      current = current.plus({ days: 1 });
      if (this.isWorkingDay(iso(current))) counted++;
    }
    return iso(current);
  }

  /** Working days d with from ≤ d < to (0 when to ≤ from). */
  workingDaysBetween(from: LocalDate, to: LocalDate): number {
    let count = 0;
    for (let current = day(from); iso(current) < to; current = current.plus({ days: 1 })) {
      if (this.isWorkingDay(iso(current))) count++;
    }
    return count;
  }

  /** The last instant of `date` in the office's zone, as an ISO 8601 UTC instant. */
  endOfDay(date: LocalDate): string {
    return DateTime.fromISO(date, { zone: this.zone }).endOf('day').toUTC().toISO() as string;
  }

  /** `time` (HH:MM) on `date` in the office's zone, as an ISO 8601 UTC instant. */
  atTime(date: LocalDate, time: string): string {
    const [hour, minute] = time.split(':').map(Number);
    return DateTime.fromISO(date, { zone: this.zone }).set({ hour, minute }).toUTC().toISO() as string;
  }

  /** The deadline `n` working days after `instant`: the end of that working day. */
  dueAfter(instant: string, n: number): string {
    return this.endOfDay(this.nthWorkingDayAfter(this.dateOf(instant), n));
  }
}
