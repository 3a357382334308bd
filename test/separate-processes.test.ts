import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../worker/dev-server';
import { ChaosApi, emptyStats } from '../bench/chaos-client';
import type { Db } from '../db/database';
import { getTaskQuery } from '../workflows/messages';
import { tempDatabase } from './support/database';
import { cli, freePort, kill, startDuban, startTestDevServer } from './support/processes';
import { startTcpBalancer } from './support/tcp-gate';

const png = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4720000000049454e44ae426082',
  'hex',
);

/**
 * `duban worker` and `duban api` as processes of their own: two workers and two API processes on
 * one Temporal server (in a namespace of duban's own, as on a shared cluster) and one read model,
 * evidence on one shared directory; a worker stopped mid-run leaves the other doing the work.
 */
describe('separate worker and API processes against one cluster', () => {
  let dir: string;
  let server: DevServer;
  let base: NodeJS.ProcessEnv;
  let db: Db;
  let connection: Connection;
  const workers: { child: ChildProcess; ops: string }[] = [];
  const apis: { child: ChildProcess; url: string; ops: string }[] = [];
  const namespace = 'duban-city';

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-processes-'));
    const port = await freePort();
    server = await startTestDevServer(dir, port, namespace);
    // The read model every process shares: a SQLite file, or a PostgreSQL database of its own when
    // the suite runs on PostgreSQL.
    const database = await tempDatabase();
    db = database.db;
    connection = await Connection.connect({ address: server.address });
    base = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: namespace,
      DATABASE_URL: database.file,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      DUBAN_EVIDENCE_DIR: path.join(dir, 'shared-evidence'),
      DUBAN_TASK_QUEUE: `processes-${port}`,
      DUBAN_BULLETIN_CRON: 'off',
      LOG_LEVEL: 'info',
    };
    for (let i = 0; i < 2; i++) {
      const ops = `127.0.0.1:${await freePort()}`;
      workers.push({ child: await startDuban('worker', { ...base, DUBAN_METRICS_ADDRESS: ops }), ops });
    }
    for (let i = 0; i < 2; i++) {
      const apiPort = await freePort();
      const ops = `127.0.0.1:${await freePort()}`;
      apis.push({ child: await startDuban('api', { ...base, DUBAN_API_PORT: String(apiPort), DUBAN_METRICS_ADDRESS: ops }), url: `http://127.0.0.1:${apiPort}`, ops });
    }
  }, 600_000);

  afterAll(async () => {
    for (const p of [...workers, ...apis]) await kill(p.child, 'SIGTERM');
    await connection?.close();
    await db?.destroy();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = async (api: { url: string }, method: string, url: string, token: string, body?: unknown) => {
    const response = await fetch(`${api.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('serves cases through either API, worked by either worker, and goes on when one worker stops', async () => {
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], base);
    const office = (JSON.parse(await cli(['token', 'create', '--role', 'office', '--name', '督办'], base)) as { token: string }).token;
    const cg = (JSON.parse(await cli(['token', 'create', '--role', 'department', '--dept', 'CG', '--name', '城管'], base)) as { token: string }).token;

    // Readiness of each role: the API's own /readyz, and the operations endpoints.
    for (const api of apis) {
      expect((await fetch(`${api.url}/readyz`)).status).toBe(200);
      const ops = (await (await fetch(`http://${api.ops}/readyz`)).json()) as { checks: Record<string, unknown> };
      expect(Object.keys(ops.checks).sort()).toEqual(['database', 'temporal']);
    }
    for (const worker of workers) {
      expect(await (await fetch(`http://${worker.ops}/readyz`)).json()).toEqual({
        status: 'ready',
        checks: { database: { ok: true }, temporal: { ok: true }, worker: { ok: true } },
      });
    }

    const request = { title: '人民路占道经营', category: '市容秩序', severity: 'serious', source: 'inspection', leadDepartment: 'CG', location: { address: '人民路 88 号' } };
    const opened = await call(apis[0]!, 'POST', '/api/v1/cases', office, request);
    expect(opened.status).toBe(201);
    const caseId = opened.body.caseId as string;
    const taskId = (opened.body.tasks as { taskId: string }[])[0]!.taskId;
    expect((await call(apis[1]!, 'POST', `/api/v1/cases/${caseId}/tasks/${taskId}/acknowledge`, cg, {})).status).toBe(200);

    // Evidence uploaded through one API process is served by the other.
    const form = new FormData();
    form.append('file', new Blob([png], { type: 'image/png' }), 'after.png');
    const uploaded = await fetch(`${apis[0]!.url}/api/v1/evidence`, { method: 'POST', headers: { authorization: `Bearer ${cg}` }, body: form });
    expect(uploaded.status).toBe(201);
    const [stored] = (await uploaded.json()) as { file: string; sha256: string }[];
    const downloaded = await fetch(`${apis[1]!.url}/api/v1/evidence/${stored!.sha256}`, { headers: { authorization: `Bearer ${cg}` } });
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer())).toEqual(png);
    expect(fs.existsSync(path.join(base.DUBAN_EVIDENCE_DIR!, stored!.sha256.slice(0, 2), stored!.sha256))).toBe(true);

    // One worker stops; the other does the rest.
    await kill(workers[0]!.child, 'SIGTERM');
    const submitted = await call(apis[1]!, 'POST', `/api/v1/cases/${caseId}/tasks/${taskId}/submit`, cg, { report: '已清理', evidence: [{ file: stored!.file }] });
    expect(submitted.status).toBe(200);
    expect(submitted.body.status).toBe('submitted');
    const accepted = await call(apis[0]!, 'POST', `/api/v1/cases/${caseId}/tasks/${taskId}/verify`, office, { decision: 'accept' });
    expect(accepted.status).toBe(200);

    const metrics = await (await fetch(`http://${apis[1]!.ops}/metrics`)).text();
    expect(metrics).toMatch(/^duban_http_requests_total\{method="POST",route="\/api\/v1\/cases\/:caseId\/tasks\/:taskId\/submit",status="200"\} 1$/m);
    expect(metrics).not.toMatch(/^duban_worker_polling/m);
    expect(await (await fetch(`http://${workers[1]!.ops}/metrics`)).text()).toMatch(/^duban_worker_polling 1$/m);
  }, 600_000);

  it('spreads cases over both APIs and both workers, and finishes every one when a worker and an API are killed mid-run', async () => {
    // Two workers again (the first test stopped one), and a round-robin balancer in front of both
    // APIs, as deploy/haproxy.cfg puts one.
    const ops = `127.0.0.1:${await freePort()}`;
    workers.push({ child: await startDuban('worker', { ...base, DUBAN_METRICS_ADDRESS: ops }), ops });
    const balancer = await startTcpBalancer(apis.map((a) => a.url.replace('http://', '')));
    try {
      const office = (JSON.parse(await cli(['token', 'create', '--role', 'office', '--name', '督办二'], base)) as { token: string }).token;
      const cg = (JSON.parse(await cli(['token', 'create', '--role', 'department', '--dept', 'CG', '--name', '城管二'], base)) as { token: string }).token;
      const client = new Client({ connection, namespace });
      const api = new ChaosApi(`http://${balancer.address}`, emptyStats(), { requestTimeoutMs: 30_000, commandDeadlineMs: 300_000 });
      // Whether a command whose answer was lost took effect: the task as the server recorded it.
      const truth = async (taskId: string) => {
        for (;;) {
          try {
            return await client.workflow.getHandle(taskId).query(getTaskQuery);
          } catch {
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      };
      const cases = 16;
      let opened = 0;
      let killed: Promise<void> | undefined;
      let servedBeforeKill = '';
      const killedWorker = `${workers[1]!.child.pid}@`;
      const survivor = `${workers[2]!.child.pid}@`;
      const drive = async (i: number): Promise<string> => {
        const body = { title: `横向测试 ${i}`, category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG', location: { address: `人民路 ${i} 号` } };
        const { caseId, tasks } = (await api.command('/api/v1/cases', office, body, `h-${i}-open`, () => Promise.resolve(false))) as { caseId: string; tasks: { taskId: string }[] };
        // A third of the way in, one worker and one API die, without warning.
        // (What the API about to die has served so far is read from it first.)
        if (++opened === Math.ceil(cases / 3)) {
          killed = fetch(`http://${apis[0]!.ops}/metrics`)
            .then(async (response) => {
              servedBeforeKill = await response.text();
            })
            .then(() => Promise.all([kill(workers[1]!.child, 'SIGKILL'), kill(apis[0]!.child, 'SIGKILL')]))
            .then(() => undefined);
        }
        const taskId = tasks[0]!.taskId;
        const path = `/api/v1/cases/${caseId}/tasks/${taskId}`;
        await api.command(`${path}/acknowledge`, cg, {}, `h-${i}-ack`, async () => (await truth(taskId)).status !== 'assigned');
        await api.command(`${path}/submit`, cg, { report: '已清理', evidence: [{ url: 'https://example.org/after.jpg' }] }, `h-${i}-submit`, async () => (await truth(taskId)).submissionCount >= 1);
        await api.command(`${path}/verify`, office, { decision: 'accept' }, `h-${i}-verify`, async () => (await truth(taskId)).status === 'accepted');
        return caseId;
      };
      const caseIds = await Promise.all(Array.from({ length: cases }, (_, i) => drive(i)));
      await killed;

      // Every case closed, in its workflow and in the read model, each step on its timeline once.
      for (const caseId of caseIds) {
        const handle = client.workflow.getHandle(caseId);
        expect(await handle.result()).toEqual({ caseId, status: 'closed' });
      }
      const until = Date.now() + 60_000;
      const unconfirmed = () => db.selectFrom('journal_streams').select('stream').where((eb) => eb('seq', '>', eb.ref('confirmed'))).execute();
      while ((await unconfirmed()).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
      const rows = await db.selectFrom('cases').select(['id', 'status']).where('id', 'in', caseIds).execute();
      expect(rows.map((r) => r.status)).toEqual(caseIds.map(() => 'closed'));
      const counts = await db
        .selectFrom('events')
        .select(['action', (eb) => eb.fn.countAll<number>().as('n')])
        .where('case_id', 'in', caseIds)
        .where('action', 'not like', 'notice.%')
        .groupBy('action')
        .orderBy('action')
        .execute();
      expect(counts.map((c) => [c.action, Number(c.n)])).toEqual(
        ['case.closed', 'case.opened', 'task.accepted', 'task.acknowledged', 'task.assigned', 'task.submitted'].map((action) => [action, cases]),
      );
      // Both workers took part (the identity of the worker that completed each workflow task is in
      // the histories), and both APIs answered commands (the dead one's count was read before it died).
      const identities = new Set<string>();
      for (const caseId of caseIds) {
        for (const id of [caseId, `${caseId}-T1`]) {
          const history = await client.workflow.getHandle(id).fetchHistory();
          for (const event of history.events ?? []) {
            const identity = event.workflowTaskCompletedEventAttributes?.identity;
            if (identity) identities.add(identity);
          }
        }
      }
      expect([...identities].some((identity) => identity.startsWith(killedWorker)), [...identities].join(', ')).toBe(true);
      expect([...identities].some((identity) => identity.startsWith(survivor)), [...identities].join(', ')).toBe(true);
      const commandsAnswered = (metrics: string) =>
        [...metrics.matchAll(/^duban_http_requests_total\{method="POST",route="([^"]+)",status="2\d\d"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
      expect(commandsAnswered(servedBeforeKill)).toBeGreaterThan(0);
      expect(commandsAnswered(await (await fetch(`http://${apis[1]!.ops}/metrics`)).text())).toBeGreaterThan(0);
      const polled = await (await fetch(`http://${workers[2]!.ops}/metrics`)).text();
      expect(polled).toMatch(/^duban_worker_polling 1$/m);
    } finally {
      await balancer.close();
    }
  }, 600_000);
});
