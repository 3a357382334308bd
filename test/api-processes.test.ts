import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/database';
import { createTokenService } from '../services/token.service';
import type { DevServer } from '../worker/dev-server';
import { processDatabase } from './support/database';
import { cli, freePort, kill, startTestDevServer, startWorkerProcess } from './support/processes';

/** One request on a connection of its own (so that the cluster hands each to the next process). */
function request(port: number, method: string, pathname: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: pathname, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * `npm start` with DUBAN_API_PROCESSES=2: the built worker forks two API processes sharing the
 * port, on the dev server; commands and reads go through them, the public's limits hold across
 * both, and stopping the worker stops them.
 */
describe('the API in several processes', () => {
  let dir: string;
  let server: DevServer;
  let worker: ChildProcess | undefined;
  let db: Db;
  let apiPort: number;
  let office: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-api-processes-'));
    const port = await freePort();
    server = await startTestDevServer(dir, port);
    apiPort = await freePort();
    // The read model: the data directory's SQLite file, or a PostgreSQL database of its own in the
    // PostgreSQL pass.
    const database = await processDatabase(path.join(dir, 'data'));
    const env = {
      ...database.env,
      TEMPORAL_ADDRESS: server.address,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      DUBAN_TASK_QUEUE: `processes-${port}`,
      DUBAN_API_PORT: String(apiPort),
      DUBAN_API_PROCESSES: '2',
      DUBAN_PUBLIC_READS_PER_MINUTE: '4',
      LOG_LEVEL: 'info',
    };
    worker = await startWorkerProcess(env);
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], env);
    db = openDatabase(database.url);
    office = (await createTokenService({ db }).create({ role: 'office', name: 'tester' })).token;
  });

  afterAll(async () => {
    if (worker) await kill(worker, 'SIGTERM');
    await db?.destroy();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens a case through one process and every process lists it', async () => {
    const auth = { authorization: `Bearer ${office}` };
    const opened = await request(
      apiPort,
      'POST',
      '/api/v1/cases',
      { ...auth, 'content-type': 'application/json' },
      JSON.stringify({ title: '人民路占道经营', category: '市容秩序', severity: 'major', source: 'inspection', leadDepartment: 'CG' }),
    );
    expect(opened.status).toBe(201);
    const { caseId } = JSON.parse(opened.body) as { caseId: string };
    for (let i = 0; i < 4; i++) {
      const listed = await request(apiPort, 'GET', '/api/v1/cases?limit=5', auth);
      expect(listed.status).toBe(200);
      const page = JSON.parse(listed.body) as { items: { id: string; openedAt: string; status: string }[] };
      expect(page.items.map((item) => item.id)).toEqual([caseId]);
      expect(page.items[0]!.openedAt).toMatch(/\+08:00$/);
    }
  });

  it('holds a public limit across the processes: each allows its share', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await request(apiPort, 'GET', '/api/v1/bulletins')).status);
    // 4 a minute in all: two processes allow 2 each. Without the shares, each would allow 4.
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(4);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(4);
  });

  it('stops the API processes with the worker', async () => {
    await kill(worker!, 'SIGTERM');
    worker = undefined;
    await expect(request(apiPort, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
