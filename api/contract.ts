import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { z } from 'zod';
import { HttpError } from './errors';
import './rate-limits';

/** Who may call a route: anyone, any token holder, the office, or a department (on its own tasks). */
export type Access = 'public' | 'token' | 'office' | 'department';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; checked before anything else is read. Default: public. */
    access?: Access;
    /**
     * Statuses the route answers beyond those its declaration implies: 409 for a command the
     * current state refuses, 422 for content the rules refuse, 503 when it needs Temporal.
     */
    answers?: readonly number[];
  }
}

/** What each error status means, as the OpenAPI document says it. */
const statusMeaning: Record<number, string> = {
  400: 'the request does not match its schema (details name the fields)',
  401: 'no bearer token where one is needed, or an unknown or revoked one',
  403: 'the caller may not do this',
  404: 'no such resource, or not visible to the caller',
  409: 'the current state does not allow this, or the Idempotency-Key is still in use',
  413: 'the body or a file is too large',
  415: 'the body is not in a media type this operation reads',
  422: 'well-formed content that the rules refuse (details name the fields)',
  429: 'too many requests from this client (Retry-After)',
  500: 'a fault of the server (logged)',
  503: 'a service it depends on is unavailable; retry later (Retry-After)',
};

/** The statuses a route can answer with an error, from what it declares. */
export function errorStatusesOf(route: Pick<RouteOptions, 'schema' | 'config'>): number[] {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const config = route.config ?? {};
  const access = config.access ?? 'public';
  // An unknown or revoked token is refused everywhere, so that a broken token is noticed.
  const statuses = new Set<number>([401, 500, ...(config.answers ?? [])]);
  if (access === 'office' || access === 'department') statuses.add(403);
  if (schema.params) statuses.add(400).add(404);
  if (schema.querystring || schema.headers) statuses.add(400);
  if (schema.body || (schema.consumes as string[] | undefined)?.length) statuses.add(400).add(413).add(415);
  const headers = schema.headers as z.ZodObject | undefined;
  if (headers?.shape && 'idempotency-key' in headers.shape) statuses.add(409);
  if (config.publicLimit) statuses.add(429);
  return [...statuses].sort((a, b) => a - b);
}

export interface ContractOptions {
  /** The error body schema of a route (JSON error object, GeoReport's list, XML text), per status. */
  readonly errorResponse: (url: string, status: number, description: string) => unknown;
}

/** A route's path pattern as a regular expression over request paths. */
function pathPattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z_][A-Za-z0-9_]*|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+?' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Makes the API do what its OpenAPI document says:
 * - each route declares who may call it (`config.access`); the security requirement in the
 *   document and the check made before anything else (401, then 403) both follow from it;
 * - each route documents every error status it can answer, derived from what it declares;
 * - a method a path does not have is a 405 with `Allow`, not a 404.
 */
export function installContract(app: FastifyInstance, options: ContractOptions): {
  allowedMethods: (path: string) => string[];
} {
  const known: { method: string; pattern: RegExp }[] = [];

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) known.push({ method, pattern: pathPattern(route.url) });
    const schema = route.schema as (Record<string, unknown> & { response?: Record<string, unknown> }) | undefined;
    if (!schema || schema.hide) return;
    // Clients (and the generated one in the tests) name operations by their id: every route has one.
    if (typeof schema.operationId !== 'string') throw new Error(`route ${String(route.method)} ${route.url} declares no operationId`);
    const access = route.config?.access ?? 'public';
    if (access !== 'public') schema.security = [{ bearer: [] }];
    const response = { ...schema.response };
    for (const status of errorStatusesOf(route)) {
      response[status] ??= options.errorResponse(route.url, status, statusMeaning[status] ?? `error ${status}`);
    }
    schema.response = response;
  });

  // After authentication (an earlier onRequest hook), before the body is even read.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const principal = request.principal;
    if (principal.kind !== 'token') {
      throw new HttpError('unauthorized', '需要令牌 / a bearer token is required', [], { 'www-authenticate': 'Bearer' });
    }
    if (access === 'office' && principal.role !== 'office') {
      throw new HttpError('forbidden', '仅限督办机构 / only the office may do this');
    }
    if (access === 'department' && principal.role !== 'department') {
      throw new HttpError('forbidden', '仅限责任部门 / only the responsible department may do this');
    }
  });

  return {
    allowedMethods(path: string) {
      const methods = new Set(known.filter((k) => k.pattern.test(path)).map((k) => k.method));
      return [...methods].sort();
    },
  };
}
