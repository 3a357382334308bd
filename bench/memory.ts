/**
 * The memory scenario of `npm run bench`: the worker's memory per cached workflow. A worker in
 * its own process (bench/memory-worker.ts) holds N open workflows that sleep on their timers;
 * RSS is read before the first and once every workflow has run its first task and sits in the
 * cache. duban opens N task workflows (deadlines weeks away: nothing fires); the baseline, in
 * the same run, N workflows that only sleep (bench/baseline.workflow.ts). "duban, per-workflow
 * modules" is the bundle without preloaded modules, as duban was before (issue 11).
 * With `cache` set below N, workflows beyond it are evicted: the figure is a worker holding N
 * open tasks with that cache.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { caseStateToRow } from '../db/case.mapper';
import { saveCaseRow } from '../db/case.repository';
import type { Db } from '../db/database';
import { workflowBundlePath, writeWorkflowBundle } from '../scripts/bundle-workflows';
import { taskWorkflow } from '../workflows/task.workflow';
import { timerBaselineWorkflow } from './baseline.workflow';
import type { MemorySample, MemoryWorkerEnv } from './memory-worker';
import { pool } from './stats';

/** The workers compared. */
export type MemoryVariant = 'baseline' | 'duban' | 'duban-unshared';

export const memoryVariantNames: Record<MemoryVariant, string> = {
  baseline: 'baseline sleeping workflows',
  duban: 'duban task workflows',
  'duban-unshared': 'duban, per-workflow modules',
};

export interface MemoryFigures {
  readonly name: string;
  readonly variant: MemoryVariant;
  /** Workflows open. */
  readonly workflows: number;
  /** The worker's cache size (maxCachedWorkflows) and how many it held when measured. */
  readonly cacheSize: number;
  readonly cached: number;
  readonly startPerSecond: number;
  /** Worker RSS before the first workflow and with all open, MiB; the peak while they started. */
  readonly idleRssMiB: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  /** (rss − idle rss) / cached workflows, KiB. */
  readonly perCachedKiB: number;
}

const MiB = 2 ** 20;

function startWorker(env: MemoryWorkerEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'memory-worker.js'), [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-20_000);
    });
    child.on('message', (message) => {
      if (message === 'ready') resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`memory bench worker exited with ${code}:\n${log}`)));
  });
}

function measure(child: ChildProcess): Promise<MemorySample> {
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'rssBytes' in message) {
        child.off('message', onMessage);
        resolve(message as MemorySample);
      }
    };
    child.on('message', onMessage);
    child.send('measure');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the worker is quiet: no activation or activity in flight, the cache as full as it
 * will get and `done()` true, three samples in a row a second apart. Returns the last sample.
 */
async function settle(child: ChildProcess, expectCached: number, done: () => Promise<boolean>, timeoutMs: number): Promise<MemorySample> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  for (;;) {
    const sample = await measure(child);
    const { status } = sample;
    const idle = status.numInFlightWorkflowActivations === 0 && status.numInFlightActivities === 0;
    quiet = idle && status.numCachedWorkflows >= expectCached && (await done()) ? quiet + 1 : 0;
    if (quiet >= 3) return sample;
    if (Date.now() > deadline) throw new Error(`memory bench: the worker did not settle (${JSON.stringify(status)})`);
    await sleep(1000);
  }
}

/** Bundles the baseline workflows and duban's without preloaded modules, once per run. */
async function bundles(dir: string, variants: readonly MemoryVariant[]): Promise<Record<MemoryVariant, string>> {
  const baseline = path.join(dir, 'baseline-bundle.js');
  const unshared = path.join(dir, 'duban-unshared-bundle.js');
  if (variants.includes('baseline')) {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline.workflow'), logger: quiet });
    fs.writeFileSync(baseline, code);
  }
  if (variants.includes('duban-unshared')) await writeWorkflowBundle(require.resolve('../workflows'), unshared, false);
  return { baseline, duban: workflowBundlePath(), 'duban-unshared': unshared };
}

const noop = (): void => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

