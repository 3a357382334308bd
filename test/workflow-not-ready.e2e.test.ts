import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../activities';
import { buildApi } from '../api/server';
import type { Db } from '../db/database';
import { createTokenService } from '../services/token.service';
import type { DevServer } from '../worker/dev-server';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { tempDatabase } from './support/database';
import { freePort, startTestDevServer } from './support/processes';

/**
 * A workflow whose workflow task fails again and again (a broken deployment, a worker crashing in a
 * loop) is refused updates by Temporal ("Workflow Task in failed state", a typed
 * WorkflowNotReadyFailure). The API answers that as 503 with Retry-After, not as a 500 a client
 * would take for a bug; the command changes nothing, and the same request with the same
 * Idempotency-Key goes through once a working build runs the workflow again.
 */
describe('a command for a workflow whose task keeps failing', () => {
  let dir: string;
  let server: DevServer;
  let connection: Connection;
  let native: NativeConnection;
  let db: Db;
  let app: FastifyInstance;
  let url: string;
  let office: string;
  let cg: string;
  const taskQueue = 'not-ready';

  /** Workers still running (stopped after a failed assertion too, before their connection closes). */
  const workers = new Set<{ stop(): Promise<void> }>();

  /** A worker on the dev server: duban's build, or the broken one. */
  async function startWorker(build: 'duban' | 'broken'): Promise<{ stop(): Promise<void> }> {
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      ...(build === 'duban'
        ? { workflowBundle: { codePath: inject('workflowBundle') } }
        : { workflowsPath: path.join(__dirname, 'fixtures', 'broken-build.workflows.ts') }),
      activities: createActivities({ db, timeZone: 'Asia/Shanghai' }),
    });
    const running = worker.run();
    const handle = {
      async stop() {
        if (!workers.delete(handle)) return;
        worker.shutdown();
        await running;
      },
    };
    workers.add(handle);
    return handle;
  }

  async function call(method: string, route: string, token: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-not-ready-'));
    server = await startTestDevServer(dir, await freePort());
    connection = await Connection.connect({ address: server.address });
    native = await NativeConnection.connect({ address: server.address });
    await ensureSearchAttributes(connection, 'default');
    ({ db } = await tempDatabase(['CG']));
    app = await buildApi({
      db,
      client: new Client({ connection }),
      taskQueue,
      timeZone: 'Asia/Shanghai',
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      complaintsPerMinute: 60,
      publicReadsPerMinute: 600,
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    const tokens = createTokenService({ db });
    office = (await tokens.create({ role: 'office', name: 'office tester' })).token;
    cg = (await tokens.create({ role: 'department', name: 'CG tester', department: 'CG' })).token;
  });

  afterAll(async () => {
    try {
      for (const worker of [...workers]) await worker.stop();
      await app?.close();
      await db?.destroy();
      await native?.close();
      await connection?.close();
    } finally {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is answered 503 with Retry-After, changes nothing, and goes through once a working build runs', async () => {
    const good = await startWorker('duban');
    const opened = await call('POST', '/api/v1/cases', office, {
      title: '井盖缺失',
      category: '市容秩序',
      severity: 'general',
      source: 'inspection',
      leadDepartment: 'CG',
    });
    expect(opened.status).toBe(201);
    const caseId = opened.body.caseId as string;
    const taskId = `${caseId}-T1`;
    await good.stop();

    // The broken build takes over; a signal gives the task workflow a workflow task to fail.
    const broken = await startWorker('broken');
    const client = new Client({ connection });
    const handle = client.workflow.getHandle(taskId);
    await handle.signal('resyncJournal');
    const attempt = async () => (await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0;
    for (let i = 0; i < 300 && (await attempt()) < 3; i++) await new Promise((r) => setTimeout(r, 200));
    expect(await attempt()).toBeGreaterThanOrEqual(3);

    const route = `/api/v1/cases/${caseId}/tasks/${taskId}/acknowledge`;
    const key = { 'idempotency-key': 'ack-while-broken' };
    const refused = await call('POST', route, cg, {}, key);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.error.code).toBe('unavailable');
    const task = () => db.selectFrom('tasks').select(['status', 'acknowledged_at']).where('id', '=', taskId).executeTakeFirstOrThrow();
    expect(await task()).toMatchObject({ status: 'assigned', acknowledged_at: null });
    await broken.stop();

    // A working build again: the same request, same key, is carried out (the 503 kept no claim).
    const fixed = await startWorker('duban');
    try {
      let retried = await call('POST', route, cg, {}, key);
      for (let i = 0; i < 60 && retried.status === 503; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        retried = await call('POST', route, cg, {}, key);
      }
      expect(retried.status).toBe(200);
      expect((await task()).status).toBe('acknowledged');
    } finally {
      await fixed.stop();
    }
  });
});
