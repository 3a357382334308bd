import { DateTime } from 'luxon';
import type { WorkingCalendar } from '../domain/calendar';
import type { DepartmentIndicators, Period } from '../domain/indicator.types';
import { IndicatorAccumulator } from '../domain/indicators';
import type { Db } from '../db/database';
import { listDepartments } from '../db/department.repository';
import { listIndicatorCases, listIndicatorEvents } from '../db/indicator.repository';

/** Cases read per page: their events come in one query per page. */
const defaultPageSize = 500;

/**
 * Indicators computed from the audit trail in the read model (domain/indicators.ts does the
 * counting): the cases concerned are read a page at a time, each page's events in one query, so
 * a year of 100,000 cases never sits in memory at once.
 */
export function createIndicatorService(deps: { db: Db; calendar: () => Promise<WorkingCalendar>; pageSize?: number }) {
  const pageSize = deps.pageSize ?? defaultPageSize;
  return {
    /**
     * The indicators of each series of periods (each series in order, its periods apart), for
     * every department or only those of `only`, reading the trail once for all of them.
     */
    async series(seriesList: readonly (readonly Period[])[], only?: ReadonlySet<string>): Promise<DepartmentIndicators[][][]> {
      const calendar = await deps.calendar();
      const departments = (await listDepartments(deps.db)).map((d) => ({ code: d.code, name: d.name }));
      const accumulators = seriesList.map((periods) => new IndicatorAccumulator(periods, calendar, departments, only));
      const all = seriesList.flat();
      const first = all.reduce((a, p) => (p.from < a ? p.from : a), all[0]!.from);
      const last = all.reduce((a, p) => (p.to > a ? p.to : a), all[0]!.to);
      const range = {
        start: DateTime.fromISO(first, { zone: calendar.zone }).startOf('day').toUTC().toISO()!,
        end: DateTime.fromISO(last, { zone: calendar.zone }).endOf('day').toUTC().toISO()!,
      };
      let afterId: string | null = null;
      for (;;) {
        const cases = await listIndicatorCases(deps.db, range, afterId, pageSize);
        if (cases.length === 0) break;
        const events = await listIndicatorEvents(deps.db, cases.map((c) => c.id), range.end);
        for (const kase of cases) {
          const trail = events.get(kase.id) ?? [];
          for (const acc of accumulators) acc.addCase(kase, trail);
        }
        afterId = cases.at(-1)!.id;
        if (cases.length < pageSize) break;
      }
      return accumulators.map((acc) => acc.result());
    },

    /** The indicators of one period for every department (or those of `only`). */
    async period(period: Period, only?: ReadonlySet<string>): Promise<DepartmentIndicators[]> {
      return (await this.series([[period]], only))[0]![0]!;
    },
  };
}
export type IndicatorService = ReturnType<typeof createIndicatorService>;
