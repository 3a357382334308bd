import { sql } from 'kysely';
import type { AssessmentRules, AssessmentRulesVersion } from '../domain/assessment';
import type { CriticismCandidate, ClosureCandidate } from '../domain/bulletin';
import type { Executor } from './database';
import type { BulletinTable, InterviewTable } from './schema';

/* Assessment rules ------------------------------------------------------------------------------ */

const toRulesVersion = (row: {
  version: number;
  effective_from: string;
  rules: string;
  note: string | null;
  created_by: string;
  created_at: string;
}): AssessmentRulesVersion => ({
  version: row.version,
  effectiveFrom: row.effective_from,
  rules: JSON.parse(row.rules) as AssessmentRules,
  note: row.note,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

/** Every version of the assessment rules, oldest first. */
export async function listAssessmentRules(db: Executor): Promise<AssessmentRulesVersion[]> {
  const rows = await db.selectFrom('assessment_rules').selectAll().orderBy('version').execute();
  return rows.map(toRulesVersion);
}

export async function insertAssessmentRules(
  db: Executor,
  row: { effectiveFrom: string; rules: AssessmentRules; note: string | null; createdBy: string; createdAt: string },
): Promise<AssessmentRulesVersion> {
  const inserted = await db
    .insertInto('assessment_rules')
    .values({
      effective_from: row.effectiveFrom,
      rules: JSON.stringify(row.rules),
      note: row.note,
      created_by: row.createdBy,
      created_at: row.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRulesVersion(inserted);
}

/* Bulletins ------------------------------------------------------------------------------------- */

export type BulletinRow = BulletinTable;

export async function findBulletin(db: Executor, id: string): Promise<BulletinRow | undefined> {
  return db.selectFrom('bulletins').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findBulletinByOrigin(db: Executor, originKey: string): Promise<BulletinRow | undefined> {
  return db.selectFrom('bulletins').selectAll().where('origin_key', '=', originKey).executeTakeFirst();
}

/** Published versions of a number (2026年第N期), oldest first. */
export async function findBulletinVersions(db: Executor, year: number, sequence: number): Promise<BulletinRow[]> {
  return db
    .selectFrom('bulletins')
    .selectAll()
    .where('year', '=', year)
    .where('sequence', '=', sequence)
    .where('status', 'in', ['published', 'superseded'])
    .orderBy('version')
    .execute();
}

/** Inserts a bulletin unless one with its origin key exists; returns the stored row either way. */
export async function insertBulletin(db: Executor, row: BulletinRow): Promise<BulletinRow> {
  await db
    .insertInto('bulletins')
    .values(row)
    .onConflict((oc) => oc.column('origin_key').doNothing())
    .execute();
  const stored = row.origin_key ? await findBulletinByOrigin(db, row.origin_key) : await findBulletin(db, row.id);
  if (!stored) throw new Error(`bulletin ${row.id} vanished`);
  return stored;
}

/**
 * Changes a draft if it is still the draft at `revision`: true when it was, false when another
 * command changed or published it first (nothing written).
 */
export async function updateDraft(
  db: Executor,
  id: string,
  revision: number,
  changes: Partial<Pick<BulletinRow, 'document' | 'decisions' | 'status' | 'updated_at' | 'year' | 'sequence' | 'published_at' | 'published_by' | 'origin_key'>>,
): Promise<boolean> {
  const result = await db
    .updateTable('bulletins')
    .set({ ...changes, revision: revision + 1 })
    .where('id', '=', id)
    .where('status', '=', 'draft')
    .where('revision', '=', revision)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The next number of `year`: one more than the highest published there. */
export async function nextBulletinSequence(db: Executor, year: number): Promise<number> {
  const row = await db
    .selectFrom('bulletins')
    .select((eb) => eb.fn.max('sequence').as('last'))
    .where('year', '=', year)
    .executeTakeFirst();
  return Number(row?.last ?? 0) + 1;
}

export async function supersede(db: Executor, id: string): Promise<boolean> {
  const result = await db.updateTable('bulletins').set({ status: 'superseded' }).where('id', '=', id).where('status', '=', 'published').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Marks the rungs a published bulletin names as published in it. */
export async function markEscalationsPublished(db: Executor, bulletinId: string, taskIds: readonly string[], levelAtLeast: number): Promise<void> {
  if (taskIds.length === 0) return;
  await db
    .updateTable('escalations')
    .set({ bulletin_id: bulletinId })
    .where('task_id', 'in', taskIds)
    .where('level', '>=', levelAtLeast)
    .where('bulletin_id', 'is', null)
    .execute();
}

export interface BulletinListFilter {
  readonly statuses: readonly string[];
  readonly limit: number;
  /** Rows published (or created, for drafts) before this key. */
  readonly before?: { key: string; id: string };
}

/** Bulletins newest first (published time, else creation time), a page at a time. */
export async function listBulletins(db: Executor, filter: BulletinListFilter): Promise<BulletinRow[]> {
  let query = db.selectFrom('bulletins').selectAll().where('status', 'in', [...filter.statuses]);
  const key = sql<string>`coalesce(published_at, created_at)`;
  if (filter.before) {
    const { key: k, id } = filter.before;
    query = query.where((eb) => eb.or([eb(key, '<', k), eb.and([eb(key, '=', k), eb('id', '<', id)])]));
  }
  return query.orderBy(key, 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/* What a draft is made of ------------------------------------------------------------------------- */

/** Rungs 3 and 4 reached in [fromInstant, toInstant), with the case's title and the department's name. */
export async function criticismCandidates(db: Executor, fromInstant: string, toInstant: string): Promise<CriticismCandidate[]> {
  const rows = await db
    .selectFrom('escalations as e')
    .innerJoin('cases as c', 'c.id', 'e.case_id')
    .leftJoin('departments as d', 'd.code', 'e.department_code')
    .select(['e.case_id', 'e.task_id', 'e.department_code', 'd.name as department_name', 'c.title', 'e.level', 'e.deadline', 'e.due_at', 'e.at'])
    .where('e.level', '>=', 3)
    .where('e.at', '>=', fromInstant)
    .where('e.at', '<', toInstant)
    .where('c.status', '!=', 'withdrawn')
    .orderBy('e.at')
    // A bulletin lists what the office can read through; beyond this many, the list is the escalations API.
    .limit(500)
    .execute();
  return rows.map((r) => ({
    caseId: r.case_id,
    taskId: r.task_id,
    departmentCode: r.department_code,
    departmentName: r.department_name ?? r.department_code,
    title: r.title,
    level: r.level,
    deadline: r.deadline,
    dueAt: r.due_at,
    at: r.at,
  }));
}

/** Cases closed in [fromInstant, toInstant) that had been escalated or were major. */
export async function closureCandidates(db: Executor, fromInstant: string, toInstant: string): Promise<ClosureCandidate[]> {
  const rows = await db
    .selectFrom('cases as c')
    .leftJoin('departments as d', 'd.code', 'c.lead_department')
    .select(['c.id', 'c.lead_department', 'd.name as department_name', 'c.title', 'c.closed_at', 'c.escalation_level', 'c.severity'])
    .where('c.status', '=', 'closed')
    .where('c.closed_at', '>=', fromInstant)
    .where('c.closed_at', '<', toInstant)
    .where((eb) => eb.or([eb('c.escalation_level', '>=', 2), eb('c.severity', '=', 'major')]))
    .orderBy('c.escalation_level', 'desc')
    .orderBy('c.closed_at')
    .limit(50)
    .execute();
  return rows.map((r) => ({
    caseId: r.id,
    departmentCode: r.lead_department,
    departmentName: r.department_name ?? r.lead_department,
    title: r.title,
    closedAt: r.closed_at!,
    escalationLevel: r.escalation_level ?? 0,
    severity: r.severity,
  }));
}

/** Cases opened and closed in [fromInstant, toInstant), from the audit trail. */
export async function caseCounts(db: Executor, fromInstant: string, toInstant: string): Promise<{ opened: number; closed: number }> {
  const rows = await db
    .selectFrom('events')
    .select(['action', (eb) => eb.fn.count<number>('event_key').as('n')])
    .where('action', 'in', ['case.opened', 'case.closed'])
    .where('at', '>=', fromInstant)
    .where('at', '<', toInstant)
    .groupBy('action')
    .execute();
  const count = (action: string) => Number(rows.find((r) => r.action === action)?.n ?? 0);
  return { opened: count('case.opened'), closed: count('case.closed') };
}

/** A case's title, lead department and status, for an item the office adds. */
export async function caseForItem(db: Executor, caseId: string) {
  return db
    .selectFrom('cases as c')
    .leftJoin('departments as d', 'd.code', 'c.lead_department')
    .select(['c.id', 'c.title', 'c.status', 'c.lead_department', 'd.name as department_name'])
    .where('c.id', '=', caseId)
    .executeTakeFirst();
}

export async function taskForItem(db: Executor, taskId: string) {
  return db
    .selectFrom('tasks as t')
    .leftJoin('departments as d', 'd.code', 't.department_code')
    .select(['t.id', 't.case_id', 't.department_code', 'd.name as department_name'])
    .where('t.id', '=', taskId)
    .executeTakeFirst();
}

/* Interviews ------------------------------------------------------------------------------------ */

export type InterviewRow = InterviewTable;

export async function listInterviews(
  db: Executor,
  filter: { department?: string; status?: string; limit: number; afterId?: string },
): Promise<InterviewRow[]> {
  let query = db.selectFrom('interviews').selectAll();
  if (filter.department) query = query.where('department_code', '=', filter.department);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.afterId) query = query.where('id', '>', filter.afterId);
  return query.orderBy('id').limit(filter.limit).execute();
}

export async function findInterview(db: Executor, id: string): Promise<InterviewRow | undefined> {
  return db.selectFrom('interviews').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Completes a pending interview; false when it was not pending any more. */
export async function completeInterview(
  db: Executor,
  id: string,
  record: { interviewees: string; interviewers: string; heldAt: string; outcome: string; completedBy: string; completedAt: string },
): Promise<boolean> {
  const result = await db
    .updateTable('interviews')
    .set({
      status: 'completed',
      interviewees: record.interviewees,
      interviewers: record.interviewers,
      held_at: record.heldAt,
      outcome: record.outcome,
      completed_by: record.completedBy,
      completed_at: record.completedAt,
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/* Escalations ----------------------------------------------------------------------------------- */

export interface EscalationFilter {
  readonly department?: string;
  readonly level?: number;
  readonly fromInstant?: string;
  readonly toInstant?: string;
  readonly limit: number;
  /** The last row of the previous page (rows go by time, then id). */
  readonly after?: { at: string; id: number };
}

/** Rungs reached, oldest first, with the case's title and the department's name. */
export async function listEscalations(db: Executor, filter: EscalationFilter) {
  let query = db
    .selectFrom('escalations as e')
    .innerJoin('cases as c', 'c.id', 'e.case_id')
    .leftJoin('departments as d', 'd.code', 'e.department_code')
    .select([
      'e.id',
      'e.case_id',
      'e.task_id',
      'e.department_code',
      'd.name as department_name',
      'c.title',
      'e.deadline',
      'e.level',
      'e.due_at',
      'e.at',
      'e.bulletin_id',
    ]);
  if (filter.department) query = query.where('e.department_code', '=', filter.department);
  if (filter.level) query = query.where('e.level', '=', filter.level);
  if (filter.fromInstant) query = query.where('e.at', '>=', filter.fromInstant);
  if (filter.toInstant) query = query.where('e.at', '<', filter.toInstant);
  if (filter.after) {
    const { at, id } = filter.after;
    query = query.where((eb) => eb.or([eb('e.at', '>', at), eb.and([eb('e.at', '=', at), eb('e.id', '>', id)])]));
  }
  return query.orderBy('e.at').orderBy('e.id').limit(filter.limit).execute();
}
