import type { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FileViewer } from '../../db/evidence.repository';
import type { EvidenceService } from '../../services/evidence.service';
import { allowedMediaTypes, UnacceptedMediaType, UploadQuotaExceeded, UploadStreamError } from '../../services/evidence.store';
import { requireToken, type TokenPrincipal } from '../auth';
import { HttpError } from '../errors';
import { storedFileSchema } from '../schemas';

/** Most files one upload may carry. */
export const maxFilesPerUpload = 10;

/** Who a token holder is to the evidence store. */
export function fileViewerOf(principal: TokenPrincipal): FileViewer {
  return { uploader: principal.tokenId, role: principal.role, department: principal.department };
}

/**
 * Evidence files: uploaded by token holders (multipart, streamed to disk, type sniffed from the
 * content, stored content-addressed, within a daily quota), served to the uploader and to those
 * who may see a case that refers to them.
 */
export function evidenceRoutes(deps: { evidence: EvidenceService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/api/v1/evidence',
      {
        config: { access: 'token', answers: [422, 429] },
        schema: {
          operationId: 'uploadEvidence',
          tags: ['evidence'],
          summary: 'upload photos or documents (multipart/form-data, field "file", repeatable)',
          consumes: ['multipart/form-data'],
          response: { 201: z.array(storedFileSchema) },
        },
      },
      async (request, reply) => {
        const principal = requireToken(request);
        if (!request.isMultipart()) {
          throw new HttpError('unsupported_media_type', '须为 multipart/form-data / send multipart/form-data');
        }
        const stored = [];
        let index = 0;
        const parts = request.files()[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<MultipartFile>;
          try {
            next = await parts.next();
          } catch (error) {
            throw clientFault(error);
          }
          if (next.done) break;
          const part = next.value;
          try {
            const file = await deps.evidence.upload(principal.tokenId, part.file, part.filename || `upload-${index}`, `file[${index}]`);
            stored.push({ file: `sha256:${file.sha256}`, sha256: file.sha256, name: file.name, size: file.size, mediaType: file.mediaType });
          } catch (error) {
            if (error instanceof UploadStreamError) throw clientFault(error.source);
            // RFC 9110: a 415 also when the type is found by inspecting the content itself.
            if (error instanceof UnacceptedMediaType) throw new HttpError('unsupported_media_type', error.message, error.details);
            if (error instanceof UploadQuotaExceeded) {
              throw new HttpError('rate_limited', `上传已达每日限额 / daily upload quota of ${error.quotaBytes} bytes reached`, [], {
                'retry-after': '3600',
              });
            }
            // Our own failures (a full disk, a locked database) are ours: a 5xx, logged.
            throw error;
          }
          index++;
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
        config: { access: 'token' },
        schema: {
          operationId: 'downloadEvidence',
          tags: ['evidence'],
          summary: 'download an evidence file (its uploader, or whoever may see a case that refers to it)',
          params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
          response: {
            200: {
              description: 'the file, in the media type sniffed at upload',
              content: storedFileContent,
            },
          },
        },
      },
      async (request, reply) => {
        const { file, bytes } = await deps.evidence.download(fileViewerOf(requireToken(request)), request.params.sha256);
        return sendStoredFile(reply, file, bytes, {
          disposition: `inline; filename*=UTF-8''${encodeURIComponent(file.name)}`,
          cacheControl: 'private, max-age=86400, immutable',
        });
      },
    );
  };
}

/** Every media type a stored file may be served in (the types accepted at upload). */
export const storedFileContent = Object.fromEntries([...allowedMediaTypes].map((type) => [type, { schema: z.string().describe('the file') }]));

/** Sends a stored file's opened `bytes` in its sniffed media type, never to be sniffed again by the browser. */
export function sendStoredFile(
  reply: FastifyReply,
  file: { mediaType: string },
  bytes: Readable,
  headers: { disposition: string; cacheControl: string },
): FastifyReply {
  return reply
    .type(file.mediaType)
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', headers.disposition)
    .header('cache-control', headers.cacheControl)
    .send(bytes);
}

/** A failure of the request's own multipart body: its status if it has one (413 …), else a 400. */
function clientFault(error: unknown): unknown {
  if ((error as { statusCode?: number }).statusCode) return error;
  return new HttpError('bad_request', `multipart 请求体无法解析 / malformed multipart body: ${(error as Error).message}`);
}
