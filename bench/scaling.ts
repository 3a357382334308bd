import { type ChildProcess, execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createPostgresDatabase, type Db, migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { projectRoot } from '../scripts/binaries';
import { createCaseService } from '../services/case.service';
import { fmt, pool, quantile, timed } from './stats';
import { processCpuMs, startWorker } from './timers';

const stop = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });

export interface ScalingRow {
  readModel: 'sqlite' | 'postgres';
  workers: number;
  casesPerSecond: number;
  commandP50Ms: number;
  commandP99Ms: number;
  workerCpuMsPerCase: number;
}

/**
 * The lifecycle (open, acknowledge, submit, accept, the case closed) with the read model on SQLite
 * and on PostgreSQL, worked by one and by two `duban worker` processes, each run on a task queue
 * and a read model of its own. The commands come from this process through the case service, as
 * `duban api` sends them. With no PostgreSQL server given, a throwaway cluster is started
 * (scripts/postgres-test-server.sh: durability off, which the output says).
 */
export async function runScalingScenario(options: {
  client: Client;
  address: string;
  dir: string;
  cases: number;
  concurrency: number;
  postgres?: string | undefined;
}): Promise<{ rows: ScalingRow[]; postgres: string }> {
  let pgServer = options.postgres;
  let pgDir: string | undefined;
  let postgresNote = 'given';
  if (!pgServer) {
    try {
      const env = execFileSync('bash', [path.join(projectRoot(), 'scripts', 'postgres-test-server.sh'), 'start'], { encoding: 'utf8' });
      pgDir = /PG_TEST_DIR=(\S+)/.exec(env)?.[1];
      pgServer = /DUBAN_TEST_DATABASE=(\S+)/.exec(env)?.[1];
      postgresNote = 'throwaway cluster, fsync off';
    } catch (error) {
      postgresNote = `not run: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  const rows: ScalingRow[] = [];
  try {
    for (const readModel of ['sqlite', 'postgres'] as const) {
      if (readModel === 'postgres' && !pgServer) continue;
      for (const workers of [1, 2]) {
        const url = readModel === 'sqlite' ? path.join(options.dir, `scaling-${workers}.sqlite`) : await createPostgresDatabase(pgServer!);
        const db: Db = openDatabase(url);
        await migrateToLatest(db);
        await insertDepartment(db, { code: 'CG', name: '区城管局' }, new Date().toISOString());
        // Case numbers of their own: every run shares the dev server, where a case id is a workflow id.
        const offset = 100_000 * (rows.length + 1);
        const year = new Date().getUTCFullYear();
        await db.insertInto('case_sequences').values([year - 1, year, year + 1].map((y) => ({ year: y, last_sequence: offset }))).execute();
        const taskQueue = `bench-scaling-${readModel}-${workers}`;
        const children: ChildProcess[] = [];
        try {
          for (let i = 0; i < workers; i++) {
            children.push(
              await startWorker(
                {
                  TEMPORAL_ADDRESS: options.address,
                  DATABASE_URL: url,
                  DUBAN_DATA_DIR: path.join(options.dir, `${taskQueue}-${i}`),
                  DUBAN_TASK_QUEUE: taskQueue,
                  DUBAN_BULLETIN_CRON: 'off',
                  DUBAN_TIMEZONE: 'Asia/Shanghai',
                  LOG_LEVEL: 'info',
                },
                [path.join(projectRoot(), 'bin', 'duban.js'), 'worker'],
              ),
            );
          }
          const service = createCaseService({ client: options.client, db, taskQueue, timeZone: 'Asia/Shanghai' });
          const office = { role: 'office' as const, name: 'bench' };
          const cg = { role: 'department' as const, department: 'CG', name: 'bench' };
          const runCase = async (latencies: number[]) => {
            const opened = await timed(latencies, () =>
              service.openCase({ title: '占道经营', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' }, office),
            );
            await timed(latencies, () => service.acknowledgeTask(opened.caseId, cg, {}));
            await timed(latencies, () => service.submitRectification(opened.caseId, cg, { report: '已整改', evidence: [{ url: 'https://example.org/after.jpg' }] }));
            await timed(latencies, () => service.verifyRectification(opened.caseId, office, { decision: 'accept' }));
            await options.client.workflow.getHandle(opened.caseId).result();
          };
          await pool(Math.min(20, options.cases), options.concurrency, () => runCase([]));
          const latencies: number[] = [];
          const cpuBefore = children.reduce((sum, c) => sum + processCpuMs(c.pid), 0);
          const startedAt = performance.now();
          await pool(options.cases, options.concurrency, () => runCase(latencies));
          const seconds = (performance.now() - startedAt) / 1000;
          const cpu = children.reduce((sum, c) => sum + processCpuMs(c.pid), 0) - cpuBefore;
          rows.push({
            readModel,
            workers,
            casesPerSecond: options.cases / seconds,
            commandP50Ms: quantile(latencies, 0.5),
            commandP99Ms: quantile(latencies, 0.99),
            workerCpuMsPerCase: cpu / options.cases,
          });
        } finally {
          for (const child of children) await stop(child);
          await db.destroy();
        }
      }
    }
  } finally {
    if (pgDir) execFileSync('bash', [path.join(projectRoot(), 'scripts', 'postgres-test-server.sh'), 'stop', pgDir], { stdio: 'ignore' });
  }
  return { rows, postgres: postgresNote };
}

/** The table and the scaling ratio (two workers' cases/s over one's) per read model. */
export function printScaling(header: string, rows: readonly ScalingRow[]): void {
  console.log(`\n${header}`);
  console.log('read model   workers   cases/s   command p50 ms   command p99 ms   workers CPU ms/case');
  for (const r of rows) {
    console.log(
      `${r.readModel.padEnd(10)}   ${String(r.workers).padStart(7)}   ${fmt(r.casesPerSecond).padStart(7)}   ${fmt(r.commandP50Ms).padStart(14)}   ` +
        `${fmt(r.commandP99Ms).padStart(14)}   ${fmt(r.workerCpuMsPerCase).padStart(19)}`,
    );
  }
  for (const readModel of ['sqlite', 'postgres'] as const) {
    const one = rows.find((r) => r.readModel === readModel && r.workers === 1);
    const two = rows.find((r) => r.readModel === readModel && r.workers === 2);
    if (one && two) console.log(`scaling ${readModel}: two workers ${fmt(two.casesPerSecond / one.casesPerSecond, 2)}x one worker's cases/s`);
  }
  const sqlite = rows.find((r) => r.readModel === 'sqlite' && r.workers === 1);
  const postgres = rows.find((r) => r.readModel === 'postgres' && r.workers === 1);
  if (sqlite && postgres) console.log(`postgres/sqlite, one worker: ${fmt(postgres.casesPerSecond / sqlite.casesPerSecond, 2)}x cases/s`);
}
