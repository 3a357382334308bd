/**
 * The load generator, in a process of its own so that it does not share the API's event loop:
 * `node dist/bench/load.js < options.json` runs autocannon and prints its summary as JSON.
 * With `paths`, each request takes the next path in turn (a different case or task each time).
 */
import fs from 'node:fs';
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  paths?: string[];
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  total: number;
  seconds: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(fs.readFileSync(0, 'utf8')) as LoadOptions;
  let next = 0;
  const paths = options.paths;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? 10 }),
    requests: [
      {
        method: options.method ?? 'GET',
        ...(options.headers ? { headers: options.headers } : {}),
        ...(options.body !== undefined ? { body: options.body } : {}),
        ...(paths ? { setupRequest: (req: autocannon.Request) => ({ ...req, path: paths[next++ % paths.length]! }) } : {}),
      },
    ],
  });
  const total = result.requests.total;
  const out: LoadResult = {
    requestsPerSecond: total / (result.duration || 1),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
    total,
    seconds: result.duration,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
