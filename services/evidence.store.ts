import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileTypeFromFile } from 'file-type';
import type { Evidence, EvidenceRequest } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { leadingCharacters } from '../domain/text';

/** Largest evidence file accepted, in bytes. */
export const maxEvidenceBytes = 20 * 1024 * 1024;

/** Media types accepted as evidence: photos, video, PDF and office documents, plain text. */
export const allowedMediaTypes = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'video/mp4',
  'video/quicktime',
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/zip',
  'text/plain',
]);

/** The client's side of an upload failed (aborted, malformed, over a limit): its fault, not ours. */
export class UploadStreamError extends Error {
  constructor(readonly source: Error) {
    super(source.message, { cause: source });
  }
}

/** Content of a type not accepted as evidence (sniffed from the bytes, never from the name). */
export class UnacceptedMediaType extends DomainError {
  constructor(
    readonly mediaType: string,
    field: string,
  ) {
    super('invalid_input', `${field}: 不接受的文件类型 ${mediaType} / file type ${mediaType} is not accepted as evidence`, [
      { path: field, message: `unaccepted type ${mediaType}` },
    ]);
  }
}

/** The upload would take its uploader past their quota. */
export class UploadQuotaExceeded extends Error {
  constructor(readonly quotaBytes: number) {
    super(`upload quota of ${quotaBytes} bytes exceeded`);
  }
}

/** Plain text is accepted only when small enough to be checked whole. */
const maxTextBytes = 1024 * 1024;

/**
 * Where the bytes of evidence files are kept, content-addressed by their SHA-256: the one interface
 * the API, the CLI and the garbage collector use, whatever keeps the bytes. Every process of a
 * deployment must reach the same store (docs/operations.md). Today's implementation is a directory
 * ({@link DirectoryEvidenceStore}), local or shared (NFS and the like); an object store would be a
 * second implementation of this interface.
 */
export interface EvidenceStore {
  /** Stores `bytes` named `name` (see `putStream`). */
  put(bytes: Buffer, name: string, field?: string): Promise<StoredFile>;
  /**
   * Stores what `source` streams (never whole in memory), hashing it on the way; the media type is
   * sniffed from the content, never taken from the name. Throws `invalid_input` for empty or
   * unaccepted content, UploadQuotaExceeded past `maxBytes`, UploadStreamError when the source
   * fails, and the store's own error when the store does.
   */
  putStream(
    source: Readable,
    name: string,
    field?: string,
    options?: { maxBytes?: number; beforeCommit?: (file: StoredFile) => Promise<void> },
  ): Promise<StoredFile>;
  /** The stored bytes, opened for reading; undefined when none are stored under `sha256`. */
  open(sha256: string): Promise<Readable | undefined>;
  /** Removes a stored file's bytes (its record is gone already). */
  remove(sha256: string): Promise<void>;
}

/** Files stored under `<root>/<first two hex>/<sha256>`: the same bytes, one copy. */
export class DirectoryEvidenceStore implements EvidenceStore {
  constructor(private readonly root: string) {}

  static inDataDir(dataDir: string): DirectoryEvidenceStore {
    return new DirectoryEvidenceStore(path.join(dataDir, 'evidence'));
  }

