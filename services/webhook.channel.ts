import crypto from 'node:crypto';
import { ChannelError } from './mail.channel';

/** How long a receiver should accept a signature for, either side of its own clock. */
export const signatureToleranceSeconds = 300;

/**
 * The signature of a webhook: HMAC-SHA256 with the subscriber's secret over `<timestamp>.<body>`,
 * sent as `Duban-Signature: t=<unix seconds>,v1=<hex>`. Covering the timestamp lets a receiver
 * refuse an old message replayed; covering the body, one altered.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Checks a `Duban-Signature` header as a receiver does: the MAC, in constant time, and the time window. */
export function verifyWebhook(secret: string, header: string, body: string, nowSeconds: number): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > signatureToleranceSeconds || !parts.v1) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** One signed JSON POST to a subscriber. */
export interface OutgoingWebhook {
  readonly url: string;
  readonly secret: string;
  /** Stable per delivery: a receiver that has seen it already can ignore a resend. */
  readonly deliveryId: string;
  readonly kind: string;
  readonly payload: unknown;
}

/**
 * Posts webhooks: a 2xx is delivered; a 4xx (but 408 and 429) is refused for good; a 5xx, a time-out
 * or a network error is worth another try.
 */
export function createWebhookChannel(options: { timeoutMs?: number; now?: () => number } = {}) {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  return {
    async send(hook: OutgoingWebhook): Promise<string> {
      const body = JSON.stringify(hook.payload);
      let response: Response;
      try {
        response = await fetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'duban-webhooks/1',
            'duban-delivery': hook.deliveryId,
            'duban-event': hook.kind,
            'duban-signature': signWebhook(hook.secret, Math.floor(now() / 1000), body),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        const code = ((error as { cause?: { code?: unknown } }).cause?.code as string | undefined) ?? 'network error';
        throw new ChannelError(`webhook: ${(error as Error).message}`, false, timedOut ? 'webhook: timeout' : `webhook: ${code}`);
      }
      // The answer's body is of no use to us; read it so that the connection is freed.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return `HTTP ${response.status}`;
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
      throw new ChannelError(`webhook: HTTP ${response.status}`, permanent, `HTTP ${response.status}`);
    },
  };
}
export type WebhookChannel = ReturnType<typeof createWebhookChannel>;
