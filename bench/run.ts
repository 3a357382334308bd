/**
 * `npm run bench`: drives cases through duban's whole lifecycle on the Temporal dev server and,
 * in the same run, a minimal baseline workflow with the same number of updates and activities.
 * Prints throughput and command latency of both and their ratio. The other scenarios (bench/*.ts)
 * measure their own baselines the same way; `bulletin` needs no Temporal server and runs first.
 * Figures go to docs/benchmarks.md with the machine and the date.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, WithStartWorkflowOperation } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { Command } from 'commander';
import pino from 'pino';
import { migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { provisionTemporalBinaries } from '../scripts/binaries';
import { createCaseService } from '../services/case.service';
import { startDevServer } from '../worker/dev-server';
import { ensureSearchAttributes } from '../worker/search-attributes';
import { createDubanWorker } from '../worker/worker';
import { type baselineParentWorkflow, baselineStartedUpdate, baselineStepUpdate, type baselineWorkflow } from './baseline.workflow';
import { fmt, pool, quantile, timed } from './stats';
import { runApiScenario, printHttp } from './api';
import { printBulletin, runBulletinScenario } from './bulletin';
import { runNoticesScenario } from './notices';
import { printScaling, runScalingScenario } from './scaling';
import { runBaselineTimers, runDubanTimers, type TimerFigures } from './timers';
import { type MemoryVariant, memoryVariantNames, runMemoryScenario } from './memory';

interface Figures {
  name: string;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  commandP50Ms: number;
  commandP99Ms: number;
  /**
   * CPU time per case, ms: of this process (the workers and the clients) and of the dev server.
   * Unlike cases/s it hardly depends on what else the machine runs at the time.
   */
  workerCpuMsPerCase: number;
  serverCpuMsPerCase: number;
}

/** CPU time used so far, ms: this process's, and the process `pid`'s (NaN when unreadable). */
function cpuMs(pid: number | undefined): { self: number; server: number } {
  const { user, system } = process.cpuUsage();
  let server = Number.NaN;
  try {
    // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    server = (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // Not Linux, or no such process: the server's share stays unknown.
  }
  return { self: (user + system) / 1000, server };
}

function summarise(
  name: string,
  cases: number,
  startedAt: number,
  latencies: number[],
  cpu: { self: number; server: number },
): Figures {
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    name,
    cases,
    seconds,
    casesPerSecond: cases / seconds,
    commandP50Ms: quantile(latencies, 0.5),
    commandP99Ms: quantile(latencies, 0.99),
    workerCpuMsPerCase: cpu.self / cases,
    serverCpuMsPerCase: cpu.server / cases,
  };
}

