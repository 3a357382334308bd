import { Readable } from 'node:stream';
import { DomainError } from '../domain/errors';
import type { Db } from '../db/database';
import {
  addEvidenceRefs,
  deleteUnreferencedFiles,
  type FileViewer,
  fileVisibleTo,
  findEvidenceFile,
  findEvidenceFileFor,
  saveEvidenceFile,
  touchEvidenceFile,
  uploadedBytesSince,
} from '../db/evidence.repository';
import { type EvidenceStore, type FileResolver, type StoredFile, UploadQuotaExceeded } from './evidence.store';
import { stripPhotoMetadata } from './public-photo';

/** The uploader the public's photos are recorded under: one daily quota for all of them. */
export const publicUploader = 'public:web';

export interface EvidenceServiceDeps {
  readonly db: Db;
  readonly store: EvidenceStore;
  /** Bytes one uploader may upload per rolling 24 hours. */
  readonly quotaBytes: number;
  /** How long an upload that no case refers to is kept. */
  readonly graceMs: number;
  readonly now?: () => Date;
}

const day = 24 * 3_600_000;

/**
 * Evidence files as token holders use them: uploaded within a quota, attached and downloaded only
 * by their uploader or by those who see a case that refers to them, and removed some time after
 * upload when no case came to refer to them.
 */
export function createEvidenceService(deps: EvidenceServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const notFound = (sha256: string) => new DomainError('not_found', `没有文件 ${sha256} / no file ${sha256}`);
  /** The file's bytes, opened before answering: bytes gone from the store are a 404, not a broken 200. */
  async function opened(file: StoredFile | undefined, sha256: string): Promise<{ file: StoredFile; bytes: Readable }> {
    const bytes = file && (await deps.store.open(sha256));
    if (!file || !bytes) throw notFound(sha256);
    return { file, bytes };
  }
  const uploading = new Map<string, Promise<void>>();

  async function uploadNow(uploader: string, source: Readable, name: string, field: string): Promise<StoredFile> {
    const used = await uploadedBytesSince(deps.db, uploader, new Date(now().getTime() - day).toISOString());
    const remaining = deps.quotaBytes - used;
    if (remaining <= 0) {
      source.resume();
      throw new UploadQuotaExceeded(deps.quotaBytes);
    }
    try {
      // The record is written before the bytes land, so that the clean-up of unreferenced files
      // never takes bytes that a record is about to claim.
      return await deps.store.putStream(source, name, field, {
        maxBytes: remaining,
        beforeCommit: (file) => saveEvidenceFile(deps.db, file, uploader, now().toISOString()),
      });
    } catch (error) {
      if (error instanceof UploadQuotaExceeded) throw new UploadQuotaExceeded(deps.quotaBytes);
      throw error;
    }
  }

  const service = {
    /**
     * Stores one uploaded file for `uploader`; throws UploadQuotaExceeded past the quota. One
     * upload at a time per uploader (in this process), so that parallel uploads cannot each spend
     * the same remaining quota.
     */
    upload(uploader: string, source: Readable, name: string, field: string): Promise<StoredFile> {
      const previous = uploading.get(uploader) ?? Promise.resolve();
      const mine = previous.then(
        () => uploadNow(uploader, source, name, field),
        () => uploadNow(uploader, source, name, field),
      );
      const tail = mine.then(
        () => undefined,
        () => undefined,
      );
      uploading.set(uploader, tail);
      void tail.then(() => {
        if (uploading.get(uploader) === tail) uploading.delete(uploader);
      });
      return mine;
    },

    /**
     * Resolves `{"file": "sha256:<hex>"}` in a command of `viewer`: only a file they uploaded or
     * can already see is accepted (knowing a hash is not enough), and it is marked as in use.
     */
    resolverFor(viewer: FileViewer): FileResolver {
      return async (reference, field) => {
        const match = /^sha256:([0-9a-f]{64})$/.exec(reference);
        const sha256 = match?.[1];
        // Marked in use first: a clean-up after this keeps it, one before it leaves nothing to find.
        const present = sha256 !== undefined && (await touchEvidenceFile(deps.db, sha256, now().toISOString()));
        const file = present && (await fileVisibleTo(deps.db, sha256, viewer)) ? await findEvidenceFileFor(deps.db, sha256, viewer) : undefined;
        if (!sha256 || !file) {
          // Which files a caller may attach is a matter of state (uploads, cases): 409.
          throw new DomainError(
            'invalid_state',
            `${field}: 没有上传过 ${reference} / no uploaded file ${reference}: upload it to POST /api/v1/evidence first`,
            [{ path: field, message: 'not a file you uploaded (use the sha256:<hex> reference from POST /api/v1/evidence)' }],
          );
        }
        return file;
      };
    },

    /** A file `viewer` may download, its bytes opened; not_found otherwise (or when its bytes are gone). */
    async download(viewer: FileViewer, sha256: string): Promise<{ file: StoredFile; bytes: Readable }> {
      const file = (await fileVisibleTo(deps.db, sha256, viewer)) ? await findEvidenceFileFor(deps.db, sha256, viewer) : undefined;
      return opened(file, sha256);
    },

    /**
     * A file the public may download because an answer (答复) shows it: `shown` are the files of
     * that answer, and nothing else is served this way; not_found otherwise.
     */
    async downloadShown(sha256: string, shown: readonly string[]): Promise<{ file: StoredFile; bytes: Readable }> {
      const file = shown.includes(sha256) ? await findEvidenceFile(deps.db, sha256) : undefined;
      return opened(file, sha256);
    },

    /** Removes uploads that no case refers to, unused for the grace period; returns how many. */
    async collectGarbage(): Promise<number> {
      const gone = await deleteUnreferencedFiles(deps.db, new Date(now().getTime() - deps.graceMs).toISOString());
      // Bytes uploaded again since the row was deleted belong to the new upload.
      for (const sha256 of gone) if (!(await findEvidenceFile(deps.db, sha256))) await deps.store.remove(sha256);
      return gone.length;
    },

    /**
     * Stores the `index`-th photo of a public complaint: its metadata (EXIF GPS and all) stripped
     * first, so that the bytes stored are the only ones anyone can download; named `photo-<n>`
     * (never the sender's file name); within the public's shared daily quota.
     */
    async uploadPublicPhoto(original: Buffer, index: number, field: string): Promise<StoredFile> {
      const stripped = await stripPhotoMetadata(original, field);
      return service.upload(publicUploader, Readable.from([stripped.bytes]), `photo-${index + 1}.${stripped.extension}`, field);
    },

    /**
     * Records that the complaint `trackingCode` refers to public photos: they are kept (the
     * clean-up leaves referred files alone) and the office may download them; a department sees
     * them only once a case of its refers to them.
     */
    async referFromComplaint(trackingCode: string, sha256s: readonly string[]): Promise<void> {
      await addEvidenceRefs(deps.db, sha256s.map((sha256) => ({ sha256, caseId: trackingCode })));
    },
  };
  return service;
}
export type EvidenceService = ReturnType<typeof createEvidenceService>;
