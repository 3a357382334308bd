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

/** An uploaded file, with the token (or CLI user) that uploaded it. */
export async function findEvidenceUpload(
  db: Executor,
  sha256: string,
): Promise<{ file: StoredFile; uploadedBy: string } | undefined> {
  const row = await db.selectFrom('evidence_files').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  return (
    row && {
      file: { kind: 'file', sha256: row.sha256, name: row.name, size: row.size, mediaType: row.media_type },
      uploadedBy: row.uploaded_by,
    }
  );
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

/**
 * Whether a case that refers to the file is visible to `department`: one where it holds, or held,
 * a task (the rule by which a department sees a case).
 */
export async function departmentSeesFile(db: Executor, sha256: string, department: string): Promise<boolean> {
  const row = await db
    .selectFrom('evidence_refs')
    .innerJoin('tasks', 'tasks.case_id', 'evidence_refs.case_id')
    .select('tasks.id')
    .where('evidence_refs.sha256', '=', sha256)
    .where('tasks.department_code', '=', department)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
