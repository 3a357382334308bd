/**
 * Writes the HTTP API's OpenAPI document and the TypeScript types of its paths and operations
 * (openapi-typescript) into test/generated/, for the typed client of the API tests
 * (test/support/api.ts, openapi-fetch). The document comes from the routes themselves, built in
 * this process without listening and without Temporal: a route that drifts from what the tests
 * send and expect then fails `npm run typecheck`. Run by `npm run build`, `npm run typecheck` and
 * `npm run lint` (package.json); the output is not committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { buildApi } from '../api/server';
import { migrateToLatest, openDatabase } from '../db/database';
import { projectRoot } from './binaries';

/** Where the generated document (openapi.json) and types (openapi.ts) are written. */
function generatedDir(): string {
  return path.join(projectRoot(), 'test', 'generated');
}

/**
 * gRPC's ConnectivityState.IDLE: a channel that has never tried to connect. (@grpc/grpc-js is the
 * Temporal SDK's dependency, not ours, so its enum is not imported.)
 */
const channelIdle = 0;

/**
 * A lazy connection that says whether anything used it: the document must not depend on a
 * Temporal server, so building it must not dial one.
 */
class OfflineConnection extends Connection {
  get dialled(): boolean {
    // Calls go straight to the gRPC channel (a lazy connection only connects on first use), so
    // a channel still idle, and no explicit connect, means nothing dialled out.
    return this.connectPromise !== undefined || (this.client.getChannel().getConnectivityState(false) as number) !== channelIdle;
  }
}

/** The OpenAPI document of the API as `GET /openapi.json` serves it, built offline. */
export async function buildOpenApiDocument(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-openapi-'));
  const db = openDatabase(path.join(dir, 'duban.sqlite'));
  // `.invalid` never resolves: were anything to dial, it could not reach a real server either.
  const connection = OfflineConnection.lazy({ address: 'temporal.invalid:7233' }) as OfflineConnection;
  try {
    await migrateToLatest(db);
    const app = await buildApi({
      db,
      client: new Client({ connection }),
      taskQueue: 'openapi',
      timeZone: 'Asia/Shanghai',
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      complaintsPerMinute: 10,
    });
    let document: Record<string, unknown>;
    try {
      document = app.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.close();
    }
    if (connection.dialled) throw new Error('building the OpenAPI document dialled Temporal; it must not need a server');
    return document;
  } finally {
    await connection.close();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A copy of `document` that TypeScript can express. Beside declared properties, an
 * `additionalProperties` schema becomes an index signature that applies to the declared keys
 * too; where a declared property is of another type (Open311's numeric `lat`/`long` beside its
 * string `attribute[…]` fields) no value could satisfy both, so such an index signature is
 * widened to `unknown`. The document itself is written as served.
 */
function typeable<T>(document: T): T {
  const copy = structuredClone(document);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const schema = node as { properties?: Record<string, { type?: unknown }>; additionalProperties?: unknown };
    const extra = schema.additionalProperties as { type?: unknown } | undefined;
    if (schema.properties && typeof extra === 'object' && extra.type !== undefined) {
      if (Object.values(schema.properties).some((property) => property.type !== extra.type)) schema.additionalProperties = true;
    }
    Object.values(node).forEach(visit);
  };
  visit(copy);
  return copy;
}

/** Writes `content` to `file` unless it is there already, atomically (tests may read it meanwhile). */
function writeIfChanged(file: string, content: string): void {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) return;
  fs.writeFileSync(`${file}.${process.pid}.tmp`, content);
  fs.renameSync(`${file}.${process.pid}.tmp`, file);
}

async function main(): Promise<void> {
  const started = performance.now();
  const document = await buildOpenApiDocument();
  // openapi-typescript's CommonJS typings are wrong (`export =` over an `exports.default`): load
  // its ES module, typed by its .d.mts.
  const { default: openapiTS, astToString, COMMENT_HEADER } = await import('openapi-typescript');
  const types = astToString(await openapiTS(typeable(document) as unknown as Parameters<typeof openapiTS>[0]));
  const out = generatedDir();
  fs.mkdirSync(out, { recursive: true });
  writeIfChanged(path.join(out, 'openapi.json'), `${JSON.stringify(document, null, 2)}\n`);
  writeIfChanged(
    path.join(out, 'openapi.ts'),
    `${COMMENT_HEADER}// From the API's own routes by scripts/generate-api-types.ts (npm run build / typecheck / lint).\n\n${types}`,
  );
  console.error(`[openapi] ${path.relative(projectRoot(), out)}/openapi.{json,ts} in ${Math.round(performance.now() - started)} ms`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
