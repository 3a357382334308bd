import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, type ErrorCode, type FieldIssue } from '../domain/errors';
import { formatPath, localised } from '../domain/validation';

/** Every error code an HTTP client can meet, each with one status. */
export const httpErrorStatus = {
  bad_request: 400,
  invalid_input: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_state: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<ErrorCode, number> & Record<string, number>;
export type HttpErrorCode = keyof typeof httpErrorStatus;

/** The one shape of every error response. */
export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(httpErrorStatus) as [HttpErrorCode, ...HttpErrorCode[]]),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** An error the API answers with on purpose. */
export class HttpError extends Error {
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly details: readonly FieldIssue[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function errorBody(code: HttpErrorCode, message: string, details: readonly FieldIssue[] = []): ErrorResponse {
  return { error: { code, message, details: [...details] } };
}

function send(reply: FastifyReply, code: HttpErrorCode, message: string, details: readonly FieldIssue[] = []) {
  return reply.code(httpErrorStatus[code]).type('application/json; charset=utf-8').send(errorBody(code, message, details));
}

/** Errors for the standard responses of each route in the OpenAPI document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, errorResponseSchema.describe(`error ${status}`)]));

/**
 * Maps every error to the one JSON shape with a status that means what it says; no stack trace
 * ever reaches a client.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    const message = `没有这个地址 / no route ${request.method} ${request.url}`;
    // Open311 clients expect GeoReport's own error list, even for a path that matches nothing.
    if (request.url.startsWith('/open311/')) return reply.code(404).send([{ code: 404, description: message }]);
    return send(reply, 'not_found', message);
  });
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HttpError) {
      void reply.headers(error.headers);
      return send(reply, error.code, error.message, error.details);
    }
    if (error instanceof DomainError) return send(reply, error.code, error.message, error.details);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = error.validation.map((v) => {
        const segments = v.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
        const issue = { ...v.params, code: v.keyword, message: v.message, path: segments } as unknown as z.core.$ZodIssue;
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const path = formatPath(keys.length > 0 ? [...segments, keys[0]!] : segments);
        return { path: path ? `${where}.${path}` : where, message: localised(issue) };
      });
      return send(reply, 'bad_request', `请求无效 / invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
      return send(reply, 'internal', '服务器内部错误 / internal error');
    }
    const status = error.statusCode ?? 500;
    if (status === 413 || error.code === 'FST_REQ_FILE_TOO_LARGE' || error.code === 'FST_PARTS_LIMIT' || error.code === 'FST_FILES_LIMIT') {
      return send(reply, 'payload_too_large', `请求过大 / request too large: ${error.message}`);
    }
    if (status === 415) return send(reply, 'unsupported_media_type', `不支持的内容类型 / unsupported content type: ${error.message}`);
    if (status === 429) return send(reply, 'rate_limited', `请求过于频繁 / too many requests: ${error.message}`);
    if (status >= 400 && status < 500) return send(reply, 'bad_request', `请求无效 / bad request: ${error.message}`);
    request.log.error({ err: error }, 'request failed');
    return send(reply, 'internal', '服务器内部错误 / internal error');
  });
}