/** One worker process, `workflows` opened on it, memory read before and after. */
async function runOne(options: {
  client: Client;
  address: string;
  dir: string;
  db: Db;
  dbFile: string;
  variant: MemoryVariant;
  bundle: string;
  workflows: number;
  cacheSize: number;
  concurrency: number;
  run: number;
}): Promise<MemoryFigures> {
  const { client, db, variant, workflows, cacheSize } = options;
  const taskQueue = `bench-memory-${variant}-${workflows}-${options.run}`;
  const duban = variant !== 'baseline';
  const runDir = path.join(options.dir, taskQueue);
  fs.mkdirSync(runDir, { recursive: true });
  // Every day a working day from a month ago to two months on: no holiday table decides the plan.
  const now = new Date();
  const calendarFile = path.join(runDir, 'calendar.json');
  const days = Array.from({ length: 91 }, (_, i) => new Date(now.getTime() + (i - 30) * 86_400_000).toISOString().slice(0, 10));
  fs.writeFileSync(calendarFile, JSON.stringify({ days: days.map((date) => ({ date, kind: 'workday' })) }));
  const child = await startWorker({
    BENCH_MEMORY_KIND: duban ? 'duban' : 'baseline',
    BENCH_MEMORY_ADDRESS: options.address,
    BENCH_MEMORY_TASK_QUEUE: taskQueue,
    BENCH_MEMORY_MAX_CACHED: String(cacheSize),
    BENCH_MEMORY_BUNDLE: options.bundle,
    ...(duban ? { BENCH_MEMORY_DATABASE: options.dbFile, BENCH_MEMORY_CALENDAR_FILE: calendarFile } : {}),
  });
  try {
    await sleep(3000);
    const idle = await measure(child);
    // Case ids of their own per run: DB-2097-<run><6 digits>, ten tasks to a case.
    const caseOf = (i: number) => `DB-2097-${options.run}${String(Math.floor(i / 10)).padStart(6, '0')}`;
    const caseIds: string[] = [];
    if (duban) {
      for (let c = 0; c < Math.ceil(workflows / 10); c++) {
        const caseId = caseOf(c * 10);
        caseIds.push(caseId);
        const opened = openCase({
          caseId,
          details: caseDetailsSchema.parse({ title: '内存基准', category: '基准', severity: 'general', source: 'other', leadDepartment: 'CG' }),
          actor: { role: 'office', name: 'bench' },
          at: now.toISOString(),
        });
        await saveCaseRow(db, caseStateToRow(opened.state, 1, now.toISOString()));
      }
    }
    const day = 86_400_000;
    const input = (i: number) => ({
      taskId: `${caseOf(i)}-T${(i % 10) + 1}`,
      caseId: caseOf(i),
      departmentCode: 'CG',
      role: 'lead' as const,
      assignedAt: now.toISOString(),
      ackDueAt: new Date(now.getTime() + 14 * day).toISOString(),
      rectificationDueAt: new Date(now.getTime() + 45 * day).toISOString(),
    });
    const startedAt = performance.now();
    await pool(workflows, options.concurrency, async (i) => {
      if (duban) {
        await client.workflow.start(taskWorkflow, { workflowId: input(i).taskId, taskQueue, args: [input(i)] });
      } else {
        await client.workflow.start(timerBaselineWorkflow, {
          workflowId: `${taskQueue}-${i}`,
          taskQueue,
          args: [now.getTime() + 14 * day],
        });
      }
    });
    const startPerSecond = workflows / ((performance.now() - startedAt) / 1000);
    // duban's tasks have planned their alarms once their rows show what falls due next.
    const planned = async () =>
      !duban ||
      Number(
        (
          await db
            .selectFrom('tasks')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .where('case_id', 'in', caseIds)
            .where('next_alarm_at', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      ) >= workflows;
    const full = await settle(child, Math.min(workflows, cacheSize), planned, 30 * 60_000);
    const cached = full.status.numCachedWorkflows;
    return {
      name: memoryVariantNames[variant],
      variant,
      workflows,
      cacheSize,
      cached,
      startPerSecond,
      idleRssMiB: idle.rssBytes / MiB,
      rssMiB: full.rssBytes / MiB,
      peakRssMiB: full.peakRssBytes / MiB,
      perCachedKiB: (full.rssBytes - idle.rssBytes) / 1024 / Math.max(1, cached),
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
  }
}

/** Every variant at every size, one fresh worker process each; `db` (at `dbFile`) holds department CG. */
export async function runMemoryScenario(options: {
  client: Client;
  address: string;
  dir: string;
  db: Db;
  dbFile: string;
  counts: readonly number[];
  variants: readonly MemoryVariant[];
  /** maxCachedWorkflows; by default each run's N plus room, so that every workflow stays cached. */
  cacheSize?: number;
  concurrency: number;
}): Promise<MemoryFigures[]> {
  const paths = await bundles(options.dir, options.variants);
  const rows: MemoryFigures[] = [];
  let run = 1;
  for (const workflows of options.counts) {
    for (const variant of options.variants) {
      rows.push(
        await runOne({
          ...options,
          variant,
          bundle: paths[variant],
          workflows,
          cacheSize: options.cacheSize ?? workflows + 100,
          run: run++,
        }),
      );
    }
  }
  return rows;
}
