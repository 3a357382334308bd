import { DateTime, IANAZone } from 'luxon';
import { DomainError } from './errors';

/** The calendar year of `instant` in `zone`. */
export function yearIn(instant: Date, zone: string): number {
  return DateTime.fromJSDate(instant, { zone }).year;
}

const offsets = new Map<string, number>();

/** A zone's UTC offset in minutes at `ms`; zones change offset only on quarter hours, so cache by those. */
function offsetAt(zone: string, ms: number): number {
  const key = `${zone}|${Math.floor(ms / 900_000)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    if (offsets.size > 50_000) offsets.clear();
    offset = IANAZone.create(zone).offset(ms);
    offsets.set(key, offset);
  }
  return offset;
}

/** An ISO 8601 instant shown in `zone` with its offset, e.g. 2026-11-25T19:30:00.000+08:00. */
export function formatInstant(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an ISO 8601 instant: ${iso}`);
  // The zone's offset at that instant, then plain arithmetic: far cheaper than a zoned DateTime,
  // and lists format thousands of instants.
  const offset = offsetAt(zone, ms);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, -1);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
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

const utcInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * A copy of `value` with every ISO 8601 UTC instant in it (at any depth) shown in `zone` with
 * its offset, for people reading it in the office's time.
 */
export function localiseInstants<T>(value: T, zone: string): T {
  if (typeof value === 'string') return (utcInstant.test(value) ? formatInstant(value, zone) : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => localiseInstants(v, zone)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localiseInstants(v, zone)])) as T;
  }
  return value;
}
