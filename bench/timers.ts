/**
 * The timer scenario: N open tasks, each with a pending escalation timer, on the dev server and a
 * worker in its own process. 1,000 of them (all, when N is 1,000) fall due at the same minute,
 * the start of a working day, as an office's rungs do every morning; the rest the next working
 * day. Measures the worker's memory with N timers pending and the lateness of the 1,000 firings
 * while N tasks are open, against a baseline workflow that only sleeps until the same instants.
 */

/** How many tasks fall due at the measured minute. */
export const firingTasks = (tasks: number): number => Math.min(tasks, 1000);
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { caseStateToRow } from '../db/case.mapper';
import { saveCaseRow } from '../db/case.repository';
import type { Db } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { projectRoot } from '../scripts/binaries';
import { taskWorkflow } from '../workflows/task.workflow';
import { timerBaselineWorkflow } from './baseline.workflow';
import { pool, quantile } from './stats';

export interface TimerFigures {
  name: string;
  tasks: number;
  /** Tasks whose start finished before the timers fell due: only those are measured. */
  measured: number;
  startPerSecond: number;
  /** Tasks started and planned (their next alarm recorded) per second. */
  plannedPerSecond: number;
  /** Worker resident memory, MiB: with every timer pending, and the peak while they fire. */
  idleRssMiB: number | null;
  peakRssMiB: number | null;
  /** Workflow time of the firing minus the planned instant, ms. */
  latenessP50Ms: number;
  latenessP99Ms: number;
  /** When the firing was written to the read model (duban) or reported (baseline), minus planned, ms. */
  recordedP50Ms: number;
  recordedP99Ms: number;
  /** From the planned instant until the last firing was recorded, s. */
  drainSeconds: number;
  /**
   * CPU time per firing, ms, from just before the fire minute until the last firing was recorded:
   * of the worker (duban's own process; the bench process for the baseline) and of the dev server.
   */
  workerCpuMsPerFiring?: number;
  serverCpuMsPerFiring?: number;
}

/** CPU time process `pid` has used, ms (utime + stime of /proc/<pid>/stat); NaN when unreadable. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Clock ticks, 100 a second on Linux.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const zone = 'Asia/Shanghai';

/** The lateness figures of a run from each firing's lateness and recording delay, in ms. */
function latenessFigures(lateness: number[], recorded: number[]) {
  return {
    latenessP50Ms: quantile(lateness, 0.5),
    latenessP99Ms: quantile(lateness, 0.99),
    recordedP50Ms: quantile(recorded, 0.5),
    recordedP99Ms: quantile(recorded, 0.99),
    drainSeconds: Math.max(...recorded) / 1000,
  };
}

function rssMiB(pid: number): { rss: number; peak: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * A duban worker as a process of its own (`argv`: the built entry point and its arguments, default
 * what `npm start` runs); resolves once it polls.
 */
export function startWorker(env: NodeJS.ProcessEnv, argv: readonly string[] = [path.join(projectRoot(), 'dist', 'worker', 'main.js')]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-20_000);
      if (log.includes('duban worker running')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`bench worker exited with ${code}:\n${log}`)));
  });
}

