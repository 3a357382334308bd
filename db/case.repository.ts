import { sql } from 'kysely';
import { formatCaseId } from '../domain/case-id';
import { DomainError } from '../domain/errors';
import { type CaseView, type TaskView, toCaseView, toTaskView } from './case.mapper';
import { caseTextMatch } from './case-search';
import type { CaseTable, TaskTable } from './schema';
import type { Executor } from './database';
import { dialectOf, greatest } from './dialect';

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
    .onConflict((oc) => oc.column('year').doUpdateSet((eb) => ({ last_sequence: eb('case_sequences.last_sequence', '+', 1) })))
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

/**
 * Whether a snapshot being written (`excluded`) replaces the one stored in `table`: a later attempt
 * of the writer's workflow task (a higher fence) wins whatever the versions (the stored one was a
 * dead attempt's), the same attempt's later version wins, and a workflow's own snapshot (version
 * 1 on) wins over the initial row another wrote (version 0: a task's row written by its case),
 * and never the other way round, however two workflows' clocks compare.
 */
export function snapshotSupersedes(table: 'cases' | 'tasks' | 'case_follow_ups') {
  const stored = (column: 'version' | 'fence') => sql.ref(`${table}.${column}`);
  return sql<boolean>`(excluded.version > 0 and ${stored('version')} = 0) or (
    (excluded.version = 0) = (${stored('version')} = 0) and (
      ${stored('fence')} < excluded.fence or (${stored('fence')} = excluded.fence and ${stored('version')} < excluded.version)))`;
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
        .where(snapshotSupersedes('cases')),
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
        .where(snapshotSupersedes('tasks')),
    )
    .execute();
}

/**
 * Makes the calling transaction the only writer of these cases' rows (and so of their aggregates)
 * until it ends. SQLite has one writer at a time anyway; PostgreSQL's read-committed transactions
 * would otherwise run side by side, and two task workflows of one case, each recomputing the
 * case's aggregates, could each miss the other's task. Locks in id order, so that two callers
 * never deadlock over several cases.
 */
export async function lockCaseRows(db: Executor, caseIds: readonly string[]): Promise<void> {
  if (caseIds.length === 0) return;
  if (dialectOf(db) === 'postgres') {
    await db.selectFrom('cases').select('id').where('id', 'in', [...caseIds]).orderBy('id').forUpdate().execute();
    return;
  }
  // SQLite: a write as the transaction's first statement takes the file's write lock now, waiting
  // for it (busy timeout). A transaction that read first would be refused at once, without waiting,
  // when another process wrote in between (its snapshot is then too old to write from).
  await db.updateTable('cases').set((eb) => ({ id: eb.ref('id') })).where('id', 'in', [...caseIds]).execute();
}

/**
 * Recomputes what a case's list row shows of its tasks: the earliest live deadline, the earliest
 * deadline of work still owed (overdue once past) and the highest rung reached.
 */
export async function refreshCaseAggregates(db: Executor, caseId: string): Promise<void> {
  await sql`UPDATE cases SET
      due_at = (SELECT min(rectification_due_at) FROM tasks
                WHERE case_id = ${caseId} AND status IN ('assigned', 'acknowledged', 'submitted', 'rework')),
      work_due_at = (SELECT min(rectification_due_at) FROM tasks
                WHERE case_id = ${caseId} AND status IN ('assigned', 'acknowledged', 'rework') AND suspended_since IS NULL),
      escalation_level = coalesce((SELECT max(${greatest(db, sql`escalation_level`, sql`ack_escalation_level`)}) FROM tasks
                WHERE case_id = ${caseId}), 0)
    WHERE id = ${caseId}`.execute(db);
}

export async function findCase(db: Executor, caseId: string): Promise<CaseView | undefined> {
  const row = await db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst();
  return row && toCaseView(row);
}

export async function findTask(db: Executor, taskId: string): Promise<TaskView | undefined> {
  const row = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
  return row && toTaskView(row);
}

export async function listCaseTasks(db: Executor, caseId: string): Promise<TaskView[]> {
  const rows = await db.selectFrom('tasks').selectAll().where('case_id', '=', caseId).orderBy('id').execute();
  return rows.map(toTaskView);
}

export const caseSorts = ['openedAt', '-openedAt', 'dueAt', '-dueAt'] as const;
export type CaseSort = (typeof caseSorts)[number];

