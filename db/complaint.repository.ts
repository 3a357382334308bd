import { type Selectable, sql } from 'kysely';
import type { ComplaintTable } from './schema';
import type { Executor } from './database';

export type ComplaintRow = Selectable<ComplaintTable>;

/** Where a complaint is in triage, as stored. */
export const complaintStates = ['received', 'converting', 'converted', 'dismissed'] as const;
export type ComplaintState = (typeof complaintStates)[number];

/** A complaint with what the public may learn of the case opened from it, read in one query. */
export interface ComplaintViewRow extends ComplaintRow {
  case_status: string | null;
  case_title: string | null;
  case_opened_at: string | null;
  case_closed_at: string | null;
  case_updated_at: string | null;
  /** The lead department's name and its task's rectification deadline. */
  lead_department_name: string | null;
  lead_due_at: string | null;
}

export async function insertComplaint(db: Executor, row: Omit<ComplaintTable, 'id'>): Promise<void> {
  await db.insertInto('complaints').values(row).execute();
}

export async function findComplaint(db: Executor, trackingCode: string): Promise<ComplaintRow | undefined> {
  return db.selectFrom('complaints').selectAll().where('tracking_code', '=', trackingCode).executeTakeFirst();
}

/**
 * Moves a complaint to another triage state only if it is in one of `from` now: of two
 * concurrent commands on one complaint (convert and dismiss), exactly one can win.
 */
export async function transitionComplaint(
  db: Executor,
  trackingCode: string,
  from: readonly ComplaintState[],
  changes: Partial<Pick<ComplaintTable, 'status' | 'case_id' | 'dismiss_reason' | 'updated_at'>>,
): Promise<boolean> {
  const result = await db
    .updateTable('complaints')
    .set(changes)
    .where('tracking_code', '=', trackingCode)
    .where('status', 'in', [...from])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The joined view: the complaint, its case, and the case's lead task and department. */
function views(db: Executor) {
  return db
    .selectFrom('complaints as c')
    .leftJoin('cases as k', 'k.id', 'c.case_id')
    .leftJoin('tasks as lead', (join) =>
      // The case's current lead task: the latest lead that was not transferred away.
      join.on((eb) =>
        eb(
          'lead.id',
          '=',
          eb
            .selectFrom('tasks as t')
            .select('t.id')
            .whereRef('t.case_id', '=', 'c.case_id')
            .orderBy(sql`t.role = 'lead'`, 'desc')
            .orderBy(sql`t.status != 'transferred'`, 'desc')
            // The newest task: ids number a case's tasks T1, T2 … in the order they were made.
            .orderBy(sql`length(t.id)`, 'desc')
            .orderBy('t.id', 'desc')
            .limit(1),
        ),
      ),
    )
    .leftJoin('departments as d', 'd.code', 'lead.department_code')
    .selectAll('c')
    .select([
      'k.status as case_status',
      'k.title as case_title',
      'k.opened_at as case_opened_at',
      'k.closed_at as case_closed_at',
      'k.updated_at as case_updated_at',
      'd.name as lead_department_name',
      'lead.rectification_due_at as lead_due_at',
    ]);
}

export async function findComplaintView(db: Executor, trackingCode: string): Promise<ComplaintViewRow | undefined> {
  return views(db).where('c.tracking_code', '=', trackingCode).executeTakeFirst();
}

/** The view of the complaint a case was opened from, by the case id. */
export async function findComplaintViewByCase(db: Executor, caseId: string): Promise<ComplaintViewRow | undefined> {
  return views(db).where('c.case_id', '=', caseId).executeTakeFirst();
}

export interface ComplaintFilter {
  readonly states?: readonly ComplaintState[] | undefined;
  /** Page on: complaints with an id below this. */
  readonly before?: number | undefined;
  readonly limit: number;
  readonly offset?: number | undefined;
  /** Received at or after / at or before these instants. */
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly codes?: readonly string[] | undefined;
  readonly caseIds?: readonly string[] | undefined;
  /** Filed under one of these Open311 services, or with one of these categories. */
  readonly services?: { readonly codes: readonly string[]; readonly names: readonly string[] } | undefined;
  /** Only complaints whose case is in one of these states. */
  readonly caseStatuses?: readonly string[] | undefined;
  /** Leave out complaints whose case is in one of these states. */
  readonly excludeCaseStatuses?: readonly string[] | undefined;
}

/** Complaints with their case, newest first: one query however long the page. */
export async function listComplaintViews(db: Executor, filter: ComplaintFilter): Promise<ComplaintViewRow[]> {
  let query = views(db);
  if (filter.states) query = query.where('c.status', 'in', filter.states.length > 0 ? [...filter.states] : ['']);
  if (filter.before !== undefined) query = query.where('c.id', '<', filter.before);
  if (filter.since) query = query.where('c.created_at', '>=', filter.since);
  if (filter.until) query = query.where('c.created_at', '<=', filter.until);
  if (filter.codes) query = query.where('c.tracking_code', 'in', filter.codes.length > 0 ? [...filter.codes] : ['']);
  if (filter.caseIds) query = query.where('c.case_id', 'in', filter.caseIds.length > 0 ? [...filter.caseIds] : ['']);
  if (filter.services) {
    const { codes, names } = filter.services;
    query = query.where((eb) =>
      eb.or([eb('c.service_code', 'in', codes.length > 0 ? [...codes] : ['']), eb('c.category', 'in', names.length > 0 ? [...names] : [''])]),
    );
  }
  if (filter.caseStatuses) query = query.where('k.status', 'in', filter.caseStatuses.length > 0 ? [...filter.caseStatuses] : ['']);
  if (filter.excludeCaseStatuses && filter.excludeCaseStatuses.length > 0) {
    query = query.where((eb) => eb.or([eb('k.status', 'is', null), eb('k.status', 'not in', [...filter.excludeCaseStatuses!])]));
  }
  return query
    .orderBy('c.id', 'desc')
    .limit(filter.limit)
    .offset(filter.offset ?? 0)
    .execute();
}
