import type { Transaction } from 'kysely';
import type { CalendarOverride, CalendarYear } from '../domain/calendar';
import type { Database } from './schema';
import type { Executor } from './database';

/** Local calendar days the office set at run time, by date. */
export async function listCalendarDays(db: Executor): Promise<CalendarOverride[]> {
  const rows = await db.selectFrom('calendar_days').selectAll().orderBy('date').execute();
  return rows.map((r) => ({
    date: r.date,
    kind: r.kind as CalendarOverride['kind'],
    ...(r.note ? { note: r.note } : {}),
  }));
}

/** Sets (or replaces) a local calendar day. */
export async function setCalendarDay(db: Executor, day: CalendarOverride, now: string): Promise<void> {
  await db
    .insertInto('calendar_days')
    .values({ date: day.date, kind: day.kind, note: day.note ?? null, created_at: now })
    .onConflict((oc) => oc.column('date').doUpdateSet({ kind: day.kind, note: day.note ?? null, created_at: now }))
    .execute();
}

/** Removes a local calendar day; false when there was none. */
export async function removeCalendarDay(db: Executor, date: string): Promise<boolean> {
  const result = await db.deleteFrom('calendar_days').where('date', '=', date).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** An imported year's arrangement with when and by whom it was imported. */
export interface StoredCalendarYear extends CalendarYear {
  readonly importedAt: string;
  readonly importedBy: string;
}

/**
 * Stores a year's official arrangement, replacing whatever was imported for that year before
 * (true when it did). Run it in a transaction: the year's days are deleted and written again.
 */
export async function saveCalendarYear(db: Transaction<Database>, year: CalendarYear, importedBy: string, now: string): Promise<boolean> {
  const before = await db.selectFrom('calendar_years').select('year').where('year', '=', year.year).executeTakeFirst();
  const row = { notice: year.notice ?? null, imported_at: now, imported_by: importedBy };
  // The year's row first: a concurrent import of the same year waits here for this one to end
  // (PostgreSQL), then deletes the days it wrote instead of colliding with them.
  await db
    .insertInto('calendar_years')
    .values({ year: year.year, ...row })
    .onConflict((oc) => oc.column('year').doUpdateSet(row))
    .execute();
  await db.deleteFrom('calendar_year_days').where('year', '=', year.year).execute();
  const days = [
    ...year.holidays.flatMap((g) => g.dates.map((date) => ({ date, year: year.year, kind: 'holiday', name: g.name }))),
    ...year.workdays.flatMap((g) => g.dates.map((date) => ({ date, year: year.year, kind: 'workday', name: g.name }))),
  ];
  await db.insertInto('calendar_year_days').values(days).execute();
  return before !== undefined;
}

/** Every imported year, its days grouped by holiday name in date order. */
export async function listCalendarYears(db: Executor): Promise<StoredCalendarYear[]> {
  const years = await db.selectFrom('calendar_years').selectAll().orderBy('year').execute();
  if (years.length === 0) return [];
  const days = await db.selectFrom('calendar_year_days').selectAll().orderBy('date').execute();
  return years.map((y) => {
    const groups = (kind: string) => {
      const byName = new Map<string, string[]>();
      for (const d of days) {
        if (d.year !== y.year || d.kind !== kind) continue;
        byName.set(d.name, [...(byName.get(d.name) ?? []), d.date]);
      }
      return [...byName].map(([name, dates]) => ({ name, dates }));
    };
    return {
      year: y.year,
      ...(y.notice !== null ? { notice: y.notice } : {}),
      holidays: groups('holiday'),
      workdays: groups('workday'),
      importedAt: y.imported_at,
      importedBy: y.imported_by,
    };
  });
}
