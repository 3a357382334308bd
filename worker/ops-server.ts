import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** A readiness check: passes, or says why not. */
export type ReadinessCheck = () => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface OpsServerOptions {
  /** host:port to listen on (port 0: any free one). */
  readonly address: string;
  /** The metrics at the moment of a scrape, in the Prometheus text format, and its content type. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly text: string }>;
  /** The checks /readyz runs, by name. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  readonly logger: Logger;
}

/**
 * The operations endpoint of a duban process, apart from the public API (for the monitoring
 * network only): GET /metrics (Prometheus text), /readyz (200 when every check passes, else 503,
 * with each check's verdict) and /healthz (the process answers).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const route = `${request.method} ${(request.url ?? '/').split('?')[0]}`;
    const answer = async () => {
      if (route === 'GET /metrics') {
        const { contentType, text } = await options.metrics();
        return send(200, contentType, text);
      }
      if (route === 'GET /healthz') return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (route === 'GET /readyz') {
        const entries = await Promise.all(
          Object.entries(options.checks).map(async ([name, check]) => [name, await check().catch((e: unknown) => ({ ok: false, reason: (e as Error).message }))] as const),
        );
        const ready = entries.every(([, verdict]) => verdict.ok);
        return send(ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(entries) }));
      }
      return send(404, 'application/json', JSON.stringify({ error: 'not found' }));
    };
    answer().catch((error: unknown) => {
      options.logger.warn({ err: error, route }, 'operations endpoint failed');
      if (!response.headersSent) send(500, 'application/json', JSON.stringify({ error: 'internal error' }));
    });
  });
  const [host, port] = splitHostPort(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
  options.logger.info({ metrics: `${url}/metrics`, readiness: `${url}/readyz` }, 'operations endpoint ready');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's kept-alive connection must not hold the process open.
        server.closeAllConnections();
      }),
  };
}

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), Number(address.slice(at + 1))];
}
