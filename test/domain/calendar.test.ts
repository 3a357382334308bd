import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { WorkingCalendar, withOverrides } from '../../domain/calendar';
import { officialCalendarData } from '../../services/official-calendar';

const calendar = new WorkingCalendar('Asia/Shanghai', officialCalendarData());

/**
 * Make-up working days (调休上班) and the Spring Festival and National Day breaks, as published in
 * the State Council's notice on each year's holiday arrangement (国务院办公厅关于…年部分节假日安排的通知),
 * 2020 with the Spring Festival extension to 2 February.
 */
const official: Record<number, { makeUp: string[]; springFestival: [string, string]; nationalDay: [string, string] }> = {
  2018: { makeUp: ['02-11', '02-24', '04-08', '04-28', '09-29', '09-30', '12-29'], springFestival: ['02-15', '02-21'], nationalDay: ['10-01', '10-07'] },
  2019: { makeUp: ['02-02', '02-03', '04-28', '05-05', '09-29', '10-12'], springFestival: ['02-04', '02-10'], nationalDay: ['10-01', '10-07'] },
  2020: { makeUp: ['01-19', '04-26', '05-09', '06-28', '09-27', '10-10'], springFestival: ['01-24', '02-02'], nationalDay: ['10-01', '10-08'] },
  2021: { makeUp: ['02-07', '02-20', '04-25', '05-08', '09-18', '09-26', '10-09'], springFestival: ['02-11', '02-17'], nationalDay: ['10-01', '10-07'] },
  2022: { makeUp: ['01-29', '01-30', '04-02', '04-24', '05-07', '10-08', '10-09'], springFestival: ['01-31', '02-06'], nationalDay: ['10-01', '10-07'] },
  2023: { makeUp: ['01-28', '01-29', '04-23', '05-06', '06-25', '10-07', '10-08'], springFestival: ['01-21', '01-27'], nationalDay: ['09-29', '10-06'] },
  2024: { makeUp: ['02-04', '02-18', '04-07', '04-28', '05-11', '09-14', '09-29', '10-12'], springFestival: ['02-10', '02-17'], nationalDay: ['10-01', '10-07'] },
  2025: { makeUp: ['01-26', '02-08', '04-27', '09-28', '10-11'], springFestival: ['01-28', '02-04'], nationalDay: ['10-01', '10-08'] },
  2026: { makeUp: ['01-04', '02-14', '02-28', '05-09', '09-20', '10-10'], springFestival: ['02-15', '02-23'], nationalDay: ['10-01', '10-07'] },
};

function daysOf(year: number): string[] {
  const out: string[] = [];
  for (let d = DateTime.utc(year, 1, 1); d.year === year; d = d.plus({ days: 1 })) out.push(d.toISODate()!);
  return out;
}