  pathOf(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  async put(bytes: Buffer, name: string, field = 'file'): Promise<StoredFile> {
    return this.putStream(Readable.from([bytes]), name, field);
  }

  async putStream(
    source: Readable,
    name: string,
    field = 'file',
    options: { maxBytes?: number; beforeCommit?: (file: StoredFile) => Promise<void> } = {},
  ): Promise<StoredFile> {
    const incoming = path.join(this.root, '.incoming');
    await fs.promises.mkdir(incoming, { recursive: true });
    const tmp = path.join(incoming, `${process.pid}.${crypto.randomUUID()}.tmp`);
    const hash = crypto.createHash('sha256');
    const limit = Math.min(options.maxBytes ?? maxEvidenceBytes, maxEvidenceBytes);
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limit) {
          callback(limit < maxEvidenceBytes ? new UploadQuotaExceeded(options.maxBytes ?? 0) : tooLarge(field));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    // Whichever stream fails first is where the fault lies; the pipeline then fails the others
    // with the same error, so only the first report counts. A source may have failed before it
    // got here (a truncated body): anything but the disk failing first is the client's.
    const fault: { origin?: 'source' | 'disk' } = source.errored ? { origin: 'source' } : {};
    source.once('error', () => (fault.origin ??= 'source'));
    const writer = fs.createWriteStream(tmp, { flags: 'wx' });
    writer.once('error', () => (fault.origin ??= 'disk'));
    try {
      await pipeline(source, tap, writer);
    } catch (error) {
      await fs.promises.rm(tmp, { force: true });
      if (error instanceof UploadQuotaExceeded || error instanceof DomainError) throw error;
      if (fault.origin === 'disk') throw error;
      throw new UploadStreamError(error as Error);
    }
    try {
      if (size === 0) throw new DomainError('invalid_input', `${field}: 文件为空 / the file is empty`, [{ path: field, message: 'empty file' }]);
      const mediaType = await sniffMediaType(tmp, size);
      if (!allowedMediaTypes.has(mediaType)) throw new UnacceptedMediaType(mediaType, field);
      const sha256 = hash.digest('hex');
      const file: StoredFile = { kind: 'file', sha256, name: leadingCharacters(path.basename(name), 255) || sha256, size, mediaType };
      await options.beforeCommit?.(file);
      const target = this.pathOf(sha256);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      // Same bytes: whichever upload lands last simply replaces an identical file.
      await fs.promises.rename(tmp, target);
      return file;
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }

  async open(sha256: string): Promise<Readable | undefined> {
    const stream = fs.createReadStream(this.pathOf(sha256));
    return new Promise((resolve, reject) => {
      stream.once('open', () => resolve(stream));
      stream.once('error', (error) => ((error as NodeJS.ErrnoException).code === 'ENOENT' ? resolve(undefined) : reject(error)));
    });
  }

  async remove(sha256: string): Promise<void> {
    await fs.promises.rm(this.pathOf(sha256), { force: true });
  }
}

function tooLarge(field: string): DomainError {
  return new DomainError('invalid_input', `${field}: 文件超过 ${maxEvidenceBytes} 字节 / the file is over ${maxEvidenceBytes} bytes`, [
    { path: field, message: 'file too large' },
  ]);
}

async function sniffMediaType(file: string, size: number): Promise<string> {
  const detected = await fileTypeFromFile(file);
  if (detected) return detected.mime;
  if (size > maxTextBytes) return 'application/octet-stream';
  // No magic number: accept it as text only if it decodes as UTF-8 without control bytes.
  const text = (await fs.promises.readFile(file)).toString('utf8');
  // eslint-disable-next-line no-control-regex -- control bytes are exactly what marks binary content
  if (!text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(text)) return 'text/plain';
  return 'application/octet-stream';
}

/** A file stored in the evidence store. */
export type StoredFile = Extract<Evidence, { kind: 'file' }>;

/**
 * Resolves a file reference of a request to a stored file: the CLI stores a local path, the API
 * looks up an earlier upload. Throws `invalid_input` naming `field` when it cannot.
 */
export type FileResolver = (reference: string, field: string) => Promise<StoredFile>;

/** Evidence as recorded from evidence as requested: links pass through, file references resolve. */
export async function resolveEvidence(
  items: readonly EvidenceRequest[],
  resolveFile: FileResolver,
  field = 'evidence',
): Promise<Evidence[]> {
  const out: Evidence[] = [];
  for (const [i, item] of items.entries()) {
    const note = item.note === undefined ? {} : { note: item.note };
    if ('url' in item) out.push({ kind: 'url', url: item.url, ...note });
    else out.push({ ...(await resolveFile(item.file, `${field}[${i}].file`)), ...note });
  }
  return out;
}
