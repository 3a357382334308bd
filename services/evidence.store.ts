import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import type { Evidence, EvidenceRequest } from '../domain/case.schema';
import { DomainError } from '../domain/errors';

/** Largest evidence file accepted, in bytes. */
export const maxEvidenceBytes = 20 * 1024 * 1024;

/** Media types accepted as evidence: photos, video, PDF and office documents, plain text. */
const allowedMediaTypes = new Set([
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

/** Files stored under `<dataDir>/evidence/<first two hex>/<sha256>`: the same bytes, one copy. */
export class EvidenceStore {
  constructor(private readonly root: string) {}

  static inDataDir(dataDir: string): EvidenceStore {
    return new EvidenceStore(path.join(dataDir, 'evidence'));
  }

  pathOf(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  /**
   * Stores `bytes` named `name`; the media type is sniffed from the content, never taken from
   * the name. Throws `invalid_input` for empty, oversized or unaccepted content.
   */
  async put(bytes: Buffer, name: string, field = 'file'): Promise<StoredFile> {
    if (bytes.length === 0) throw new DomainError('invalid_input', `${field}: 文件为空 / the file is empty`, [{ path: field, message: 'empty file' }]);
    if (bytes.length > maxEvidenceBytes) {
      throw new DomainError('invalid_input', `${field}: 文件超过 ${maxEvidenceBytes} 字节 / the file is over ${maxEvidenceBytes} bytes`, [
        { path: field, message: 'file too large' },
      ]);
    }
    const mediaType = await sniffMediaType(bytes);
    if (!allowedMediaTypes.has(mediaType)) {
      throw new DomainError(
        'invalid_input',
        `${field}: 不接受的文件类型 ${mediaType} / file type ${mediaType} is not accepted as evidence`,
        [{ path: field, message: `unaccepted type ${mediaType}` }],
      );
    }
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const target = this.pathOf(sha256);
    if (!fs.existsSync(target)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      const tmp = `${target}.${process.pid}.${crypto.randomUUID()}.tmp`;
      fs.writeFileSync(tmp, bytes, { flag: 'wx' });
      fs.renameSync(tmp, target);
    }
    return { kind: 'file', sha256, name: path.basename(name).slice(0, 255) || sha256, size: bytes.length, mediaType };
  }
}

async function sniffMediaType(bytes: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(bytes);
  if (detected) return detected.mime;
  // No magic number: accept it as text only if it decodes as UTF-8 without control bytes.
  const text = bytes.toString('utf8');
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