export interface CaseFilter {
  status?: string | undefined;
  /** Cases with a task (any, transferred included) for this department. */
  department?: string | undefined;
  category?: string | undefined;
  severity?: string | undefined;
  source?: string | undefined;
  /** Open cases where work owed is past its deadline (true), or not (false). */
  overdue?: boolean | undefined;
  /** Cases whose tasks reached at least this rung. */
  escalationLevel?: number | undefined;
  /** Opened at or after / before this instant. */
  openedFrom?: string | undefined;
  openedTo?: string | undefined;
  /** Free text in title, description and address. */
  q?: string | undefined;
  sort?: CaseSort | undefined;
  limit?: number | undefined;
  /** Where the previous page ended. */
  after?: { readonly key: string | null; readonly id: string } | undefined;
  now?: string | undefined;
}

/** No deadline sorts after every deadline. */
const noDue = '9999-12-31T23:59:59.999Z';

/** Cases matching `filter`, one page in `filter.sort` order (newest first by default). */
export async function listCases(db: Executor, filter: CaseFilter): Promise<CaseView[]> {
  // One instant for the overdue filter and the views' `overdue`.
  const now = filter.now ?? new Date().toISOString();
  const rows = await (await casePageQuery(db, { ...filter, now })).selectAll('cases').execute();
  return rows.map((row) => toCaseView(row, now));
}

/** What a page needs of a case besides its cached view: which revision, and what tells `overdue`. */
export interface CaseKey {
  readonly id: string;
  readonly revision: number;
  readonly status: string;
  readonly work_due_at: string | null;
}

/**
 * The same page as {@link listCases}, only each case's id, revision and what its `overdue` is
 * computed from: a page whose views are cached reads four columns instead of all of them.
 */
export async function listCaseKeys(db: Executor, filter: CaseFilter): Promise<CaseKey[]> {
  const rows = await (await casePageQuery(db, filter))
    .select(['cases.id', 'cases.revision', 'cases.status', 'cases.work_due_at'])
    .execute();
  return rows.map((row) => ({ id: row.id, revision: row.revision ?? 0, status: row.status, work_due_at: row.work_due_at ?? null }));
}

/** The case rows with these ids (in no particular order), their revisions among the columns. */
export async function findCaseRows(db: Executor, ids: readonly string[]): Promise<CaseTable[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('cases').selectAll().where('id', 'in', [...ids]).execute();
}

/** The query of one page: filters, sort order and keyset position, without its columns. */
async function casePageQuery(db: Executor, filter: CaseFilter) {
  const now = filter.now ?? new Date().toISOString();
  const sort = filter.sort ?? '-openedAt';
  const descending = sort.startsWith('-');
  const key = sort.endsWith('dueAt') ? sql<string>`coalesce(cases.due_at, ${sql.lit(noDue)})` : sql<string>`cases.opened_at`;
  let query = db.selectFrom('cases');
  if (filter.status) query = query.where('cases.status', '=', filter.status);
  if (filter.category) query = query.where('cases.category', '=', filter.category);
  if (filter.severity) query = query.where('cases.severity', '=', filter.severity);
  if (filter.source) query = query.where('cases.source', '=', filter.source);
  if (filter.escalationLevel !== undefined) query = query.where('cases.escalation_level', '>=', filter.escalationLevel);
  if (filter.openedFrom) query = query.where('cases.opened_at', '>=', filter.openedFrom);
  if (filter.openedTo) query = query.where('cases.opened_at', '<', filter.openedTo);
  if (filter.overdue === true) {
    query = query.where('cases.status', '=', 'open').where('cases.work_due_at', '<', now);
  } else if (filter.overdue === false) {
    query = query.where((eb) => eb.or([eb('cases.status', '!=', 'open'), eb('cases.work_due_at', 'is', null), eb('cases.work_due_at', '>=', now)]));
  }
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
  // Control characters mean nothing in a search and upset the full-text query parser.
  // eslint-disable-next-line no-control-regex
  const q = filter.q?.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (q) query = query.where(await caseTextMatch(db, q));
  if (filter.after) {
    const { id } = filter.after;
    const value = filter.after.key ?? noDue;
    query = descending
      ? query.where(sql<boolean>`(${key} < ${value} OR (${key} = ${value} AND cases.id < ${id}))`)
      : query.where(sql<boolean>`(${key} > ${value} OR (${key} = ${value} AND cases.id > ${id}))`);
  }
  return query
    .orderBy(key, descending ? 'desc' : 'asc')
    .orderBy('cases.id', descending ? 'desc' : 'asc')
    .limit(filter.limit ?? 100);
}

/** The key a page ends on, for the cursor of the next page. */
export function sortKeyOf(view: CaseView, sort: CaseSort): string | null {
  return sort.endsWith('dueAt') ? view.dueAt : view.openedAt;
}
