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
  readonly coveredYears: ReadonlySet<number>;
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

/*
 * Counting working days walks dates one by one, for every deadline planned: plain arithmetic on
 * days since 1970-01-01 rather than a DateTime per day (a firing's re-plan spent most of its time
 * in luxon). A calendar date has no zone, so nothing here depends on one.
 */
const msPerDay = 86_400_000;

/** `date` as days since 1970-01-01; a RangeError if it is not a calendar date (2026-02-30 is not). */
function epochDay(date: LocalDate): number {
  const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = parts ? new Date(0).setUTCFullYear(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])) : Number.NaN;
  if (Number.isNaN(ms) || localDate(ms / msPerDay) !== date) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${date}`);
  return ms / msPerDay;
}

function localDate(epoch: number): LocalDate {
  return new Date(epoch * msPerDay).toISOString().slice(0, 10);
}

/** ISO weekday, 1 (Monday) to 7 (Sunday): 1970-01-01 was a Thursday. */
function weekdayOf(epoch: number): number {
  return (((epoch + 3) % 7) + 7) % 7 + 1;
}
const weekdayZh = ['', '星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日'];

const arrangementName = z.string().trim().min(1).max(50);
const arrangementGroup = z
  .object({
    /** The holiday, e.g. 春节; for make-up days, the holiday they make up for. */
    name: arrangementName,
    dates: z.array(localDateSchema).min(1).max(31),
  })
  .strict();

/**
 * One year's official arrangement (国务院办公厅关于…年部分节假日安排的通知), as `duban calendar import`
 * reads it: the days off of each holiday (weekend days inside a break included) and the make-up
 * working days (调休上班), which are always a Saturday or a Sunday.
 */
export const calendarYearSchema = z
  .object({
    year: z.number().int().min(2000).max(2200),
    /** Where it comes from, e.g. 国办发明电〔2025〕7号. */
    notice: z.string().trim().min(1).max(200).optional(),
    holidays: z.array(arrangementGroup).min(1).max(30),
    workdays: z.array(arrangementGroup).max(30).default([]),
  })
  .strict()
  .superRefine((arrangement, ctx) => {
    const seen = new Map<LocalDate, string>();
    for (const list of ['holidays', 'workdays'] as const) {
      arrangement[list].forEach((group, i) => {
        group.dates.forEach((date, j) => {
          const path = [list, i, 'dates', j];
          const where = `${list}[${i}].dates[${j}]`;
          if (Number(date.slice(0, 4)) !== arrangement.year) {
            ctx.addIssue({ code: 'custom', path, message: `${date} 不在 ${arrangement.year} 年 / ${date} is not in ${arrangement.year}` });
          }
          const first = seen.get(date);
          if (first !== undefined) {
            ctx.addIssue({ code: 'custom', path, message: `${date} 重复，已见于 ${first} / ${date} is listed twice, first at ${first}` });
          } else {
            seen.set(date, where);
          }
          if (list === 'workdays' && day(date).weekday <= 5) {
            ctx.addIssue({
              code: 'custom',
              path,
              message: `${date} 是${weekdayZh[day(date).weekday]}，调休上班日应在周末 / ${date} is a ${day(date).weekdayLong ?? 'weekday'}: a make-up working day falls on a Saturday or Sunday`,
            });
          }
        });
      });
    }
  });
export type CalendarYear = z.infer<typeof calendarYearSchema>;

/**
 * `base` with each year of `years` replaced by that arrangement: the year's built-in days are
 * dropped, the arrangement's taken, and the year counts as covered by official data.
 */
export function withYearArrangements(base: CalendarData, years: readonly CalendarYear[]): CalendarData {
  if (years.length === 0) return base;
  const replaced = new Set(years.map((y) => String(y.year)));
  const keep = (date: LocalDate) => !replaced.has(date.slice(0, 4));
  const holidays = new Set([...base.holidays].filter(keep));
  const workdays = new Set([...base.workdays].filter(keep));
  for (const y of years) {
    for (const group of y.holidays) for (const date of group.dates) holidays.add(date);
    for (const group of y.workdays) for (const date of group.dates) workdays.add(date);
  }
  return { holidays, workdays, coveredYears: new Set([...base.coveredYears, ...years.map((y) => y.year)]) };
}


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
    return this.data.coveredYears.has(Number(date.slice(0, 4)));
  }

  /** The years with an official arrangement in the data, in order. */
  get coveredYears(): number[] {
    return [...this.data.coveredYears].sort((a, b) => a - b);
  }

  /**
   * The years from `from`'s to `to`'s (either order) without official data: a working day counted
   * in them knows weekends only, so 1 January or a Spring Festival would count as a working day.
   */
  uncoveredYears(from: LocalDate, to: LocalDate): number[] {
    const [a, b] = [Number(from.slice(0, 4)), Number(to.slice(0, 4))].sort((x, y) => x - y) as [number, number];
    const years: number[] = [];
    for (let y = a; y <= b; y++) if (!this.data.coveredYears.has(y)) years.push(y);
    return years;
  }

  isWorkingDay(date: LocalDate): boolean {
    return this.isWorkingEpochDay(epochDay(date), date);
  }

  private isWorkingEpochDay(epoch: number, date: LocalDate = localDate(epoch)): boolean {
    if (this.data.workdays.has(date)) return true;
    if (this.data.holidays.has(date)) return false;
    return weekdayOf(epoch) <= 5;
  }

  /** Working days d with from < d ≤ to: the length of a window that starts on `from`. */
  workingDaysAfter(from: LocalDate, to: LocalDate): number {
    return this.countWorkingDays(epochDay(from) + 1, epochDay(to) + 1);
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
    let current = epochDay(date);
    if (n === 0) {
      for (let i = 0; !this.isWorkingEpochDay(current); i++) {
        if (i > maxScanDays) throw new Error(`no working day within ${maxScanDays} days of ${date}`);
        current++;
      }
      return localDate(current);
    }
    let counted = 0;
    for (let i = 0; counted < n; i++) {
      if (i > maxScanDays * Math.max(1, n)) throw new Error(`no working day within reach of ${date}`);
      current++;
      if (this.isWorkingEpochDay(current)) counted++;
    }
    return localDate(current);
  }

  /** Working days d with from ≤ d < to (0 when to ≤ from). */
  workingDaysBetween(from: LocalDate, to: LocalDate): number {
    return this.countWorkingDays(epochDay(from), epochDay(to));
  }

  private countWorkingDays(from: number, to: number): number {
    let count = 0;
    for (let current = from; current < to; current++) if (this.isWorkingEpochDay(current)) count++;
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