describe('working-day calendar against the official arrangements', () => {
  it.each(Object.keys(official).map(Number))('%i: make-up days work, the breaks rest', (year) => {
    const { makeUp, springFestival, nationalDay } = official[year]!;
    const weekendWorkdays = daysOf(year).filter((d) => DateTime.fromISO(d).weekday > 5 && calendar.isWorkingDay(d));
    expect(weekendWorkdays).toEqual(makeUp.map((md) => `${year}-${md}`));
    for (const [from, to] of [springFestival, nationalDay]) {
      const span = daysOf(year).filter((d) => d >= `${year}-${from}` && d <= `${year}-${to}`);
      expect(span.filter((d) => calendar.isWorkingDay(d))).toEqual([]);
      // The days around a break are working days unless they are a weekend.
      const before = DateTime.fromISO(`${year}-${from}`).minus({ days: 1 });
      if (before.weekday <= 5) expect(calendar.isWorkingDay(before.toISODate()!)).toBe(true);
    }
    expect(calendar.covers(`${year}-06-01`)).toBe(true);
  });

  /** 正月初一, the first day of the Spring Festival, per year. */
  const lunarNewYear: Record<number, string> = {
    2004: '01-22', 2005: '02-09', 2006: '01-29', 2007: '02-18', 2008: '02-07', 2009: '01-26', 2010: '02-14',
    2011: '02-03', 2012: '01-23', 2013: '02-10', 2014: '01-31', 2015: '02-19', 2016: '02-08', 2017: '01-28',
    2018: '02-16', 2019: '02-05', 2020: '01-25', 2021: '02-12', 2022: '02-01', 2023: '01-22', 2024: '02-10',
    2025: '01-29', 2026: '02-17',
  };

  it.each(Object.keys(lunarNewYear).map(Number))('%i: the statutory days rest and make-up days fall on weekends', (year) => {
    // New Year's Day, the Spring Festival's first day, Labour Day and National Day's first three days.
    for (const md of ['01-01', lunarNewYear[year]!, '05-01', '10-01', '10-02', '10-03']) {
      expect(calendar.isWorkingDay(`${year}-${md}`), `${year}-${md}`).toBe(false);
    }
    // Before 2008, Labour Day was a week-long break (a "golden week").
    if (year < 2008) expect(daysOf(year).filter((d) => d >= `${year}-05-01` && d <= `${year}-05-07` && calendar.isWorkingDay(d))).toEqual([]);
    const official = officialCalendarData();
    for (const d of [...official.workdays].filter((w) => w.startsWith(String(year)))) {
      expect(DateTime.fromISO(d).weekday, d).toBeGreaterThan(5);
    }
  });

  it('counts a make-up Saturday as a working day', () => {
    // Friday 13 Feb 2026, before the Spring Festival: the next working day is Saturday the 14th.
    expect(calendar.nthWorkingDayAfter('2026-02-13', 1)).toBe('2026-02-14');
    expect(calendar.nthWorkingDayAfter('2026-02-13', 2)).toBe('2026-02-24');
    // Sunday 4 Jan 2026 is worked; Saturday 3 Jan is not.
    expect(calendar.isWorkingDay('2026-01-03')).toBe(false);
    expect(calendar.isWorkingDay('2026-01-04')).toBe(true);
  });

  it('adds working days across weekends and holidays to the end of the day in the office zone', () => {
    // Friday 27 Nov 2026, one working day: Monday 30 Nov, 23:59:59.999 in Shanghai.
    expect(calendar.dueAfter('2026-11-27T07:00:00.000Z', 1)).toBe('2026-11-30T15:59:59.999Z');
    // Assigned late on Friday evening in Shanghai (still Friday there, already... UTC Friday too).
    expect(calendar.dueAfter('2026-11-27T15:30:00.000Z', 1)).toBe('2026-11-30T15:59:59.999Z');
    // 16:30 UTC Friday is Saturday 00:30 in Shanghai: one working day is still Monday.
    expect(calendar.dueAfter('2026-11-27T16:30:00.000Z', 1)).toBe('2026-11-30T15:59:59.999Z');
    // Over the 2026 National Day: 30 Sep + 3 working days = 8, 9 Oct and the make-up Saturday 10 Oct.
    expect(calendar.nthWorkingDayAfter('2026-09-30', 3)).toBe('2026-10-10');
    // 15 working days from Monday 1 June 2026 skip the Dragon Boat Festival (19 June).
    expect(calendar.nthWorkingDayAfter('2026-06-01', 15)).toBe('2026-06-23');
    expect(calendar.nthWorkingDayAfter('2026-06-20', 0)).toBe('2026-06-22');
  });

  it('counts the working days between two dates', () => {
    expect(calendar.workingDaysBetween('2026-11-24', '2026-11-24')).toBe(0);
    expect(calendar.workingDaysBetween('2026-11-24', '2026-11-25')).toBe(1);
    expect(calendar.workingDaysBetween('2026-11-27', '2026-11-30')).toBe(1);
    expect(calendar.workingDaysBetween('2026-09-28', '2026-10-12')).toBe(6); // 28, 29, 30 Sep, 8, 9 Oct and the make-up Saturday 10 Oct
  });

  it('applies local overrides over the official data', () => {
    const local = new WorkingCalendar(
      'Asia/Shanghai',
      withOverrides(officialCalendarData(), [
        { date: '2026-12-24', kind: 'holiday', note: '区机关停电检修' },
        { date: '2026-12-26', kind: 'workday' },
      ]),
    );
    expect(local.isWorkingDay('2026-12-24')).toBe(false);
    expect(local.isWorkingDay('2026-12-26')).toBe(true);
    expect(local.nthWorkingDayAfter('2026-12-23', 2)).toBe('2026-12-26');
    expect(calendar.isWorkingDay('2026-12-24')).toBe(true);
  });

  it('agrees, day by day, with the same rules counted through luxon, over years, leap days and the year 2100 included', () => {
    const data = officialCalendarData();
    // The rules as they read: the official lists first, then Monday to Friday.
    const working = (d: string) => data.workdays.has(d) || (!data.holidays.has(d) && DateTime.fromISO(d, { zone: 'utc' }).weekday <= 5);
    const next = (d: string) => DateTime.fromISO(d, { zone: 'utc' }).plus({ days: 1 }).toISODate()!;
    const days = [1969, 2000, 2024, 2025, 2026, 2100].flatMap(daysOf);
    for (const [i, d] of days.entries()) {
      expect(calendar.isWorkingDay(d), d).toBe(working(d));
      if (i % 7 !== 0) continue;
      for (const n of [0, 1, 5, 22]) {
        let expected = d;
        if (n === 0) while (!working(expected)) expected = next(expected);
        for (let counted = 0; counted < n; ) {
          expected = next(expected);
          if (working(expected)) counted++;
        }
        expect(calendar.nthWorkingDayAfter(d, n), `${d} + ${n}`).toBe(expected);
        let between = 0;
        for (let x = d; x < expected; x = next(x)) if (working(x)) between++;
        expect(calendar.workingDaysBetween(d, expected), `${d} .. ${expected}`).toBe(between);
        expect(calendar.workingDaysAfter(d, expected), `${d} .. ${expected}`).toBe(between - Number(working(d)) + Number(working(expected)));
      }
    }
  });

  it('refuses what is not a calendar date', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-1-5', 'tomorrow', '']) {
      expect(() => calendar.isWorkingDay(bad), bad).toThrow(RangeError);
      expect(() => calendar.nthWorkingDayAfter(bad, 1), bad).toThrow(RangeError);
    }
  });

  it('knows which years it covers', () => {
    expect(calendar.covers('2004-05-01')).toBe(true);
    expect(calendar.covers('2027-05-01')).toBe(false);
  });
});
