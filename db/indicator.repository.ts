import { sql } from 'kysely';
import { indicatorActions, indicatorPayloadActions, type IndicatorCase, type IndicatorEvent } from '../domain/indicators';
import type { Executor } from './database';

/**
 * A page of the cases whose tasks can count in a range of instants, in id order after `afterId`:
 * opened by its end, and not finished before its start, or with an event inside it (a rating, a
 * reopening of a case closed earlier). Reads only the columns the indicators need.
 */
export async function listIndicatorCases(
  db: Executor,
  range: { readonly start: string; readonly end: string },
  afterId: string | null,
  limit: number,
): Promise<IndicatorCase[]> {
  let query = db
    .selectFrom('cases as c')
    .select(['c.id', 'c.source', 'c.lead_department'])
    .where('c.opened_at', '<=', range.end)
    .where((eb) =>
      eb.or([
        eb('c.closed_at', 'is', null),
        eb('c.closed_at', '>=', range.start),
        // events_case (case_id, at, position) answers this with one seek per case.
        eb.exists(
          eb
            .selectFrom('events as e')
            .select(sql.lit(1).as('one'))
            .whereRef('e.case_id', '=', 'c.id')
            .where('e.at', '>=', range.start)
            .where('e.at', '<=', range.end),
        ),
      ]),
    )
    .orderBy('c.id')
    .limit(limit);
  if (afterId !== null) query = query.where('c.id', '>', afterId);
  const rows = await query.execute();
  return rows.map((r) => ({ id: r.id, source: r.source, leadDepartment: r.lead_department }));
}

/**
 * The events the indicators read of `caseIds`, up to `end`, grouped by case in the order they
 * happened. Payloads only of the actions whose payload they read (never the reports, evidence or
 * descriptions), through the events_case index.
 */
export async function listIndicatorEvents(
  db: Executor,
  caseIds: readonly string[],
  end: string,
): Promise<Map<string, IndicatorEvent[]>> {
  const byCase = new Map<string, IndicatorEvent[]>(caseIds.map((id) => [id, []]));
  if (caseIds.length === 0) return byCase;
  const rows = await db
    .selectFrom('events')
    .select([
      'case_id',
      'task_id',
      'action',
      'at',
      sql<string>`CASE WHEN action IN (${sql.join(indicatorPayloadActions)}) THEN payload ELSE '{}' END`.as('payload'),
    ])
    .where('case_id', 'in', caseIds)
    .where('at', '<=', end)
    .where('action', 'in', [...indicatorActions])
    .orderBy('case_id')
    .orderBy('at')
    .orderBy('position')
    .execute();
  for (const row of rows) {
    byCase.get(row.case_id)?.push({
      taskId: row.task_id,
      action: row.action,
      at: row.at,
      payload: JSON.parse(row.payload) as Record<string, unknown>,
    });
  }
  return byCase;
}