async function main(): Promise<void> {
  const options = new Command('bench')
    .option('--scenario <names>', 'lifecycle, scaling, api, notices, timers, memory, bulletin (comma-separated)', 'lifecycle,scaling,api,notices,timers,memory,bulletin')
    .option('--postgres <url>', 'scaling: a PostgreSQL server (a role that may create databases); default: a throwaway cluster from Debian\'s packages')
    .option('--bulletin-cases <n>', 'cases in the year of the bulletin scenario', (v) => Number.parseInt(v, 10), 100_000)
    .option('--bulletin-rounds <n>', 'runs of each bulletin job and of its baseline, alternating', (v) => Number.parseInt(v, 10), 3)
    .option('--notices <n>', 'notices in the outbox for the notices scenario', (v) => Number.parseInt(v, 10), 2_000)
    .option('--api-cases <n>', 'cases in the read model for the API scenario', (v) => Number.parseInt(v, 10), 100_000)
    .option('--api-commands <n>', 'commands in the API scenario', (v) => Number.parseInt(v, 10), 300)
    .option('--api-processes <n>', 'API processes in the API scenario (DUBAN_API_PROCESSES; 1: in the bench process)', (v) => Number.parseInt(v, 10), 1)
    .option('--cases <n>', 'cases per lifecycle scenario', (v) => Number.parseInt(v, 10), 300)
    .option('--concurrency <n>', 'cases in flight at once', (v) => Number.parseInt(v, 10), 16)
    .option('--timer-tasks <list>', 'open tasks per timer run (comma-separated)', '1000,10000')
    .option('--memory-workflows <list>', 'open workflows per memory run (comma-separated)', '1000,10000')
    .option('--memory-variants <list>', `workers of the memory scenario: ${Object.keys(memoryVariantNames).join(', ')}`, 'baseline,duban')
    .option('--memory-cache <n>', 'maxCachedWorkflows of the memory runs (default: each run keeps all its workflows cached)', (v) => Number.parseInt(v, 10))
    .option('--port <n>', 'dev server port', (v) => Number.parseInt(v, 10), 17233)
    .option('--temporal-sqlite-sync <level>', "the dev server's SQLite synchronous level in WAL mode: full or normal", 'full')
    .parse()
    .opts<{
      temporalSqliteSync: string;
      scenario: string;
      notices: number;
      cases: number;
      concurrency: number;
      timerTasks: string;
      memoryWorkflows: string;
      memoryVariants: string;
      memoryCache?: number;
      port: number;
      apiCases: number;
      apiCommands: number;
      apiProcesses: number;
      postgres?: string;
      bulletinCases: number;
      bulletinRounds: number;
    }>();
  const scenarios = new Set(options.scenario.split(','));
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;

  // The bulletin scenario reads the read model only: no Temporal server for it.
  if (scenarios.delete('bulletin')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-bench-'));
    const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
    const loadBefore = load();
    try {
      const { seeded, rows } = await runBulletinScenario({ dir, cases: options.bulletinCases, rounds: options.bulletinRounds });
      printBulletin(
        `bulletin: a year of ${options.bulletinCases} cases; median of ${options.bulletinRounds} rounds, each run a fresh process; ` +
          `load average ${loadBefore} before, ${load()} after; ${machine}`,
        seeded,
        rows,
      );
      console.log(JSON.stringify({ scenario: 'bulletin', date: new Date().toISOString(), machine, load: { before: loadBefore, after: load() }, seeded, rows }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (scenarios.size === 0) return;
  }

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-bench-'));
  // The dev server logs shutdown noise of killed workers as errors; the bench reports its own failures.
  const logger = pino({ level: 'fatal' });
  const binaries = provisionTemporalBinaries();
  const server = await startDevServer({
    cli: binaries.temporalCli,
    dataDir: path.join(dir, 'temporal'),
    port: options.port,
    uiPort: options.port + 1000,
    namespace: 'default',
    logger,
    sqliteSync: options.temporalSqliteSync === 'normal' ? 'normal' : 'full',
  });
  const dbFile = path.join(dir, 'duban.sqlite');
  const db = openDatabase(dbFile);
  await migrateToLatest(db);
  await insertDepartment(db, { code: 'CG', name: '区城管局' }, new Date().toISOString());

  const connection = await Connection.connect({ address: server.address });
  await ensureSearchAttributes(connection, 'default');
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: server.address });
  const dubanWorker = await createDubanWorker({
    connection: native,
    namespace: 'default',
    taskQueue: 'bench-duban',
    db,
    timeZone: 'Asia/Shanghai',
  });
  const baselineWorker = await Worker.create({
    connection: native,
    taskQueue: 'bench-baseline',
    workflowsPath: require.resolve('./baseline.workflow'),
    activities: { noop: (): Promise<void> => Promise.resolve() },
  });
  const running = [dubanWorker.run(), baselineWorker.run()];

  const service = createCaseService({
    client,
    db,
    taskQueue: 'bench-duban',
    timeZone: 'Asia/Shanghai',
  });
  const office = { role: 'office' as const, name: 'bench' };
  const cg = { role: 'department' as const, department: 'CG', name: 'bench' };
  const evidence = [{ url: 'https://example.org/after.jpg' }];

  const dubanCase = async (latencies: number[]): Promise<void> => {
    const opened = await timed(latencies, () =>
      service.openCase(
        { title: '占道经营', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
        office,
      ),
    );
    await timed(latencies, () => service.acknowledgeTask(opened.caseId, cg, {}));
    await timed(latencies, () => service.submitRectification(opened.caseId, cg, { report: '已整改', evidence }));
    await timed(latencies, () => service.verifyRectification(opened.caseId, office, { decision: 'accept' }));
    await client.workflow.getHandle(opened.caseId).result();
  };

  let baselineSeq = 0;
  const baselineCase = async (latencies: number[]): Promise<void> => {
    const start = new WithStartWorkflowOperation<typeof baselineWorkflow>('baselineWorkflow', {
      workflowId: `baseline-${++baselineSeq}`,
      taskQueue: 'bench-baseline',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    await timed(latencies, () => client.workflow.executeUpdateWithStart(baselineStartedUpdate, { startWorkflowOperation: start }));
    const handle = await start.workflowHandle();
    for (const step of ['ack', 'submit', 'verify']) {
      await timed(latencies, () => handle.executeUpdate(baselineStepUpdate, { args: [step] }));
    }
    await handle.result();
  };

  let parentSeq = 0;
  const baselineChildCase = async (latencies: number[]): Promise<void> => {
    const workflowId = `baseline-parent-${++parentSeq}`;
    const start = new WithStartWorkflowOperation<typeof baselineParentWorkflow>('baselineParentWorkflow', {
      workflowId,
      taskQueue: 'bench-baseline',
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    await timed(latencies, () => client.workflow.executeUpdateWithStart(baselineStartedUpdate, { startWorkflowOperation: start }));
    const task = client.workflow.getHandle(`${workflowId}-T1`);
    for (const step of ['ack', 'submit', 'verify']) {
      await timed(latencies, () => task.executeUpdate(baselineStepUpdate, { args: [step] }));
    }
    await (await start.workflowHandle()).result();
  };

  const serverPid = (() => {
    try {
      return Number(fs.readFileSync(path.join(dir, 'temporal', 'temporal-dev-server.pid'), 'utf8').trim());
    } catch {
      return undefined;
    }
  })();
  const scenario = async (name: string, runCase: (latencies: number[]) => Promise<void>): Promise<Figures> => {
    await pool(Math.min(20, options.cases), options.concurrency, () => runCase([])); // warm-up
    const latencies: number[] = [];
    const cpuBefore = cpuMs(serverPid);
    const startedAt = performance.now();
    await pool(options.cases, options.concurrency, () => runCase(latencies));
    const cpuAfter = cpuMs(serverPid);
    return summarise(name, options.cases, startedAt, latencies, {
      self: cpuAfter.self - cpuBefore.self,
      server: cpuAfter.server - cpuBefore.server,
    });
  };

  try {
    if (scenarios.has('lifecycle')) {
      const baseline = await scenario('baseline workflow', baselineCase);
      const withChild = await scenario('baseline, child per task', baselineChildCase);
      const duban = await scenario('duban case lifecycle', dubanCase);
      const rows = [baseline, withChild, duban];
      console.log(`\nlifecycle: ${options.cases} cases, ${options.concurrency} in flight, ${machine}`);
      console.log('scenario                 cases/s   command p50 ms   command p99 ms   worker CPU ms/case   server CPU ms/case');
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(24)} ${fmt(r.casesPerSecond).padStart(7)}   ${fmt(r.commandP50Ms).padStart(14)}   ${fmt(r.commandP99Ms).padStart(14)}` +
            `   ${fmt(r.workerCpuMsPerCase).padStart(18)}   ${fmt(r.serverCpuMsPerCase).padStart(18)}`,
        );
      }
      const cpuPerCase = (r: Figures) => r.workerCpuMsPerCase + r.serverCpuMsPerCase;
      console.log(
        `ratio duban/baseline: throughput ${fmt(duban.casesPerSecond / baseline.casesPerSecond, 2)}x, ` +
          `p50 ${fmt(duban.commandP50Ms / baseline.commandP50Ms, 2)}x, p99 ${fmt(duban.commandP99Ms / baseline.commandP99Ms, 2)}x; ` +
          `throughput on CPU alone (baseline CPU per case / duban's) ${fmt(cpuPerCase(baseline) / cpuPerCase(duban), 2)}x; ` +
          `a child workflow per task in itself: throughput ${fmt(withChild.casesPerSecond / baseline.casesPerSecond, 2)}x the baseline's, ` +
          `duban against that shape ${fmt(duban.casesPerSecond / withChild.casesPerSecond, 2)}x`,
      );
      console.log(JSON.stringify({ scenario: 'lifecycle', date: new Date().toISOString(), machine, options, rows }));
    }
    if (scenarios.has('scaling')) {
      const { rows, postgres } = await runScalingScenario({ client, address: server.address, dir, cases: options.cases, concurrency: options.concurrency, postgres: options.postgres });
      printScaling(`scaling: lifecycle of ${options.cases} cases, ${options.concurrency} in flight, each worker a \`duban worker\` process; PostgreSQL ${postgres}; ${machine}`, rows);
      console.log(JSON.stringify({ scenario: 'scaling', date: new Date().toISOString(), machine, options, postgres, rows }));
    }
    if (scenarios.has('api')) {
      const { reads, commands } = await runApiScenario({
        client,
        db,
        dir,
        taskQueue: 'bench-duban',
        cases: options.apiCases,
        commands: options.apiCommands,
        apiProcesses: options.apiProcesses,
        apiPort: options.port + 2000,
        temporalAddress: server.address,
      });
      printHttp(
        `api reads: ${options.apiCases} cases in the read model, ${options.apiProcesses} API process(es), autocannon 16 connections x 10 s; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} after; ${machine}`,
        reads,
        reads[0]!,
      );
      printHttp(`api commands: ${options.apiCommands} acknowledgements, 16 in flight; ${machine}`, commands, commands[0]!);
      console.log(JSON.stringify({ scenario: 'api', date: new Date().toISOString(), machine, reads, commands }));
    }
    if (scenarios.has('notices')) {
      const rows = await runNoticesScenario({ client, connection: native, dir, notices: options.notices });
      console.log(`\nnotices: ${options.notices} notices in the outbox, each one mail to a local SMTP server and one webhook to a local receiver; ${machine}`);
      console.log('scenario                               deliveries   seconds   deliveries/s');
      for (const r of rows) {
        console.log(`${r.name.padEnd(38)} ${String(r.deliveries).padStart(10)}   ${fmt(r.seconds).padStart(7)}   ${fmt(r.deliveriesPerSecond).padStart(12)}`);
      }
      console.log(`ratio duban/baseline: throughput ${fmt(rows[1]!.deliveriesPerSecond / rows[0]!.deliveriesPerSecond, 2)}x`);
      console.log(JSON.stringify({ scenario: 'notices', date: new Date().toISOString(), machine, rows }));
    }
    if (scenarios.has('timers')) {
      const rows: TimerFigures[] = [];
      // The fire minute must come after every task has started and planned its alarms: size the
      // lead by the rate the previous run planned at (a cautious guess for the first).
      let startRate = 15;
      for (const tasks of options.timerTasks.split(',').map(Number)) {
        const leadSeconds = Math.round((tasks / startRate) * 1.3 + 60);
        const duban = await runDubanTimers({ client, address: server.address, serverPid, dir, db, tasks, concurrency: 32, leadSeconds });
        startRate = duban.plannedPerSecond;
        const baseline = await runBaselineTimers({
          client,
          address: server.address,
          serverPid,
          tasks,
          concurrency: 32,
          leadSeconds: Math.round(tasks / 100 + 45),
        });
        rows.push(baseline, duban);
      }
      console.log(`\ntimers: N open tasks with pending timers, 1,000 of them due at one minute; ${machine}`);
      console.log(
        'scenario                        tasks  measured  starts/s  idle RSS MiB  peak RSS MiB  late p50 ms  late p99 ms  recorded p50 ms  recorded p99 ms  drain s' +
          '  worker CPU ms/firing  server CPU ms/firing',
      );
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(30)} ${String(r.tasks).padStart(6)}  ${String(r.measured).padStart(8)}  ${fmt(r.startPerSecond).padStart(8)}  ` +
            `${fmt(r.idleRssMiB ?? Number.NaN, 0).padStart(12)}  ${fmt(r.peakRssMiB ?? Number.NaN, 0).padStart(12)}  ` +
            `${fmt(r.latenessP50Ms, 0).padStart(11)}  ${fmt(r.latenessP99Ms, 0).padStart(11)}  ${fmt(r.recordedP50Ms, 0).padStart(15)}  ` +
            `${fmt(r.recordedP99Ms, 0).padStart(15)}  ${fmt(r.drainSeconds).padStart(7)}  ${fmt(r.workerCpuMsPerFiring ?? Number.NaN).padStart(20)}  ` +
            `${fmt(r.serverCpuMsPerFiring ?? Number.NaN).padStart(20)}`,
        );
      }
      console.log(JSON.stringify({ scenario: 'timers', date: new Date().toISOString(), machine, rows }));
    }
    if (scenarios.has('memory')) {
      const variants = options.memoryVariants.split(',') as MemoryVariant[];
      const unknown = variants.filter((v) => !(v in memoryVariantNames));
      if (unknown.length > 0) throw new Error(`unknown memory variants: ${unknown.join(', ')}`);
      const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
      const loadBefore = load();
      const rows = await runMemoryScenario({
        client,
        address: server.address,
        dir,
        db,
        dbFile,
        counts: options.memoryWorkflows.split(',').map(Number),
        variants,
        ...(options.memoryCache !== undefined ? { cacheSize: options.memoryCache } : {}),
        concurrency: 32,
      });
      console.log(`\nmemory: a worker process holding N open workflows; load average ${loadBefore} before, ${load()} after; ${machine}`);
      console.log('scenario                        open   cache  cached  starts/s  idle RSS MiB  RSS MiB  peak MiB  KiB per cached');
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(30)} ${String(r.workflows).padStart(6)}  ${String(r.cacheSize).padStart(6)}  ${String(r.cached).padStart(6)}  ` +
            `${fmt(r.startPerSecond).padStart(8)}  ${fmt(r.idleRssMiB, 0).padStart(12)}  ${fmt(r.rssMiB, 0).padStart(7)}  ` +
            `${fmt(r.peakRssMiB, 0).padStart(8)}  ${fmt(r.perCachedKiB, 0).padStart(14)}`,
        );
      }
      for (const r of rows.filter((row) => row.variant !== 'baseline')) {
        const base = rows.find((b) => b.variant === 'baseline' && b.workflows === r.workflows);
        if (base) console.log(`ratio ${r.name} / baseline at ${r.workflows}: ${fmt(r.perCachedKiB / base.perCachedKiB, 2)}x per cached workflow`);
      }
      console.log(JSON.stringify({ scenario: 'memory', date: new Date().toISOString(), machine, load: { before: loadBefore, after: load() }, rows }));
    }
  } finally {
    dubanWorker.shutdown();
    baselineWorker.shutdown();
    await Promise.all(running);
    await native.close();
    await connection.close();
    await db.destroy();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
