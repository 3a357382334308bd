import type { Kysely } from 'kysely';
import type { Evidence } from '../domain/case.schema';
import type { Database } from './schema';
import type { Executor } from './database';

type StoredFile = Extract<Evidence, { kind: 'file' }>;

/** Who asks for a file: the uploader id they upload under, and what cases they can see. */
export interface FileViewer {
  /** Token id (API) or `cli:<user>`: what evidence_uploads.uploaded_by holds. */
  readonly uploader: string;
  readonly role: 'office' | 'department';
  readonly department: string | null;
}

/**
 * Remembers an uploaded file (its bytes are in the evidence store) and who uploaded it: the same
 * bytes are one file however many upload them, each uploader recorded once.
 */
export async function saveEvidenceFile(db: Executor, file: StoredFile, uploadedBy: string, now: string): Promise<void> {
  await db
    .insertInto('evidence_files')
    .values({
      sha256: file.sha256,
      name: file.name,
      media_type: file.mediaType,
      size: file.size,
      uploaded_by: uploadedBy,
      created_at: now,
      touched_at: now,
    })
    .onConflict((oc) => oc.column('sha256').doUpdateSet({ touched_at: now }))
    .execute();
  await db
    .insertInto('evidence_uploads')
    .values({ sha256: file.sha256, uploaded_by: uploadedBy, size: file.size, name: file.name, created_at: now })
    .onConflict((oc) => oc.columns(['sha256', 'uploaded_by']).doUpdateSet({ name: file.name }))
    .execute();
}

/**
 * A stored file as `viewer` knows it: under the name they gave it if they uploaded it, else under
 * the name it was first uploaded with (what the cases that refer to it show).
 */
export async function findEvidenceFileFor(db: Executor, sha256: string, viewer: FileViewer): Promise<StoredFile | undefined> {
  const file = await findEvidenceFile(db, sha256);
  if (!file) return undefined;
  const own = await ownUpload(db, sha256, viewer.uploader);
  return own ? { ...file, name: own.name } : file;
}

/** `uploader`'s own upload of the file, if they uploaded it. */
function ownUpload(db: Executor, sha256: string, uploader: string) {
  return db.selectFrom('evidence_uploads').select('name').where('sha256', '=', sha256).where('uploaded_by', '=', uploader).executeTakeFirst();
}

/** An uploaded file's record. */
export async function findEvidenceFile(db: Executor, sha256: string): Promise<StoredFile | undefined> {
  const row = await db.selectFrom('evidence_files').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  return row && { kind: 'file', sha256: row.sha256, name: row.name, size: row.size, mediaType: row.media_type };
}

/** Bytes `uploader` uploaded since `since` (each distinct file once). */
export async function uploadedBytesSince(db: Executor, uploader: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('evidence_uploads')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
    .where('uploaded_by', '=', uploader)
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.bytes);
}

/**
 * Whether `viewer` may attach or download the file: they uploaded it, or they can see a case
 * that refers to it (the office: any such case; a department: one where it holds or held a task).
 */
export async function fileVisibleTo(db: Executor, sha256: string, viewer: FileViewer): Promise<boolean> {
  if (await ownUpload(db, sha256, viewer.uploader)) return true;
  let refs = db.selectFrom('evidence_refs').select('evidence_refs.sha256').where('evidence_refs.sha256', '=', sha256);
  if (viewer.role !== 'office') {
    refs = refs
      .innerJoin('tasks', 'tasks.case_id', 'evidence_refs.case_id')
      .where('tasks.department_code', '=', viewer.department ?? '');
  }
  return (await refs.limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Marks the file as in use now, so that the clean-up of unreferenced files leaves it alone;
 * false when there is no such file (any more).
 */
export async function touchEvidenceFile(db: Executor, sha256: string, now: string): Promise<boolean> {
  const result = await db.updateTable('evidence_files').set({ touched_at: now }).where('sha256', '=', sha256).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
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
 * Forgets the files that no case refers to and that nobody used since `before`; returns their
 * hashes so that their bytes can be removed. One statement: a file attached meanwhile is touched
 * and so kept.
 */
export async function deleteUnreferencedFiles(db: Kysely<Database>, before: string): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const gone = await trx
      .deleteFrom('evidence_files')
      .where((eb) => eb(eb.fn.coalesce('touched_at', 'created_at'), '<', before))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('evidence_refs').select('evidence_refs.sha256').whereRef('evidence_refs.sha256', '=', 'evidence_files.sha256'))))
      .returning('sha256')
      .execute();
    const hashes = gone.map((r) => r.sha256);
    if (hashes.length > 0) await trx.deleteFrom('evidence_uploads').where('sha256', 'in', hashes).execute();
    return hashes;
  });
}
