import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/database';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  purgeIdempotencyKeys,
  releaseIdempotencyKey,
  takeOverIdempotencyKey,
} from '../db/idempotency.repository';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { principal: string; key: string; claimId: string } | null;
  }
}

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, as POST routes of token holders document it. */
export const idempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .regex(keyPattern, '1 到 255 个可见 ASCII 字符 / 1 to 255 visible ASCII characters')
      .optional()
      .describe('a retry with the same key and body returns the first response and does nothing twice'),
  })
  .catchall(z.string());

/** Whether the route's header schema declares the key: only those routes honour one (and have checked its form). */
function declaresKey(request: FastifyRequest): boolean {
  const headers = request.routeOptions.schema?.headers as z.ZodObject | undefined;
  return headers?.shape !== undefined && 'idempotency-key' in headers.shape;
}

/** A key to pass to Temporal (update id, open request) that is unique per caller. */
export function requestKeyOf(request: FastifyRequest): string | undefined {
  return request.idempotency ? `${request.idempotency.principal}:${request.idempotency.key}` : undefined;
}

export interface IdempotencyOptions {
  /** How long a key and its response are kept (and replayed), in milliseconds. */
  readonly retentionMs: number;
  /** A claim with no response after this long is taken over by a retry (its process died). */
  readonly staleAfterMs?: number;
  /** How long a retry waits for the first request with its key before answering 409. */
  readonly waitMs?: number;
}

/**
 * `Idempotency-Key` on POST by token holders: the first request with a key runs; a retry with the
 * same key, route and body gets the first response again (header `Idempotent-Replayed: true`)
 * and changes nothing, even while the first is still running; the same key for another request
 * is refused (409). Failures of the server (5xx) are not kept, so that a retry runs again.
 * Keys are claimed only once the caller is known and the request valid, stored with the route
 * pattern, and forgotten after the retention period by a background purge. The public's requests
 * claim nothing (anyone could fill the table); their header is ignored.
 */
export function installIdempotency(app: FastifyInstance, db: Db, options: IdempotencyOptions): void {
  const staleAfterMs = options.staleAfterMs ?? 120_000;
  const waitMs = options.waitMs ?? 30_000;
  app.decorateRequest('idempotency', null);
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.principal.kind !== 'token' || !declaresKey(request)) return;
    const key = request.headers['idempotency-key'];
    // The route's header schema has checked the key's form already.
    if (typeof key !== 'string') return;
    const principal = request.principal.tokenId;
    const path = request.routeOptions.url ?? request.url.split('?')[0]!;
    const requestHash = crypto
      .createHash('sha256')
      .update(JSON.stringify({ params: request.params ?? null, body: request.body ?? null }))
      .digest('hex');
    const claimId = crypto.randomUUID();
    for (let waited = 0; ; waited += 100) {
      const now = new Date().toISOString();
      const state = await claimIdempotencyKey(db, { principal, key, method: request.method, path, requestHash, claimId, now });
      if (state.state === 'new') {
        request.idempotency = { principal, key, claimId };
        return;
      }
      if (state.state === 'mismatch') {
        // The key is bound to another request already: a conflict with what is stored (409).
        throw new HttpError('conflict', `Idempotency-Key ${key} 已用于另一个请求 / was used for a different request`, [
          { path: 'header.idempotency-key', message: `already used for a different request (${state.path})` },
        ]);
      }
      if (state.state === 'done') {
        return reply.code(state.status).header('idempotent-replayed', 'true').type(state.contentType).send(state.body);
      }
      // A claim whose request died with its process is taken over by one waiter only; the
      // command below it is idempotent at Temporal too, keyed by the same key.
      if (Date.now() - Date.parse(state.since) > staleAfterMs) {
        if (await takeOverIdempotencyKey(db, { principal, key, since: state.since, claimId: state.claimId }, claimId, now)) {
          request.idempotency = { principal, key, claimId };
          return;
        }
        continue;
      }
      if (waited >= waitMs) {
        throw new HttpError('conflict', `Idempotency-Key ${key} 的请求仍在处理 / the first request with this key is still running`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim) return payload;
    request.idempotency = null;
    if (reply.statusCode >= 500) {
      await releaseIdempotencyKey(db, claim);
    } else {
      await completeIdempotencyKey(db, {
        ...claim,
        status: reply.statusCode,
        body: typeof payload === 'string' ? payload : JSON.stringify(payload),
        contentType: String(reply.getHeader('content-type') ?? 'application/json'),
      });
    }
    return payload;
  });

  // The purge runs in the background, a few times per retention period.
  const purge = async () => {
    try {
      const purged = await purgeIdempotencyKeys(db, new Date(Date.now() - options.retentionMs).toISOString());
      if (purged > 0) app.log.info({ purged }, 'forgot expired idempotency keys');
    } catch (error) {
      app.log.error({ err: error }, 'idempotency key purge failed');
    }
  };
  const timer = setInterval(() => void purge(), Math.min(Math.max(options.retentionMs / 4, 1000), 3_600_000));
  timer.unref();
  app.addHook('onReady', purge);
  app.addHook('onClose', () => clearInterval(timer));
}
