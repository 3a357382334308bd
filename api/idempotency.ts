import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/database';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../db/idempotency.repository';
import { principalId } from './auth';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { principal: string; key: string } | null;
  }
}

const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, as POST routes document it. */
export const idempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .regex(keyPattern, '1 到 255 个可见 ASCII 字符 / 1 to 255 visible ASCII characters')
      .optional()
      .describe('a retry with the same key and body returns the first response and does nothing twice'),
  })
  .catchall(z.string());

/** The Idempotency-Key of a request, checked; undefined when it has none. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !keyPattern.test(key)) {
    throw new HttpError('bad_request', 'Idempotency-Key: 须为 1 到 255 个可见 ASCII 字符 / 1 to 255 visible ASCII characters', [
      { path: 'header.idempotency-key', message: '1 to 255 visible ASCII characters' },
    ]);
  }
  return key;
}

/** A key to pass to Temporal (update id, open request) that is unique per caller. */
export function requestKeyOf(request: FastifyRequest): string | undefined {
  return request.idempotency ? `${request.idempotency.principal}:${request.idempotency.key}` : undefined;
}

/**
 * `Idempotency-Key` on POST: the first request with a key runs; a retry with the same key and
 * body gets the first response again (header `Idempotent-Replayed: true`) and changes nothing,
 * even while the first is still running; the same key with another body is refused (422).
 * Failures of the server (5xx) are not kept, so that a retry runs again.
 */
export function installIdempotency(app: FastifyInstance, db: Db): void {
  app.decorateRequest('idempotency', null);
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST' || request.isMultipart()) return;
    const key = idempotencyKeyOf(request);
    if (key === undefined) return;
    const principal = principalId(request);
    const requestHash = crypto
      .createHash('sha256')
      .update(JSON.stringify(request.body ?? null))
      .digest('hex');
    const path = request.routeOptions.url ?? request.url;
    const claim = { principal, key, method: request.method, path: request.url, requestHash, now: new Date().toISOString() };
    for (let waited = 0; ; waited += 100) {
      const state = await claimIdempotencyKey(db, claim);
      if (state.state === 'new') {
        request.idempotency = { principal, key };
        return;
      }
      if (state.state === 'mismatch') {
        throw new HttpError('invalid_input', `Idempotency-Key ${key} 已用于另一个请求 / was used for a different request`, [
          { path: 'header.idempotency-key', message: `already used for a different request to ${path}` },
        ]);
      }
      if (state.state === 'done') {
        return reply.code(state.status).header('idempotent-replayed', 'true').type(state.contentType).send(state.body);
      }
      // A claim whose request died with its process (no response after two minutes) is taken
      // over; the command below it is idempotent at Temporal too, keyed by the same key.
      if (Date.now() - Date.parse(state.since) > 120_000) {
        await releaseIdempotencyKey(db, principal, key);
        continue;
      }
      if (waited >= 30_000) {
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
      await releaseIdempotencyKey(db, claim.principal, claim.key);
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
}
