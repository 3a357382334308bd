import fs from 'node:fs';
import path from 'node:path';
import officialDays from 'chinese-days/dist/chinese-days.json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadlineActivities, type DeadlineLogger } from '../activities/deadline.activities';
import { type CalendarYear, calendarYearSchema } from '../domain/calendar';
import { deadlineWarnings } from '../domain/calendar-coverage';
import { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import type { Db } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import { calendarCoverage, createCalendarService } from '../services/calendar.service';
import { createPolicySource } from '../services/policy.source';
import { dumpReadModel, tempDatabase } from './support/database';

const zone = 'Asia/Shanghai';

/** The JSON example under "Importing a year" in docs/deadlines.md. */
function documentedExample(): unknown {
  const docs = fs.readFileSync(path.join(__dirname, '..', 'docs', 'deadlines.md'), 'utf8');
  const section = docs.slice(docs.indexOf('### Importing a year'));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  if (!block) throw new Error('docs/deadlines.md has no JSON example under "Importing a year"');
  return JSON.parse(block[1]!) as unknown;
}

const the2026 = () => parseInput(calendarYearSchema, documentedExample(), 'calendar year');
const datesOf = (groups: CalendarYear['holidays']) => groups.flatMap((g) => g.dates).sort();

/** A 2027 arrangement in the import format (for the tests; not a published notice). */
const year2027 = {
  year: 2027,
  holidays: [
    { name: '元旦', dates: ['2027-01-01', '2027-01-02', '2027-01-03'] },
    { name: '春节', dates: ['2027-02-06', '2027-02-07', '2027-02-08', '2027-02-09', '2027-02-10', '2027-02-11', '2027-02-12'] },
  ],
  workdays: [{ name: '春节', dates: ['2027-02-14'] }],
};

/** The issues parseInput names for `input`, as "path: message". */
function issues(input: unknown): string[] {
  try {
    parseInput(calendarYearSchema, input, 'calendar year');
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).details.map((d) => `${d.path}: ${d.message}`);
  }
  throw new Error('accepted');
}

describe('the calendar import format', () => {
  it('documents the real 2026 arrangement: the example in docs/deadlines.md is the chinese-days data for 2026', () => {
    const year = the2026();
    const official = (days: Record<string, string>) => Object.keys(days).filter((d) => d.startsWith('2026-')).sort();
    expect(datesOf(year.holidays)).toEqual(official(officialDays.holidays));
    expect(datesOf(year.workdays)).toEqual(official(officialDays.workdays));
    // Each group carries the holiday's Chinese name as chinese-days records it.
    for (const group of [...year.holidays, ...year.workdays]) {
      for (const date of group.dates) {
        const name = ((officialDays.holidays as Record<string, string>)[date] ?? (officialDays.workdays as Record<string, string>)[date])!;
        expect(name.split(',')[1], date).toBe(group.name);
      }
    }
  });

  it('refuses bad input, naming the field', () => {
    expect(issues({ ...year2027, holidays: [{ name: '元旦', dates: ['2027-01-01', '2028-01-02'] }] })).toEqual([
      'holidays[0].dates[1]: 2028-01-02 不在 2027 年 / 2028-01-02 is not in 2027',
    ]);
    expect(issues({ ...year2027, workdays: [{ name: '元旦', dates: ['2027-01-02'] }] })).toEqual([
      'workdays[0].dates[0]: 2027-01-02 重复，已见于 holidays[0].dates[1] / 2027-01-02 is listed twice, first at holidays[0].dates[1]',
    ]);
    expect(issues({ ...year2027, workdays: [{ name: '春节', dates: ['2027-02-15'] }] })).toEqual([
      'workdays[0].dates[0]: 2027-02-15 是星期一，调休上班日应在周末 / 2027-02-15 is a Monday: a make-up working day falls on a Saturday or Sunday',
    ]);
    expect(issues({ ...year2027, holidays: [{ name: '春节', dates: ['2027-02-30'] }] })[0]).toMatch(/^holidays\[0\]\.dates\[0\]: /);
    expect(issues({ ...year2027, holiday: [] })).toEqual(['holiday: 不允许的字段 / unknown field "holiday"']);
    expect(issues({ holidays: year2027.holidays })[0]).toMatch(/^year: /);
    expect(issues({ ...year2027, holidays: [{ name: ' ', dates: ['2027-01-01'] }] })[0]).toMatch(/^holidays\[0\]\.name: /);
  });
});

