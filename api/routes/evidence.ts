import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import type { Db } from '../../db/database';
import { departmentSeesFile, findEvidenceUpload, saveEvidenceFile } from '../../db/evidence.repository';
import type { EvidenceStore, FileResolver } from '../../services/evidence.store';
import { requireToken } from '../auth';
import { errorResponses, HttpError } from '../errors';
import { storedFileSchema } from '../schemas';

/** Most files one upload may carry. */
export const maxFilesPerUpload = 10;

/** The file behind an API evidence reference `sha256:<hex>`, uploaded earlier. */
export function uploadedFiles(db: Db): FileResolver {
  return async (reference, field) => {
    const match = /^sha256:([0-9a-f]{64})$/.exec(reference);
    const stored = match ? (await findEvidenceUpload(db, match[1]!))?.file : undefined;
    if (!stored) {
      throw new DomainError(
        'invalid_input',
        `${field}: 没有上传过 ${reference} / no uploaded file ${reference}: upload it to POST /api/v1/evidence first`,
        [{ path: field, message: 'not an uploaded file (use the sha256:<hex> reference from POST /api/v1/evidence)' }],
      );
    }
    return stored;
  };
}

/**
 * Evidence files: uploaded by token holders (multipart, type sniffed from the content, stored
 * content-addressed), served only to those who may see a case that refers to them (and to the
 * token that uploaded them, before it refers to them).
 */
export function evidenceRoutes(deps: { db: Db; store: EvidenceStore }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/api/v1/evidence',
      {
        schema: {
          tags: ['evidence'],
          summary: 'upload photos or documents (multipart/form-data, field "file", repeatable)',
          security: [{ bearer: [] }],
          consumes: ['multipart/form-data'],
          response: { 201: z.array(storedFileSchema), ...errorResponses(400, 401, 413, 415, 422) },
        },
      },
      async (request, reply) => {
        const principal = requireToken(request);
        if (!request.isMultipart()) {
          throw new HttpError('unsupported_media_type', '须为 multipart/form-data / send multipart/form-data');
        }
        const stored = [];
        let index = 0;
        try {
          for await (const part of request.files()) {
            const bytes = await part.toBuffer();
            const file = await deps.store.put(bytes, part.filename || `upload-${index}`, `file[${index}]`);
            await saveEvidenceFile(deps.db, file, principal.tokenId, new Date().toISOString());
            stored.push({ file: `sha256:${file.sha256}`, sha256: file.sha256, name: file.name, size: file.size, mediaType: file.mediaType });
            index++;
          }
        } catch (error) {
          const known = error instanceof DomainError || error instanceof HttpError || (error as { statusCode?: number }).statusCode;
          // What the multipart parser throws on a body it cannot read is the client's mistake.
          if (known) throw error;
          throw new HttpError('bad_request', `multipart 请求体无法解析 / malformed multipart body: ${(error as Error).message}`);
        }
        if (stored.length === 0) {
          throw new HttpError('invalid_input', 'file: 没有文件 / no file in the upload', [{ path: 'file', message: 'required' }]);
        }
        return reply.code(201).send(stored);
      },
    );

    app.get(
      '/api/v1/evidence/:sha256',
      {
        schema: {
          tags: ['evidence'],
          summary: 'download an evidence file',
          security: [{ bearer: [] }],
          params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
          produces: ['application/octet-stream'],
          response: { 200: z.any().describe('the file'), ...errorResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const principal = requireToken(request);
        const { sha256 } = request.params;
        const notFound = new HttpError('not_found', `没有文件 ${sha256} / no file ${sha256}`);
        const upload = await findEvidenceUpload(deps.db, sha256);
        if (!upload) throw notFound;
        const { file } = upload;
        const visible =
          principal.role === 'office' ||
          upload.uploadedBy === principal.tokenId ||
          (principal.department !== null && (await departmentSeesFile(deps.db, sha256, principal.department)));
        if (!visible) throw notFound;
        const path = deps.store.pathOf(sha256);
        if (!fs.existsSync(path)) throw notFound;
        return reply
          .type(file.mediaType)
          .header('x-content-type-options', 'nosniff')
          .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(file.name)}`)
          .header('cache-control', 'private, max-age=86400, immutable')
          .send(fs.createReadStream(path));
      },
    );
  };
}
