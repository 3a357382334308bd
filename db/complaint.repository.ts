import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ComplaintTable, Database } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;
export type ComplaintRow = Selectable<ComplaintTable>;

export async function insertComplaint(db: Executor, row: Omit<ComplaintTable, 'id'>): Promise<void> {
  await db.insertInto('complaints').values(row).execute();
}

export async function findComplaint(db: Executor, trackingCode: string): Promise<ComplaintRow | undefined> {
  return db.selectFrom('complaints').selectAll().where('tracking_code', '=', trackingCode).executeTakeFirst();
}

export async function updateComplaint(
  db: Executor,
  trackingCode: string,
  changes: Partial<Pick<ComplaintTable, 'status' | 'case_id' | 'dismiss_reason' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('complaints').set(changes).where('tracking_code', '=', trackingCode).execute();
}

/** Complaints newest first, after the one with id `before` when paging. */
export async function listComplaints(
  db: Executor,
  filter: { status?: string | undefined; before?: number | undefined; limit: number; since?: string | undefined; until?: string | undefined; codes?: string[] | undefined; channel?: string | undefined; category?: string | undefined },
): Promise<ComplaintRow[]> {
  let query = db.selectFrom('complaints').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.before !== undefined) query = query.where('id', '<', filter.before);
  if (filter.since) query = query.where('created_at', '>=', filter.since);
  if (filter.until) query = query.where('created_at', '<=', filter.until);
  if (filter.codes) query = query.where('tracking_code', 'in', filter.codes.length > 0 ? filter.codes : ['']);
  if (filter.category) query = query.where('category', '=', filter.category);
  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}
