import type { Kysely, Transaction } from 'kysely';
import type { Evidence } from '../domain/case.schema';
import type { Database } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;
type StoredFile = Extract<Evidence, { kind: 'file' }>;

/** Remembers an uploaded file (its bytes are in the evidence store); the same bytes once. */
export async function saveEvidenceFile(db: Executor, file: StoredFile, uploadedBy: string, now: string): Promise<void> {
  await db
    .insertInto('evidence_files')
    .values({ sha256: file.sha256, name: file.name, media_type: file.mediaType, size: file.size, uploaded_by: uploadedBy, created_at: now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .execute();
}

export async function findEvidenceFile(db: Executor, sha256: string): Promise<StoredFile | undefined> {
  const row = await db.selectFrom('evidence_files').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  return row && { kind: 'file', sha256: row.sha256, name: row.name, size: row.size, mediaType: row.media_type };
}

/** Records that cases refer to files. */
export async function addEvidenceRefs(db: Executor, refs: readonly { sha256: string; caseId: string }[]): Promise<void> {
  if (refs.length === 0) return;
  await db
    .insertInto('evidence_refs')
    .values(refs.map((r) => ({ sha256: r.sha256, case_id: r.caseId })))
    .onConflict((oc) => oc.columns(['sha256', 'case_id']).doNothing())
    .execute();
}

/** The cases that refer to a file. */
export async function casesReferring(db: Executor, sha256: string): Promise<string[]> {
  const rows = await db.selectFrom('evidence_refs').select('case_id').where('sha256', '=', sha256).execute();
  return rows.map((r) => r.case_id);
}
