import officialDays from 'chinese-days/dist/chinese-days.json';
import type { CalendarData } from '../domain/calendar';

/**
 * The State Council's holiday arrangements (国务院办公厅关于…年部分节假日安排的通知) as carried by the
 * chinese-days package, 2004 onwards, later amendments included (e.g. the 2020 Spring Festival
 * extension). Local closures and new years' arrangements come as overrides on top.
 */
let cached: CalendarData | undefined;

export function officialCalendarData(): CalendarData {
  if (cached) return cached;
  const holidays = new Set(Object.keys(officialDays.holidays));
  const workdays = new Set(Object.keys(officialDays.workdays));
  cached = Object.freeze({
    holidays,
    workdays,
    coveredYears: new Set([...holidays].map((d) => Number(d.slice(0, 4)))),
  });
  return cached;
}
