import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../domain/case.schema';
import type { Principal, TokenService } from '../services/token.service';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/**
 * Reads `Authorization: Bearer <token>` on every request. No header: the public. A header with
 * an unknown or revoked token: 401, even where the public may go, so a broken token is noticed.
 */
export function installAuthentication(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null, []);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined) {
      request.principal = { kind: 'public' };
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await tokens.authenticate(match[1]!) : undefined;
    if (!principal) {
      throw new HttpError('unauthorized', '令牌无效或已吊销 / invalid or revoked bearer token', [], {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
    }
    request.principal = principal;
  });
}

export type TokenPrincipal = Extract<Principal, { kind: 'token' }>;

/** The token holder behind the request; 401 for the public. */
export function requireToken(request: FastifyRequest): TokenPrincipal {
  if (request.principal.kind !== 'token') {
    throw new HttpError('unauthorized', '需要令牌 / a bearer token is required', [], { 'www-authenticate': 'Bearer' });
  }
  return request.principal;
}

/** The office's token holder; 401 for the public, 403 for a department. */
export function requireOffice(request: FastifyRequest): TokenPrincipal {
  const principal = requireToken(request);
  if (principal.role !== 'office') throw new HttpError('forbidden', '仅限督办机构 / only the office may do this');
  return principal;
}

/** Who acts, as recorded on the timeline. */
export function actorOf(principal: TokenPrincipal): Actor {
  return principal.role === 'office'
    ? { role: 'office', name: principal.name }
    : { role: 'department', department: principal.department!, name: principal.name };
}

/** A stable id of the caller for idempotency keys and rate limits. */
export function principalId(request: FastifyRequest): string {
  return request.principal.kind === 'token' ? request.principal.tokenId : `public:${request.ip}`;
}