/** The next whole minute at least `leadSeconds` away, in the office zone. */
function fireMinute(leadSeconds: number): DateTime {
  return DateTime.now().setZone(zone).plus({ seconds: leadSeconds }).startOf('minute').plus({ minutes: 1 });
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the timers to fire');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** duban's task workflows, N of them, each with its acknowledgement rung due at the same minute. */
export async function runDubanTimers(options: {
  client: Client;
  address: string;
  /** The dev server's process, whose CPU time the run reports. */
  serverPid?: number | undefined;
  dir: string;
  db: Db;
  tasks: number;
  concurrency: number;
  leadSeconds: number;
}): Promise<TimerFigures> {
  const { client, db, tasks } = options;
  const at = fireMinute(options.leadSeconds);
  const today = at.toISODate()!;
  const yesterday = at.minus({ days: 1 }).toISODate()!;
  const tomorrow = at.plus({ days: 1 }).toISODate()!;
  const firing = firingTasks(tasks);
  const runDir = path.join(options.dir, `timers-${tasks}`);
  fs.mkdirSync(runDir, { recursive: true });
  // Today and yesterday are working days whatever the date; the only alarm before next month is
  // the acknowledgement rung, at the fire minute today.
  const calendarFile = path.join(runDir, 'calendar.json');
  fs.writeFileSync(calendarFile, JSON.stringify({ days: [yesterday, today, tomorrow].map((date) => ({ date, kind: 'workday' })) }));
  const policyFile = path.join(runDir, 'policy.json');
  fs.writeFileSync(
    policyFile,
    JSON.stringify({ workdayStartTime: at.toFormat('HH:mm'), reminders: [], escalation: { acknowledgement: [{ level: 1, workingDaysOverdue: 1 }] } }),
  );
  const taskQueue = `bench-timers-${tasks}`;
  const worker = await startWorker({
    TEMPORAL_ADDRESS: options.address,
    DUBAN_DATA_DIR: options.dir,
    DATABASE_URL: path.join(options.dir, 'duban.sqlite'),
    DUBAN_TASK_QUEUE: taskQueue,
    DUBAN_API_PORT: String(18080 + (tasks % 1000)),
    DUBAN_POLICY_FILE: policyFile,
    DUBAN_CALENDAR_FILE: calendarFile,
    DUBAN_TIMEZONE: zone,
    // Info, for the line that says the worker runs; the bench reads nothing else from it.
    LOG_LEVEL: 'info',
  });

  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(worker.pid!)?.rss ?? 0);
  }, 500);
  try {
    await insertDepartment(db, { code: 'CG', name: '区城管局' }, new Date().toISOString());
    // Ten tasks to a case, as busy cases have: the read model keeps per-case figures.
    // Ids of their own per run size (DB-2099-4… for 1,000 tasks, DB-2099-5… for 10,000).
    const caseOf = (i: number) => `DB-2099-${String(tasks).length}${String(Math.floor(i / 10)).padStart(5, '0')}`;
    for (let c = 0; c < Math.ceil(tasks / 10); c++) {
      const opened = openCase({
        caseId: caseOf(c * 10),
        details: caseDetailsSchema.parse({ title: '计时基准', category: '基准', severity: 'general', source: 'other', leadDepartment: 'CG' }),
        actor: { role: 'office', name: 'bench' },
        at: new Date().toISOString(),
      });
      await saveCaseRow(db, caseStateToRow(opened.state, 1, new Date().toISOString()));
    }
    const caseIds = Array.from({ length: Math.ceil(tasks / 10) }, (_, c) => caseOf(c * 10));

    const assignedAt = DateTime.fromISO(yesterday, { zone }).set({ hour: 10 });
    /** The i-th task (from 0): T1 … TN, ten to a case. */
    const input = (i: number) => ({
      taskId: `${caseOf(i)}-T${i + 1}`,
      caseId: caseOf(i),
      departmentCode: 'CG',
      role: 'lead' as const,
      assignedAt: assignedAt.toUTC().toISO()!,
      // Acknowledgement overdue since yesterday: the rung fires at the minute today; for the
      // others it was due today, so their rung waits for tomorrow.
      ackDueAt: DateTime.fromISO(i < firing ? yesterday : today, { zone }).endOf('day').toUTC().toISO()!,
      rectificationDueAt: at.plus({ months: 1 }).endOf('day').toUTC().toISO()!,
    });
    const startedBefore = new Set<number>();
    const startAt = performance.now();
    await pool(tasks, options.concurrency, async (i) => {
      await client.workflow.start(taskWorkflow, { workflowId: input(i).taskId, taskQueue, args: [input(i)] });
      if (Date.now() < at.toMillis()) startedBefore.add(i + 1);
    });
    const startPerSecond = tasks / ((performance.now() - startAt) / 1000);
    // Every task has planned its alarms once its row shows what falls due next.
    const planned = async () =>
      Number(
        (
          await db
            .selectFrom('tasks')
            .select(({ fn }) => fn.countAll<number>().as('n'))
            .where('case_id', 'in', caseIds)
            .where('next_alarm_at', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    await waitUntil(async () => (await planned()) >= tasks || Date.now() > at.toMillis(), Math.max(0, at.toMillis() - Date.now()) + 60_000);
    const plannedPerSecond = (await planned()) / ((performance.now() - startAt) / 1000);
    const idle = Date.now() < at.toMillis() ? rssMiB(worker.pid!) : null;
    const cpuBefore = { worker: processCpuMs(worker.pid), server: processCpuMs(options.serverPid) };

    await waitUntil(async () => {
      const row = await db
        .selectFrom('events')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('case_id', 'in', caseIds)
        .where('action', '=', 'task.escalated')
        .executeTakeFirstOrThrow();
      return Number(row.n) >= firing;
    }, Math.max(0, at.toMillis() - Date.now()) + 30 * 60_000);
    const cpu = {
      workerCpuMsPerFiring: (processCpuMs(worker.pid) - cpuBefore.worker) / firing,
      serverCpuMsPerFiring: (processCpuMs(options.serverPid) - cpuBefore.server) / firing,
    };

    const rows = await db
      .selectFrom('events')
      .select(['task_id', 'at', 'recorded_at', sql<string>`json_extract(payload, '$.plannedAt')`.as('planned')])
      .where('case_id', 'in', caseIds)
      .where('action', '=', 'task.escalated')
      .execute();
    const measured = rows.filter((r) => startedBefore.has(Number(r.task_id?.split('-T')[1])) && Date.parse(r.planned) === at.toMillis());
    const lateness = measured.map((r) => Date.parse(r.at) - Date.parse(r.planned));
    const recorded = measured.map((r) => Date.parse(r.recorded_at) - Date.parse(r.planned));
    return {
      name: 'duban task workflows',
      tasks,
      measured: measured.length,
      startPerSecond,
      plannedPerSecond,
      idleRssMiB: idle?.rss ?? null,
      peakRssMiB: Math.max(peak, rssMiB(worker.pid!)?.peak ?? 0),
      ...latenessFigures(lateness, recorded),
      ...cpu,
    };
  } finally {
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
}

/** The baseline: N workflows that sleep until the same minute, then run one empty activity. */
export async function runBaselineTimers(options: {
  client: Client;
  address: string;
  serverPid?: number | undefined;
  tasks: number;
  concurrency: number;
  leadSeconds: number;
}): Promise<TimerFigures> {
  const { client, tasks } = options;
  const at = fireMinute(options.leadSeconds);
  const taskQueue = `bench-baseline-timers-${tasks}`;
  const fired: { lateness: number; recorded: number; startedLate: boolean }[] = [];
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./baseline.workflow'),
    activities: {
      noop: async (): Promise<void> => {},
      fired: (firedAt: number, startedLate: boolean): Promise<void> => {
        fired.push({ lateness: firedAt - at.toMillis(), recorded: Date.now() - at.toMillis(), startedLate });
        return Promise.resolve();
      },
    },
  });
  const running = worker.run();
  try {
    const startAt = performance.now();
    await pool(tasks, options.concurrency, async (i) => {
      await client.workflow.start(timerBaselineWorkflow, {
        workflowId: `baseline-timer-${tasks}-${i}`,
        taskQueue,
        args: [i < firingTasks(tasks) ? at.toMillis() : at.plus({ days: 1 }).toMillis()],
      });
    });
    const startPerSecond = tasks / ((performance.now() - startAt) / 1000);
    const self = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
    const cpuBefore = { worker: self(), server: processCpuMs(options.serverPid) };
    await waitUntil(() => Promise.resolve(fired.length >= firingTasks(tasks)), Math.max(0, at.toMillis() - Date.now()) + 30 * 60_000);
    const firing = firingTasks(tasks);
    const cpu = {
      workerCpuMsPerFiring: (self() - cpuBefore.worker) / firing,
      serverCpuMsPerFiring: (processCpuMs(options.serverPid) - cpuBefore.server) / firing,
    };
    const measured = fired.filter((f) => !f.startedLate);
    const lateness = measured.map((f) => f.lateness);
    const recorded = measured.map((f) => f.recorded);
    return {
      name: 'baseline sleeping workflows',
      tasks,
      measured: measured.length,
      startPerSecond,
      plannedPerSecond: startPerSecond,
      idleRssMiB: null,
      peakRssMiB: null,
      ...latenessFigures(lateness, recorded),
      ...cpu,
    };
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}
