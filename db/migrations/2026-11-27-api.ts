import { type Kysely, sql } from 'kysely';
import { dialectOf, doubleType, serialKey } from '../dialect';

/** The HTTP API: tokens, idempotency keys, uploaded evidence, complaints, list columns and search. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('department_code', 'text', (c) => c.references('departments.code'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('last_used_at', 'text')
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'text')
    .addColumn('response_type', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['principal', 'key'])
    .execute();

  await db.schema
    .createTable('evidence_files')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('uploaded_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('evidence_refs')
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('evidence_refs_pk', ['sha256', 'case_id'])
    .execute();

  await db.schema
    .createTable('complaints')
    .addColumn('id', 'integer', serialKey(db))
    .addColumn('tracking_code', 'text', (c) => c.notNull().unique())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('service_code', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('location_address', 'text')
    .addColumn('location_lat', doubleType(db))
    .addColumn('location_lng', doubleType(db))
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('case_id', 'text')
    .addColumn('dismiss_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('complaints_status').on('complaints').columns(['status', 'id']).execute();

  await db.schema.alterTable('cases').addColumn('due_at', 'text').execute();
  await db.schema.alterTable('cases').addColumn('work_due_at', 'text').execute();
  await db.schema.alterTable('cases').addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('cases').addColumn('complaint_code', 'text').execute();
  // Matches the sort key of listCases exactly, so that SQLite sorts by deadline from the index.
  await sql`CREATE INDEX cases_due_sort ON cases(coalesce(due_at, '9999-12-31T23:59:59.999Z'), id)`.execute(db);
  for (const columns of [
    ['opened_at', 'id'],
    ['category', 'opened_at'],
    ['severity', 'opened_at'],
    ['source', 'opened_at'],
    ['escalation_level', 'opened_at'],
    ['work_due_at'],
  ]) {
    await db.schema.createIndex(`cases_${columns.join('_')}`).on('cases').columns(columns).execute();
  }
  await db.schema.createIndex('tasks_department_case').on('tasks').columns(['department_code', 'case_id']).execute();

  // Full-text search over title, description and address. Trigrams match Chinese text, which has
  // no spaces between words. PostgreSQL: pg_trgm's GIN indexes serve the substring search
  // (db/case-search.ts) on each column.
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
    for (const column of ['title', 'description', 'location_address']) {
      await sql`CREATE INDEX ${sql.id(`cases_${column}_trgm`)} ON cases USING gin (${sql.id(column)} gin_trgm_ops)`.execute(db);
    }
    return;
  }
  // SQLite: an FTS5 index that follows the cases table through triggers.
  await sql`CREATE VIRTUAL TABLE cases_fts USING fts5(
    title, description, location_address, content='cases', content_rowid='rowid', tokenize='trigram')`.execute(db);
  await sql`CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts(rowid, title, description, location_address)
    VALUES (new.rowid, new.title, new.description, new.location_address); END`.execute(db);
  await sql`CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, description, location_address ON cases BEGIN
    INSERT INTO cases_fts(cases_fts, rowid, title, description, location_address)
    VALUES ('delete', old.rowid, old.title, old.description, old.location_address);
    INSERT INTO cases_fts(rowid, title, description, location_address)
    VALUES (new.rowid, new.title, new.description, new.location_address); END`.execute(db);
  await sql`CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts(cases_fts, rowid, title, description, location_address)
    VALUES ('delete', old.rowid, old.title, old.description, old.location_address); END`.execute(db);
  await sql`INSERT INTO cases_fts(cases_fts) VALUES ('rebuild')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS cases_fts`.execute(db);
  for (const table of ['complaints', 'evidence_refs', 'evidence_files', 'idempotency_keys', 'tokens']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
