import { type Kysely, sql } from 'kysely';

/** Lists filtered by status read in their sort order from an index instead of sorting every match. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX cases_status_due_sort ON cases(status, coalesce(due_at, '9999-12-31T23:59:59.999Z'), id)`.execute(db);
  await db.schema.dropIndex('cases_status_opened').execute();
  await db.schema.createIndex('cases_status_opened').on('cases').columns(['status', 'opened_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('cases_status_due_sort').ifExists().execute();
}
