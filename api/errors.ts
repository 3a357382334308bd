import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { google } from '@temporalio/proto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../db/errors';
import { DomainError, type ErrorCode, type FieldIssue } from '../domain/errors';
import { formatPath, localised } from '../domain/validation';

/** Every error code an HTTP client can meet, each with one status. */
export const httpErrorStatus = {
  bad_request: 400,
  invalid_input: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
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

/** An error as answered: its code (hence status), message, fields at fault and extra headers. */
export interface Answer {
  readonly code: HttpErrorCode;
  readonly message: string;
  readonly details: readonly FieldIssue[];
  readonly headers: Record<string, string>;
}

const internal: Answer = { code: 'internal', message: '服务器内部错误 / internal error', details: [], headers: {} };
const unavailable: Answer = {
  code: 'unavailable',
  message: '服务暂时不可用，请稍后重试 / a service duban depends on is unavailable: retry later',
  details: [],
  headers: { 'retry-after': '5' },
};

/** gRPC statuses that mean Temporal cannot be reached now (UNAVAILABLE, DEADLINE_EXCEEDED). */
const unreachable = new Set([14, 4]);

/**
 * Temporal's typed failures (the `google.rpc.Status` details of a gRPC error) that mean "not now":
 * a workflow whose workflow task is failing and being retried, for which the server refuses
 * updates and queries until a task of it completes again (after a worker's crash or deployment).
 */
const notNow = new Set(['temporal.api.errordetails.v1.WorkflowNotReadyFailure']);

/** The type names of the typed failures a gRPC error carries. */
function failureTypes(error: { metadata?: { get(key: string): unknown[] } }): string[] {
  const bytes = error.metadata?.get('grpc-status-details-bin')?.[0];
  if (!(bytes instanceof Uint8Array)) return [];
  try {
    return google.rpc.Status.decode(bytes).details.map((d) => (d.type_url ?? '').replace(/^type\.googleapis\.com\//, ''));
  } catch {
    return [];
  }
}

/** Whether `error` says that Temporal or the database is away for a while, not that we are wrong. */
function isUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(e) && (unreachable.has(e.code) || failureTypes(e).some((type) => notNow.has(type)))) return true;
    if (e instanceof ServiceError && /unavailable|deadline|connect/i.test(e.message)) return true;
    if (isDatabaseUnavailable(e)) return true;
  }
  return false;
}

/**
 * What to answer for `error`. Only the client's mistakes are 4xx; everything else is logged and
 * answered as a plain 500 (or 503 when a dependency is away), never with internal detail.
 */
export function answerFor(error: FastifyError | Error, request: FastifyRequest): Answer {
  if (error instanceof HttpError) return { code: error.code, message: error.message, details: error.details, headers: error.headers };
  if (error instanceof DomainError) return { code: error.code, message: error.message, details: error.details, headers: {} };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request';
    const details = error.validation.map((v) => {
      const segments = v.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const issue = { ...v.params, code: v.keyword, message: v.message, path: segments } as unknown as z.core.$ZodIssue;
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const path = formatPath(keys.length > 0 ? [...segments, keys[0]!] : segments);
      return { path: path ? `${where}.${path}` : where, message: localised(issue) };
    });
    const message = `请求无效 / invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`;
    return { code: 'bad_request', message, details, headers: {} };
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
    return internal;
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode ?? 500;
  const code = fastifyError.code;
  // More files or parts than an upload may carry breaks its documented shape (maxItems): a 400.
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT') {
    return { code: 'bad_request', message: `请求的文件或字段过多 / too many files or fields: ${error.message}`, details: [], headers: {} };
  }
  if (status === 413 || code === 'FST_REQ_FILE_TOO_LARGE') {
    return { code: 'payload_too_large', message: `请求过大 / request too large: ${error.message}`, details: [], headers: {} };
  }
  if (status === 415) {
    return { code: 'unsupported_media_type', message: `不支持的内容类型 / unsupported content type: ${error.message}`, details: [], headers: {} };
  }
  if (status === 429) return { code: 'rate_limited', message: `请求过于频繁 / too many requests: ${error.message}`, details: [], headers: {} };
  // A 4xx that fastify or a plugin raised (malformed JSON, a broken multipart body …) describes
  // the request; anything without one is ours.
  if (status >= 400 && status < 500) {
    return { code: 'bad_request', message: `请求无效 / bad request: ${error.message}`, details: [], headers: {} };
  }
  if (isUnavailable(error)) {
    request.log.warn({ err: error }, 'a dependency is unavailable');
    return unavailable;
  }
  request.log.error({ err: error }, 'request failed');
  return internal;
}

function send(reply: FastifyReply, answer: Answer) {
  return reply
    .code(httpErrorStatus[answer.code])
    .headers(answer.headers)
    .type('application/json; charset=utf-8')
    .send(errorBody(answer.code, answer.message, answer.details));
}

/** The JSON error object of a status, for the OpenAPI document. */
export const errorResponse = (description: string) => errorResponseSchema.describe(description);

/**
 * Maps every error to the one JSON shape with a status that means what it says; no stack trace
 * ever reaches a client. A request no route takes is a 405 (with `Allow`) when its path exists
 * under other methods, else a 404. `/open311/` paths answer in GeoReport's own error format.
 */
export function installErrorHandling(
  app: FastifyInstance,
  deps: {
    allowedMethods: (path: string) => string[];
    open311: (request: FastifyRequest, reply: FastifyReply, status: number, description: string) => FastifyReply;
  },
): void {
  const answer = (request: FastifyRequest, reply: FastifyReply, a: Answer) => {
    if (pathOf(request.url).startsWith('/open311/')) {
      void reply.headers(a.headers);
      const description = a.details.length > 0 ? a.details.map((d) => `${d.path}: ${d.message}`).join('; ') : a.message;
      return deps.open311(request, reply, httpErrorStatus[a.code], description);
    }
    return send(reply, a);
  };
  // A request no route takes is answered before its body is read: 405 with `Allow` when its path
  // exists under other methods, else 404.
  app.addHook('onRequest', async (request) => {
    if (!request.is404) return;
    const path = pathOf(request.url);
    const allowed = deps.allowedMethods(path);
    // A path the router could not take under a method it has (an undecodable parameter, say)
    // is simply not there.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      throw new HttpError(
        'method_not_allowed',
        `${request.method} 不适用于此地址 / ${request.method} is not allowed here: use ${allowed.join(', ')}`,
        [],
        { allow: allowed.join(', ') },
      );
    }
    throw new HttpError('not_found', `没有这个地址 / no route ${request.method} ${path}`);
  });
  app.setNotFoundHandler((request, reply) =>
    answer(request, reply, { code: 'not_found', message: `没有这个地址 / no route ${request.method} ${pathOf(request.url)}`, details: [], headers: {} }),
  );
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => answer(request, reply, answerFor(error, request)));
}

/** A request URL without its query string. */
export function pathOf(url: string): string {
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}

/**
 * Errors fastify's router raises before any route runs (a path it cannot decode, a parameter
 * longer than any id): the client's, answered in the API's own shape.
 */
export function frameworkErrorBody(error: FastifyError): ErrorResponse {
  return errorBody('bad_request', `请求地址无效 / invalid request path: ${error.message}`);
}
