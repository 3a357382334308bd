import type { Kysely, Transaction } from 'kysely';
import type { CalendarOverride } from '../domain/calendar';
import type { Database } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;

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
