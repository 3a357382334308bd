import { DateTime } from 'luxon';
import { DomainError } from './errors';

/** The calendar year of `instant` in `zone`. */
export function yearIn(instant: Date, zone: string): number {
  return DateTime.fromJSDate(instant, { zone }).year;
}

/** An ISO 8601 instant shown in `zone` with its offset, e.g. 2026-11-25T19:30:00.000+08:00. */
export function formatInstant(iso: string, zone: string): string {
  const dt = DateTime.fromISO(iso, { zone: 'utc' });
  if (!dt.isValid) throw new Error(`not an ISO 8601 instant: ${iso}`);
  return dt.setZone(zone).toISO({ suppressMilliseconds: true }) ?? iso;
}

/**
 * The instant a due date means: a plain date is the end of that day in `zone`; a date-time
 * keeps its own offset. Returned as an ISO 8601 UTC instant.
 */
export function dueInstant(dueDate: string, zone: string): string {
  const dt = /^\d{4}-\d{2}-\d{2}$/.test(dueDate)
    ? DateTime.fromISO(dueDate, { zone }).endOf('day')
    : DateTime.fromISO(dueDate, { setZone: true });
  if (!dt.isValid) {
    throw new DomainError('invalid_input', `dueDate: 无效日期 / not a valid date: ${dueDate}`, [
      { path: 'dueDate', message: 'not a valid date' },
    ]);
  }
  return dt.toUTC().toISO() ?? dueDate;
}