describe('imported years in a real read model', () => {
  let db: Db;
  let file: string;
  beforeAll(async () => {
    ({ db, file } = await tempDatabase());
  });
  afterAll(() => db?.destroy());

  it('counts an imported year as covered by official data, with its holidays and make-up days', async () => {
    const service = createCalendarService({ db, timeZone: zone });
    const before = await service.calendar();
    expect(before.covers('2027-05-01')).toBe(false);
    // Weekends only: New Year's Day, a Friday, would be a working day.
    expect(before.nthWorkingDayAfter('2026-12-31', 1)).toBe('2027-01-01');

    expect(await service.importYear(year2027, '督查科 王五', '2026-11-29T02:00:00.000Z')).toMatchObject({ replaced: false });
    const after = await service.calendar();
    expect(after.covers('2027-05-01')).toBe(true);
    expect(after.isWorkingDay('2027-01-01')).toBe(false);
    expect(after.nthWorkingDayAfter('2026-12-31', 1)).toBe('2027-01-04');
    expect(after.isWorkingDay('2027-02-14')).toBe(true); // a make-up Sunday
    expect(after.isWorkingDay('2027-02-12')).toBe(false); // a Friday inside the Spring Festival
    expect(await service.listYears()).toEqual([
      { ...year2027, importedAt: '2026-11-29T02:00:00.000Z', importedBy: '督查科 王五' },
    ]);
  });

  it('replaces the built-in arrangement of a year it imports, and an earlier import of that year', async () => {
    const service = createCalendarService({ db, timeZone: zone });
    const official = the2026();
    // The same year with National Day one day longer and its make-up Saturday dropped.
    const amended = {
      ...official,
      holidays: official.holidays.map((g) => (g.name === '国庆节' ? { ...g, dates: [...g.dates, '2026-10-08'] } : g)),
      workdays: official.workdays.map((g) => (g.name === '国庆节' ? { ...g, dates: ['2026-09-20'] } : g)),
    };
    expect(await service.importYear(amended, 'tester', '2026-11-29T03:00:00.000Z')).toMatchObject({ replaced: false });
    let calendar = await service.calendar();
    expect(calendar.isWorkingDay('2026-10-08')).toBe(false);
    expect(calendar.isWorkingDay('2026-10-10')).toBe(false);
    expect(calendar.isWorkingDay('2026-01-04')).toBe(true);

    expect(await service.importYear(official, 'tester', '2026-11-29T04:00:00.000Z')).toMatchObject({ replaced: true });
    calendar = await service.calendar();
    expect(calendar.isWorkingDay('2026-10-08')).toBe(true);
    expect(calendar.isWorkingDay('2026-10-10')).toBe(true);
    expect((await service.listYears()).map((y) => [y.year, y.importedAt])).toEqual([
      [2026, '2026-11-29T04:00:00.000Z'],
      [2027, '2026-11-29T02:00:00.000Z'],
    ]);
    expect((await service.coverage(new Date('2026-11-29T00:00:00Z'))).importedYears).toEqual([2026, 2027]);
  });

  it('imports the same year twice at once, one import after the other', async () => {
    const service = createCalendarService({ db, timeZone: zone });
    const imports = ['科员甲', '科员乙'].map((by) => service.importYear(year2027, by, '2026-11-29T06:00:00.000Z'));
    expect((await Promise.all(imports)).map((r) => r.replaced)).toEqual([true, true]);
    const stored = (await service.listYears()).filter((y) => y.year === 2027);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ holidays: year2027.holidays, workdays: year2027.workdays });
  });

  it('stores nothing when the input is invalid', async () => {
    const service = createCalendarService({ db, timeZone: zone });
    const before = await dumpReadModel(file);
    const bad = { ...year2027, year: 2028 };
    const error = await service.importYear(bad, 'tester', '2026-11-29T05:00:00.000Z').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid_input');
    expect((error as DomainError).details[0]?.path).toBe('holidays[0].dates[0]');
    expect(await dumpReadModel(file)).toBe(before);
  });
});

