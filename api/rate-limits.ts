import type { CreateRateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { clientKey, networkKey } from './client-address';
import { HttpError } from './errors';

/** A limit per client: at most `max` requests per `timeWindow` milliseconds. */
export interface RateLimit {
  readonly max: number;
  readonly timeWindow: number;
}

/** The public's limits: on filing complaints, and on reading what is public. */
export interface PublicLimits {
  readonly filing: RateLimit;
  readonly reading: RateLimit;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which of the public's limits the route counts against, shared by every route that names it. */
    publicLimit?: keyof PublicLimits;
  }
}

/** An IPv6 /48 (a whole site) may make this many times a single client's requests. */
const networkFactor = 10;

/** Clients counted per limit (in memory, least recently seen forgotten first). */
const tracked = 100_000;

/**
 * Counts the public's requests on routes that declare a `publicLimit`: each limit is one count per
 * client across all its routes (filing a complaint on the API and through Open311 is one budget),
 * a client being its IPv4 address or its IPv6 /64; and an IPv6 /48 as a whole gets ten clients'
 * worth, so that a site rotating through its /64s gains little. Needs @fastify/rate-limit.
 */
export function installPublicLimits(app: FastifyInstance, limits: PublicLimits): void {
  const limiter = (limit: RateLimit) => {
    // `cache` sizes each limiter's store; the plugin reads it from these options though its types omit it.
    const options = (o: CreateRateLimitOptions) => ({ ...o, cache: tracked }) as CreateRateLimitOptions;
    const perClient = app.createRateLimit(options({ ...limit, keyGenerator: (r: FastifyRequest) => clientKey(r.ip) }));
    const perNetwork = app.createRateLimit(
      options({ max: limit.max * networkFactor, timeWindow: limit.timeWindow, keyGenerator: (r: FastifyRequest) => networkKey(r.ip) ?? r.ip }),
    );
    return async (request: FastifyRequest): Promise<void> => {
      const checks = networkKey(request.ip) === undefined ? [perClient] : [perClient, perNetwork];
      for (const check of checks) {
        const result = await check(request);
        if (!result.isAllowed && result.isExceeded) {
          const seconds = Math.max(1, result.ttlInSeconds);
          throw new HttpError('rate_limited', `请求过于频繁，请 ${seconds} 秒后再试 / too many requests: retry in ${seconds} s`, [], {
            'retry-after': String(seconds),
          });
        }
      }
    };
  };
  const hooks = { filing: limiter(limits.filing), reading: limiter(limits.reading) };
  app.addHook('onRoute', (route) => {
    const which = route.config?.publicLimit;
    if (!which) return;
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...existing, hooks[which]];
  });
}
