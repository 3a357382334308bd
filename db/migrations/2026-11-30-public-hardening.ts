import { type Kysely, sql } from 'kysely';

/**
 * Hardening of what the public and token holders can reach: idempotency claims owned by a claim
 * id and purged by age; each uploader of a file remembered with the name they gave it (attaching
 * and downloading need it); a file's last use, so that unreferenced uploads are removed after a
 * grace period; complaints found by their case.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('idempotency_keys').addColumn('claim_id', 'text').execute();
  await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').columns(['created_at']).execute();

  await db.schema
    .createTable('evidence_uploads')
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('uploaded_by', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('evidence_uploads_pk', ['sha256', 'uploaded_by'])
    .execute();
  await db.schema.createIndex('evidence_uploads_by').on('evidence_uploads').columns(['uploaded_by', 'created_at']).execute();
  await sql`INSERT INTO evidence_uploads (sha256, uploaded_by, size, name, created_at)
            SELECT sha256, uploaded_by, size, name, created_at FROM evidence_files`.execute(db);
  await db.schema.alterTable('evidence_files').addColumn('touched_at', 'text').execute();
  await db.schema.createIndex('evidence_refs_case').on('evidence_refs').columns(['case_id']).execute();
  // The public reads an accepted complaint by its case.
  await db.schema.createIndex('complaints_case').on('complaints').columns(['case_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('complaints_case').ifExists().execute();
  await db.schema.dropIndex('evidence_refs_case').ifExists().execute();
  await db.schema.dropTable('evidence_uploads').ifExists().execute();
  await db.schema.dropIndex('idempotency_keys_created').ifExists().execute();
}
