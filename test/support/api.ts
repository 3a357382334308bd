import fs from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import createClient, { type Client } from 'openapi-fetch';
import pino from 'pino';
import { type ApiOptions, buildApi } from '../../api/server';
import type { Db } from '../../db/database';
import { createTokenService } from '../../services/token.service';
import type { operations, paths } from '../generated/openapi';
import { tempDatabase } from './database';
import { createTestWorker, startTimeSkipping } from './temporal';

/**
 * A client of the API typed by its OpenAPI document: paths, parameters, bodies and responses come
 * from test/generated/openapi.ts, which `npm run generate` (run by build, typecheck and lint)
 * writes from the routes (scripts/generate-api-types.ts). A route, a field or a response shape
 * that changes without the tests that use it fails the typecheck.
 */
export type ApiClient = Client<paths>;

/** An HTTP method as the generated types name it. */
type Method = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';

/** Every operation of the document as `METHOD /path` (e.g. `POST /api/v1/cases`). */
export type OperationKey = {
  [P in keyof paths]: { [M in Method]: [paths[P][M]] extends [undefined] ? never : `${Uppercase<M>} ${P}` }[Method];
}[keyof paths];

/** The JSON body an operation takes (e.g. `JsonBody<'/api/v1/cases', 'post'>`). */
export type JsonBody<P extends keyof paths, M extends Method> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** The Idempotency-Key header, as the document declares it on the POSTs of token holders. */
type IdempotencyHeader = NonNullable<operations['openCase']['parameters']['header']>;

/** Header parameters carrying `key` as the Idempotency-Key: `params: { ...idempotent(key), path }`. */
export function idempotent(key: string): { header: IdempotencyHeader } {
  return { header: { 'idempotency-key': key } };
}

/** The body of a successful answer; anything else fails with its status and error body. */
export function dataOf<D>(result: { data?: D; error?: unknown; response: Response }): D {
  if (!result.response.ok || result.data === undefined) {
    throw new Error(`${result.response.status} ${result.response.url}: ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

/** The API over real HTTP on a random port, with a worker, on the time-skipping server and a SQLite file. */
export interface ApiStack {
  readonly env: TestWorkflowEnvironment;
  readonly db: Db;
  readonly dir: string;
  readonly app: FastifyInstance;
  readonly url: string;
  /** The worker's task queue (for a case service beside the API). */
  readonly taskQueue: string;
  /** Tokens: the office, and departments CG, JD and SJ. */
  readonly tokens: { office: string; CG: string; JD: string; SJ: string };
  /** The typed client as the public (no token), the office, and departments CG, JD and SJ. */
  readonly as: { readonly public: ApiClient; readonly office: ApiClient; readonly CG: ApiClient; readonly JD: ApiClient; readonly SJ: ApiClient };
  /** The typed client bearing `token` (any string: an unknown or revoked one too), or none. */
  client(token?: string): ApiClient;
  /**
   * A raw fetch against the API with an optional bearer token and JSON body, for what the typed
   * client cannot send because the document forbids it (malformed JSON, another content type, a
   * field of the wrong type, a path or method the document does not have). Some API test files
   * have not moved to the typed client yet and use it for everything.
   */
  call(
    method: string,
    path: string,
    options?: { token?: string | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  close(): Promise<void>;
}

export async function startApiStack(options: Partial<Omit<ApiOptions, 'db' | 'client' | 'taskQueue' | 'logger'>> = {}): Promise<ApiStack> {
  const env = await startTimeSkipping();
  const { db, dir } = await tempDatabase(['CG', 'JD', 'SJ']);
  const { worker, taskQueue } = await createTestWorker(env, db);
  const running = worker.run();
  const app = await buildApi({
    db,
    client: env.client,
    taskQueue,
    timeZone: 'Asia/Shanghai',
    dataDir: dir,
    logger: pino({ level: process.env.DUBAN_TEST_LOG ?? 'silent' }),
    complaintsPerMinute: 1000,
    publicReadsPerMinute: 100_000,
    ...options,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const tokenService = createTokenService({ db });
  const token = async (role: 'office' | 'department', department?: string) =>
    (await tokenService.create({ role, name: `${department ?? 'office'} tester`, ...(department ? { department } : {}) })).token;
  const tokens = { office: await token('office'), CG: await token('department', 'CG'), JD: await token('department', 'JD'), SJ: await token('department', 'SJ') };
  const client = (bearer?: string): ApiClient =>
    createClient<paths>({ baseUrl: address, headers: bearer === undefined ? {} : { authorization: `Bearer ${bearer}` } });
  return {
    env,
    db,
    dir,
    app,
    url: address,
    taskQueue,
    tokens,
    as: { public: client(), office: client(tokens.office), CG: client(tokens.CG), JD: client(tokens.JD), SJ: client(tokens.SJ) },
    client,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      }
      const response = await fetch(`${address}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as any, text };
    },
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      await db.destroy();
      await env.teardown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A tiny valid PNG (1×1 pixel). */
export const pngBytes = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4720000000049454e44ae426082',
  'hex',
);

export type { Worker };