describe('deadlines counted across a year without official data', () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
  });
  afterAll(() => db?.destroy());

  it('are logged by the deadline activities as structured warnings, and not once the year is imported', async () => {
    const logged: { message: string; attributes: Record<string, unknown> }[] = [];
    const logger: DeadlineLogger = { warn: (message, attributes) => logged.push({ message, attributes }) };
    const activities = createDeadlineActivities({
      calendar: createCalendarSource({ db, timeZone: zone }),
      policy: createPolicySource(undefined),
      logger,
    });
    // Monday 21 Dec 2026, 10:00 in Shanghai; 15 working days (general).
    const input = { assignedAt: '2026-12-21T02:00:00.000Z', severity: 'general' as const, category: '市容秩序' };
    const uncovered = await activities.computeDeadlines(input);
    // Weekends only in 2027: 1 January counts, so the 15th working day is Monday 11 January.
    expect(uncovered.rectificationDueAt).toBe('2027-01-11T15:59:59.999Z');
    expect(logged).toEqual([
      {
        message: expect.stringContaining('deadline counted across a year without official holiday data'),
        attributes: { deadline: 'rectification', from: input.assignedAt, to: uncovered.rectificationDueAt, uncoveredYears: [2027] },
      },
    ]);

    logged.length = 0;
    await activities.extendDeadline({ dueAt: '2026-12-30T15:59:59.999Z', workingDays: 3 });
    await activities.shiftForSuspension({
      since: '2026-12-28T02:00:00.000Z',
      until: '2027-01-05T02:00:00.000Z',
      ackDueAt: null,
      rectificationDueAt: '2026-12-31T15:59:59.999Z',
    });
    expect(logged.map((l) => [l.attributes.deadline, l.attributes.uncoveredYears])).toEqual([
      ['extension', [2027]],
      ['suspension', [2027]],
      ['suspension', [2027]],
    ]);

    logged.length = 0;
    await createCalendarService({ db, timeZone: zone }).importYear(year2027, 'tester', '2026-11-29T02:00:00.000Z');
    const covered = await activities.computeDeadlines(input);
    expect(covered.rectificationDueAt).toBe('2027-01-12T15:59:59.999Z');
    expect(logged).toEqual([]);
  });

  it('are listed for a case’s live deadlines, not for finished tasks or an acknowledged task’s acknowledgement', async () => {
    const { db: fresh } = await tempDatabase();
    const calendar = await createCalendarSource({ db: fresh, timeZone: zone })();
    await fresh.destroy();
    const task = {
      id: 'DB-2026-000009-T1',
      live: true,
      assignedAt: '2026-12-21T10:00:00.000+08:00',
      acknowledgedAt: null,
      ackDueAt: '2026-12-22T23:59:59.999+08:00',
      rectificationDueAt: '2027-01-11T23:59:59.999+08:00',
    };
    const warnings = deadlineWarnings(calendar, [
      task,
      { ...task, id: 'DB-2026-000009-T2', ackDueAt: '2027-01-04T23:59:59.999+08:00' },
      { ...task, id: 'DB-2026-000009-T3', acknowledgedAt: '2026-12-21T11:00:00.000+08:00', ackDueAt: '2027-01-04T23:59:59.999+08:00' },
      { ...task, id: 'DB-2026-000009-T4', live: false },
      { ...task, id: 'DB-2026-000009-T5', rectificationDueAt: '2026-12-31T23:59:59.999+08:00' },
    ]);
    expect(warnings.map((w) => [w.taskId, w.deadline, w.years])).toEqual([
      ['DB-2026-000009-T1', 'rectificationDueAt', [2027]],
      ['DB-2026-000009-T2', 'ackDueAt', [2027]],
      ['DB-2026-000009-T2', 'rectificationDueAt', [2027]],
      ['DB-2026-000009-T3', 'rectificationDueAt', [2027]],
    ]);
    expect(warnings[0]).toMatchObject({ code: 'calendar_not_covered', dueAt: task.rectificationDueAt, message: expect.stringContaining('duban calendar import') });
  });

  it('show in the coverage when this year or the next (in the office’s time zone) has no official data', async () => {
    const { db: fresh } = await tempDatabase();
    try {
      // 17:00 UTC on 31 Dec 2026 is already 2027 in Shanghai, still 2026 in UTC.
      const lateOnNewYearsEve = new Date('2026-12-31T17:00:00.000Z');
      const shanghai = await calendarCoverage(fresh, zone, lateOnNewYearsEve);
      expect(shanghai.officialYears).toEqual(Array.from({ length: 23 }, (_, i) => 2004 + i));
      expect(shanghai.warnings.map((w) => /no official holiday arrangement for (\d{4})/.exec(w)?.[1])).toEqual(['2027', '2028']);
      expect((await calendarCoverage(fresh, 'UTC', lateOnNewYearsEve)).warnings).toHaveLength(1);
      await createCalendarService({ db: fresh, timeZone: zone }).importYear(year2027, 'tester', '2026-11-29T02:00:00.000Z');
      const imported = await calendarCoverage(fresh, zone, lateOnNewYearsEve);
      expect(imported.importedYears).toEqual([2027]);
      expect(imported.warnings.map((w) => /for (\d{4})/.exec(w)?.[1])).toEqual(['2028']);
    } finally {
      await fresh.destroy();
    }
  });
});
