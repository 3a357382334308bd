import type { Kysely, Transaction } from 'kysely';
import { formatCaseId } from '../domain/case-id';
import { DomainError } from '../domain/errors';
import { type CaseView, type TaskView, toCaseView, toTaskView } from './case.mapper';
import type { CaseTable, Database, TaskTable } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * The case id for an open request. The same `requestKey` always gets the same id, so a retried
 * open starts the same workflow; the same key with a different request is a conflict.
 */
export async function reserveCaseId(
  db: Executor,
  request: { key: string; hash: string; year: number; now: string },
): Promise<string> {
  const existing = async (): Promise<string | undefined> => {
    const row = await db
      .selectFrom('case_open_requests')
      .select(['case_id', 'request_hash'])
      .where('request_key', '=', request.key)
      .executeTakeFirst();
    if (row && row.request_hash !== request.hash) {
      throw new DomainError(
        'conflict',
        `幂等键 ${request.key} 已用于另一个请求 / idempotency key ${request.key} was used for a different request`,
      );
    }
    return row?.case_id;
  };
  const found = await existing();
  if (found) return found;
  // One statement, so concurrent writers never hand out the same number.
  const { last_sequence } = await db
    .insertInto('case_sequences')
    .values({ year: request.year, last_sequence: 1 })
    .onConflict((oc) => oc.column('year').doUpdateSet((eb) => ({ last_sequence: eb('last_sequence', '+', 1) })))
    .returning('last_sequence')
    .executeTakeFirstOrThrow();
  const caseId = formatCaseId(request.year, last_sequence);
  const inserted = await db
    .insertInto('case_open_requests')
    .values({ request_key: request.key, case_id: caseId, request_hash: request.hash, created_at: request.now })
    .onConflict((oc) => oc.column('request_key').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return caseId;
  // Another process reserved this key at the same moment: theirs wins, our number stays unused.
  const winner = await existing();
  if (!winner) throw new Error(`case open request ${request.key} vanished`);
  return winner;
}

/** Writes a case row unless a newer version of it is already stored. */
export async function saveCaseRow(db: Executor, row: CaseTable): Promise<void> {
  const { id: _id, ...changes } = row;
  await db
    .insertInto('cases')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(changes)
        .where((eb) => eb('cases.version', '<', eb.ref('excluded.version'))),
    )
    .execute();
}

/** Writes a task row unless a newer version of it is already stored. */
export async function saveTaskRow(db: Executor, row: TaskTable): Promise<void> {
  const { id: _id, ...changes } = row;
  await db
    .insertInto('tasks')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet(changes)
        .where((eb) => eb('tasks.version', '<', eb.ref('excluded.version'))),
    )
    .execute();
}

export async function findCase(db: Executor, caseId: string): Promise<CaseView | undefined> {
  const row = await db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst();
  return row && toCaseView(row);
}

export async function listCaseTasks(db: Executor, caseId: string): Promise<TaskView[]> {
  const rows = await db.selectFrom('tasks').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
  return rows.map(toTaskView);
}

export interface CaseFilter {
  status?: string | undefined;
  department?: string | undefined;
  limit?: number | undefined;
}

/** Cases newest first, optionally by status and by a department holding one of its tasks. */
export async function listCases(db: Executor, filter: CaseFilter): Promise<CaseView[]> {
  let query = db.selectFrom('cases').selectAll('cases');
  if (filter.status) query = query.where('cases.status', '=', filter.status);
  if (filter.department) {
    const department = filter.department;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('tasks')
          .select('tasks.id')
          .whereRef('tasks.case_id', '=', 'cases.id')
          .where('tasks.department_code', '=', department),
      ),
    );
  }
  const rows = await query
    .orderBy('cases.opened_at', 'desc')
    .orderBy('cases.id', 'desc')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map(toCaseView);
}
