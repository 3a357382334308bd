/**
 * `npm run chaos`: the fault run (docs/reliability.md). Several hundred cases go through duban's
 * HTTP API (open, acknowledge, submit with evidence, verify, some sent back once) while reminders
 * and rungs fall due and notices go out to a real SMTP server and a real webhook receiver; every
 * few seconds the harness SIGKILLs the worker, the API or the Temporal server and restarts it.
 * Afterwards it waits until everything is quiet and checks exactly: every case in its expected
 * state (read model and workflow agree), every event count, no duplicate event, every planned
 * delivery sent and received, nothing unexpected received, and a repeated delivery only where a
 * kill fell between its two arrivals. Prints a summary (and one JSON line); exits 1 on any mismatch.
 */
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { caseDetailsSchema } from '../domain/case.schema';
import { openCase } from '../domain/case.machine';
import { caseStateToRow } from '../db/case.mapper';
import { saveCaseRow } from '../db/case.repository';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { projectRoot, provisionTemporalBinaries } from '../scripts/binaries';
import { getCaseQuery, getTaskQuery } from '../workflows/messages';
import type { TaskWorkflowInput } from '../workflows/task.workflow';
import { ChaosApi, type ClientStats, emptyStats } from './chaos-client';
import {
  type AlarmCasePlan,
  type ApiCasePlan,
  between,
  departmentPosts,
  departments,
  emailOf,
  type EventCounts,
  type ExpectedDelivery,
  expectAlarmCase,
  expectApiCase,
  hookDepartment,
  hookPaths,
  noonZone,
  officeEmail,
  planCases,
  prng,
  rungsOf,
} from './chaos-plan';
import { type Kill, type ProcessSpec, type Role, roles, Supervisor } from './chaos-processes';
import { startHookSink, startMailSink } from './chaos-sinks';
import { pool } from './stats';

interface Options {
  cases: number;
  alarmCases: number | undefined;
  kills: number;
  allKills: boolean;
  killEvery: string;
  pause: string;
  seed: number;
  concurrency: number;
  smtpDelayMs: number;
  timeoutMinutes: number;
  keep: boolean;
}

const range = (text: string): [number, number] => {
  const [a, b] = text.split('-').map(Number);
  if (!Number.isFinite(a) || !Number.isFinite(b ?? a)) throw new Error(`not a range of seconds: ${text}`);
  return [a!, b ?? a!];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Ports that were free a moment ago, all different. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}


/** The Message-ID the dispatcher gives an e-mail delivery: stable per delivery key (docs/notifications.md). */
const messageIdOf = (deliveryKey: string) => `<${crypto.createHash('sha256').update(deliveryKey).digest('hex').slice(0, 32)}@duban>`;

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(projectRoot(), 'bin', 'duban.js'), ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`duban ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout);
    });
  });
}

/** Counts `key` in a multiset. */
const bump = (map: Map<string, number>, key: string, n = 1) => map.set(key, (map.get(key) ?? 0) + n);

/** What is in `a` more often than in `b`, with the excess. */
function excess(a: Map<string, number>, b: Map<string, number>): [string, number][] {
  return [...a].filter(([k, n]) => n > (b.get(k) ?? 0)).map(([k, n]) => [k, n - (b.get(k) ?? 0)]);
}

async function main(): Promise<void> {
  const options = new Command('chaos')
    .description('the fault run: cases through the API while the worker, the API and the Temporal server are SIGKILLed and restarted')
    .option('--cases <n>', 'cases opened and closed through the HTTP API', (v) => Number.parseInt(v, 10), 300)
    .option('--alarm-cases <n>', 'tasks whose reminders and rungs fall due during the run (default: a tenth of --cases, at least 2)', (v) => Number.parseInt(v, 10))
    .option('--kills <n>', 'SIGKILLs, each of a random role: worker, api or temporal (no more once every case is driven)', (v) => Number.parseInt(v, 10), 40)
    .option('--all-kills', 'make all --kills kills, going on after the last case is driven (so that a short run has its kills however fast it drives)', false)
    .option('--kill-every <s>', 'seconds between a restart and the next kill, a random value in this range', '5-12')
    .option('--pause <s>', 'seconds a killed process stays dead, a random value in this range', '0.5-3')
    .option('--seed <n>', 'seed of the plans and the kills', (v) => Number.parseInt(v, 10), 1)
    .option('--concurrency <n>', 'cases driven at once', (v) => Number.parseInt(v, 10), 32)
    .option('--smtp-delay-ms <n>', 'how long the SMTP server takes to accept each message', (v) => Number.parseInt(v, 10), 20)
    .option('--timeout-minutes <n>', 'give up (and fail) after this long', (v) => Number.parseInt(v, 10), 60)
    .option('--keep', 'keep the run directory (logs, read model, Temporal database)', false)
    .parse()
    .opts<Options>();
  const alarmCases = options.alarmCases ?? Math.max(2, Math.round(options.cases / 10));
  const killEvery = range(options.killEvery).map((s) => s * 1000) as [number, number];
  const pause = range(options.pause).map((s) => s * 1000) as [number, number];
  const random = prng(options.seed);
  const killRandom = prng(options.seed * 7919 + 1);
  const plans = planCases(random, options.cases, alarmCases);
  const startedAt = Date.now();
  const giveUpAt = startedAt + options.timeoutMinutes * 60_000;
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const loadBefore = load();
  const log = (message: string) => console.log(`[chaos +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-chaos-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const zone = noonZone();
  const [temporalPort, uiPort, apiPort] = await freePorts(3);
  const [mail, hooks] = await Promise.all([startMailSink({ delayMs: options.smtpDelayMs }), startHookSink()]);
  const hookUrl = (p: string) => `${hooks.url}${p}`;
  const taskQueue = `chaos-${options.seed}`;
  const address = `127.0.0.1:${temporalPort}`;
  log(`run directory ${dir}; office zone ${zone}; seed ${options.seed}; ${options.cases} cases, ${alarmCases} alarm tasks, ${options.kills} kills`);

  // Today and the days around it are working days, whatever the date: every alarm of the run
  // falls due at `workdayStartTime` today (set below, once setup is done).
  const today = DateTime.now().setZone(zone).startOf('day');
  const day = (n: number) => today.plus({ days: n });
  const calendarFile = path.join(dataDir, 'calendar.json');
  fs.writeFileSync(calendarFile, JSON.stringify({ days: [-2, -1, 0, 1].map((n) => ({ date: day(n).toISODate(), kind: 'workday', note: 'chaos run' })) }));
  const policyFile = path.join(dataDir, 'policy.json');
  const writePolicy = (startTime: string) =>
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        workdayStartTime: startTime,
        reminders: [{ workingDaysLeft: 1 }],
        escalation: {
          acknowledgement: [{ level: 1, workingDaysOverdue: 1 }, { level: 2, workingDaysOverdue: 1 }],
          rectification: [1, 2, 3, 4].map((level) => ({ level, workingDaysOverdue: 1 })),
        },
      }),
    );
  writePolicy('23:59');

  const env: NodeJS.ProcessEnv = {
    TEMPORAL_ADDRESS: address,
    DUBAN_DATA_DIR: dataDir,
    DUBAN_TASK_QUEUE: taskQueue,
    DUBAN_API_PORT: String(apiPort),
    DUBAN_TIMEZONE: zone,
    DUBAN_POLICY_FILE: policyFile,
    DUBAN_CALENDAR_FILE: calendarFile,
    DUBAN_SMTP_HOST: '127.0.0.1',
    DUBAN_SMTP_PORT: String(mail.port),
    DUBAN_SMTP_STARTTLS: 'never',
    DUBAN_MAIL_FROM: '督办 <duban@chaos.example.gov.cn>',
    DUBAN_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
    DUBAN_BULLETIN_CRON: 'off',
    LOG_LEVEL: 'info',
  };

  // The process table: the Temporal server, `duban worker` and `duban api`, each its own process
  // (worker/processes.ts), so that each role is killed on its own.
  const binaries = provisionTemporalBinaries();
  const temporalArgs = [
    // As worker/dev-server.ts starts it: WAL, synchronous=FULL, its state in one file that
    // survives the kills.
    'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporalPort), '--ui-port', String(uiPort),
    '--db-filename', path.join(dir, 'temporal', 'temporal.sqlite'),
    '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=FULL',
    '--log-format', 'json', '--log-level', 'warn',
  ];
  fs.mkdirSync(path.join(dir, 'temporal'), { recursive: true });
  const temporalReady = async () => {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      return true;
    } finally {
      await connection.close();
    }
  };
  const processes: ProcessSpec[] = [
    { name: 'temporal', command: binaries.temporalCli, args: temporalArgs, env: {}, ready: temporalReady },
    { name: 'worker', command: process.execPath, args: [path.join(projectRoot(), 'bin', 'duban.js'), 'worker'], env, ready: /duban worker running/ },
    { name: 'api', command: process.execPath, args: [path.join(projectRoot(), 'bin', 'duban.js'), 'api'], env, ready: /duban API running/ },
  ];
  const roleMap: Record<Role, string> = { worker: 'worker', api: 'api', temporal: 'temporal' };
  const supervisor = new Supervisor(processes, roleMap, path.join(dir, 'logs'));
  // Whatever happens to the harness, its processes (each in its own group) do not outlive it.
  process.on('exit', () => supervisor.killAllNow());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

  const db: Db = openDatabase(path.join(dataDir, 'duban.sqlite'));
  const stats: ClientStats = emptyStats();
  const api = new ChaosApi(`http://127.0.0.1:${apiPort}`, stats, { requestTimeoutMs: 60_000, commandDeadlineMs: 15 * 60_000 });
  const failures: string[] = [];
  const fail = (message: string) => {
    failures.push(message);
    if (failures.length <= 50) log(`FAIL ${message}`);
  };
  let connection: Connection | undefined;
  const timings: Record<string, number> = {};
  let mark = Date.now();
  const lap = (name: string) => {
    timings[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };

  try {
    await migrateToLatest(db);
    for (const name of ['temporal', 'worker', 'api']) await supervisor.start(name);
    log('Temporal dev server and duban running');

    // The directory, through the API (the office's token from the CLI, as an installation gets
    // its first): four departments, each with a liaison, a head, a deputy and a staff member (named
    // 责任人 by some acknowledgements); the office's lead and clerk; two webhook subscribers.
    const token = async (...args: string[]) => (JSON.parse(await runCli(['token', 'create', ...args], env)) as { token: string }).token;
    const office = await token('--role', 'office', '--name', '督查办');
    const setup = (p: string, body: unknown, k: string) => api.command(p, office, body, `chaos-setup-${k}`, () => Promise.resolve(false));
    for (const d of departments) await setup('/api/v1/departments', { code: d.code, name: d.name }, d.code);
    const staffIds = new Map<string, string>();
    const posts: Record<(typeof departmentPosts)[number], { post: string; roles: string[] }> = {
      liaison: { post: '联络员', roles: ['liaison'] },
      head: { post: '局长', roles: ['head'] },
      deputy: { post: '副局长', roles: ['deputy'] },
      staff: { post: '科员', roles: [] },
    };
    for (const d of departments) {
      for (const p of departmentPosts) {
        const body = { name: `${d.name}${posts[p].post}`, post: posts[p].post, email: emailOf(d.code, p), roles: posts[p].roles };
        const person = (await setup(`/api/v1/departments/${d.code}/people`, body, `${d.code}-${p}`)) as { id: string };
        if (p === 'staff') staffIds.set(d.code, person.id);
      }
    }
    await setup('/api/v1/office/people', { name: '督查办主任', post: '主任', email: officeEmail.lead, roles: ['lead'] }, 'lead');
    await setup('/api/v1/office/people', { name: '督查办经办人', post: '经办人', email: officeEmail.clerk, roles: ['clerk'] }, 'clerk');
    await setup('/api/v1/webhooks', { name: '督查办系统', url: hookUrl(hookPaths.office) }, 'hook-office');
    await setup('/api/v1/webhooks', { name: '城管局业务系统', url: hookUrl(hookPaths.department), department: hookDepartment }, 'hook-dept');
    const departmentTokens = new Map<string, string>(
      await Promise.all(departments.map(async (d) => [d.code, await token('--role', 'department', '--dept', d.code, '--name', `${d.name}经办`)] as const)),
    );
    // The alarm tasks' cases, written as bench/timers writes them (they have no case workflow).
    for (const plan of plans.alarm) {
      const opened = openCase({
        caseId: plan.caseId,
        details: caseDetailsSchema.parse({ title: `混沌测试 超期 ${plan.index}`, category: '混沌', severity: 'general', source: 'other', leadDepartment: plan.department }),
        actor: { role: 'office', name: 'chaos' },
        at: new Date().toISOString(),
      });
      await saveCaseRow(db, caseStateToRow(opened.state, 1, new Date().toISOString()));
    }
    lap('setup');

    // The alarm minute: the start of today's working day, a little ahead, when every alarm task's
    // rungs and reminder fall due (written before the tasks start, which plan with it).
    const alarmAt = DateTime.now().setZone(zone).plus({ seconds: 15 }).startOf('minute').plus({ minutes: 1 });
    writePolicy(alarmAt.toFormat('HH:mm'));
    connection = await Connection.connect({ address });
    const client = new Client({ connection });
    for (const plan of plans.alarm) {
      // `ack`: assigned yesterday, acknowledgement due yesterday, rectification due today.
      // `rect`: assigned the day before, acknowledgement due then, rectification due yesterday.
      const assigned = plan.group === 'ack' ? day(-1) : day(-2);
      const input: TaskWorkflowInput = {
        taskId: plan.taskId,
        caseId: plan.caseId,
        departmentCode: plan.department,
        role: 'lead',
        assignedAt: assigned.set({ hour: 10 }).toUTC().toISO()!,
        ackDueAt: assigned.endOf('day').toUTC().toISO()!,
        rectificationDueAt: (plan.group === 'ack' ? day(0) : day(-1)).endOf('day').toUTC().toISO()!,
      };
      await client.workflow.start('taskWorkflow', { workflowId: plan.taskId, taskQueue, args: [input] });
    }
    log(`${plans.alarm.length} alarm tasks started; their alarms fall due at ${alarmAt.toISO()}`);

    // Drive the cases while the killer kills.
    let driving = true;
    const killer = (async () => {
      while (supervisor.kills.length < options.kills && driving && Date.now() < giveUpAt) {
        await sleep(between(killRandom, ...killEvery));
        if (!driving) break;
        const role = roles[between(killRandom, 0, roles.length - 1)]!;
        const kill = await supervisor.kill(role, between(killRandom, ...pause));
        log(`killed ${role} (${kill.process}); back after ${((kill.restartedAt! - kill.at) / 1000).toFixed(1)} s`);
      }
    })();

    const caseIds = new Map<number, string>();
    const taskView = async (caseId: string, taskId: string) => {
      const record = (await api.get(`/api/v1/cases/${caseId}`, office)) as { tasks: { id: string; status: string; submissionCount: number; reworkCount: number }[] };
      const task = record.tasks.find((t) => t.id === taskId);
      if (!task) throw new Error(`case ${caseId} has no task ${taskId}`);
      return task;
    };
    /**
     * The task as the server has recorded it (its workflow's query, answered once any workflow task
     * under way has completed): whether a command whose answer was lost took effect is read there.
     * The read model may show for a moment what an attempt that then died wrote
     * (docs/reliability.md), as it may to any client.
     */
    const taskTruth = async (taskId: string) => {
      for (;;) {
        try {
          return await client.workflow.getHandle(taskId).query(getTaskQuery);
        } catch (error) {
          if (Date.now() > giveUpAt) throw error;
          await sleep(1_000);
        }
      }
    };
    const key = (...parts: (string | number)[]) => `chaos-${options.seed}-${parts.join('-')}`;
    /** Acknowledge, then submit and verify `rejections` + 1 times (sending back all but the last). */
    const workTask = async (caseId: string, taskId: string, department: string, name: { staff: boolean }, rejections: number) => {
      const dept = departmentTokens.get(department)!;
      const base = `/api/v1/cases/${caseId}/tasks/${taskId}`;
      await api.command(
        `${base}/acknowledge`,
        dept,
        { note: '已签收', ...(name.staff ? { responsiblePersonId: staffIds.get(department)! } : {}) },
        key(taskId, 'ack'),
        async () => (await taskTruth(taskId)).status !== 'assigned',
      );
      for (let round = 1; round <= rejections + 1; round++) {
        await api.command(
          `${base}/submit`,
          dept,
          { report: `第 ${round} 次整改报告`, evidence: [{ url: `https://example.org/chaos/${taskId}-${round}.jpg`, note: '整改后' }] },
          key(taskId, 'submit', round),
          async () => (await taskTruth(taskId)).submissionCount >= round,
        );
        const accept = round > rejections;
        await api.command(
          `${base}/verify`,
          office,
          accept ? { decision: 'accept' } : { decision: 'reject', comment: '仍有问题，请返工' },
          key(taskId, 'verify', round),
          async () => {
            const task = await taskTruth(taskId);
            return accept ? task.status === 'accepted' : task.reworkCount >= round;
          },
        );
      }
    };

    const driveApiCase = async (plan: ApiCasePlan) => {
      const [lead, ...cooperating] = plan.tasks;
      const opened = (await api.command(
        '/api/v1/cases',
        office,
        {
          title: plan.title,
          category: '市容秩序',
          severity: 'general',
          source: 'inspection',
          leadDepartment: lead!.department,
          cooperatingDepartments: cooperating.map((t) => t.department),
          location: { address: `人民路 ${plan.index} 号` },
        },
        key('open', plan.index),
        // A retried open with its key is the same case: a 409 cannot mean it took effect.
        () => Promise.resolve(false),
      )) as { caseId: string; tasks: { taskId: string; departmentCode: string }[] };
      caseIds.set(plan.index, opened.caseId);
      await Promise.all(
        plan.tasks.map((t) => {
          const task = opened.tasks.find((x) => x.departmentCode === t.department);
          if (!task) throw new Error(`case ${opened.caseId} has no task for ${t.department}`);
          return workTask(opened.caseId, task.taskId, t.department, { staff: t.nameAtAck }, t.rejections);
        }),
      );
    };

    const driveAlarmCase = async (plan: AlarmCasePlan) => {
      await sleep(Math.max(0, alarmAt.toMillis() - Date.now()) + 1_000);
      // Until the rungs are on the server's record (the workflow's query): the read model may show
      // for a moment rungs that an attempt which then died wrote, and a retried attempt that
      // handles the acknowledgement first rightly never reaches them.
      const levels = rungsOf(plan);
      const wanted = { ack: Math.max(0, ...levels.acknowledgement), rect: Math.max(0, ...levels.rectification) };
      for (;;) {
        const task = await taskTruth(plan.taskId);
        if (task.ackEscalationLevel >= wanted.ack && task.escalationLevel >= wanted.rect) break;
        if (Date.now() > giveUpAt) throw new Error(`${plan.taskId}: rungs reached ${task.ackEscalationLevel}/${task.escalationLevel} of ${wanted.ack}/${wanted.rect}`);
        await sleep(2_000 + Math.random() * 1_000);
      }
      await workTask(plan.caseId, plan.taskId, plan.department, { staff: false }, 0);
    };

    const progress = setInterval(() => {
      void db
        .selectFrom('deliveries')
        .select(['status', ({ fn }) => fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute()
        .then((rows) => {
          const deliveries = rows.map((r) => `${r.status} ${r.n}`).join(', ');
          log(`progress: ${done} of ${plans.api.length + plans.alarm.length} cases driven; ${supervisor.kills.length} kills; deliveries ${deliveries || 'none yet'}`);
        })
        .catch(() => undefined);
    }, 30_000);
    let done = 0;
    const driverErrors = (what: string) => (error: unknown) => fail(`${what}: ${(error as Error).message}`);
    await Promise.all([
      pool(plans.api.length, options.concurrency, (i) =>
        driveApiCase(plans.api[i]!)
          .catch(driverErrors(`case ${plans.api[i]!.index}`))
          .finally(() => done++),
      ),
      Promise.all(plans.alarm.map((plan) => driveAlarmCase(plan).catch(driverErrors(plan.taskId)).finally(() => done++))),
    ]);
    clearInterval(progress);
    // With --all-kills the killer goes on until it has made them all, while the outbox drains.
    if (options.allKills) await killer;
    driving = false;
    await killer;
    lap('drive');
    log(`every case driven; ${supervisor.kills.length} kills; waiting for quiet`);

    // Quiet: every process up, every case closed, every alarm task accepted, nothing left in the
    // outbox, and nothing new arriving for five seconds.
    const apiIds = [...caseIds.values()];
    const allIds = [...apiIds, ...plans.alarm.map((p) => p.caseId)];
    const quietFor = 5_000;
    let lastChange = Date.now();
    let lastSeen = '';
    let quiet = false;
    while (Date.now() < giveUpAt) {
      const [closed, accepted, notices, deliveries, unconfirmed] = await Promise.all([
        db.selectFrom('cases').select(({ fn }) => fn.countAll<number>().as('n')).where('id', 'in', apiIds.length ? apiIds : ['-']).where('status', '=', 'closed').executeTakeFirstOrThrow(),
        db.selectFrom('tasks').select(({ fn }) => fn.countAll<number>().as('n')).where('case_id', 'in', plans.alarm.map((p) => p.caseId).concat('-')).where('status', '=', 'accepted').executeTakeFirstOrThrow(),
        db.selectFrom('notices').select(({ fn }) => fn.countAll<number>().as('n')).where('status', 'in', ['held', 'pending', 'incomplete']).executeTakeFirstOrThrow(),
        db.selectFrom('deliveries').select(({ fn }) => fn.countAll<number>().as('n')).where('status', '!=', 'sent').executeTakeFirstOrThrow(),
        // Journal writes not yet confirmed against the server's record (docs/reliability.md).
        db.selectFrom('journal_streams').select(({ fn }) => fn.countAll<number>().as('n')).where((eb) => eb('seq', '>', eb.ref('confirmed'))).executeTakeFirstOrThrow(),
      ]);
      const seen = `${closed.n}/${accepted.n}/${notices.n}/${deliveries.n}/${unconfirmed.n}/${mail.received.length}/${hooks.received.length}`;
      if (seen !== lastSeen) {
        lastSeen = seen;
        lastChange = Date.now();
      }
      const done =
        Number(closed.n) === apiIds.length && Number(accepted.n) === plans.alarm.length && Number(notices.n) === 0 && Number(deliveries.n) === 0 && Number(unconfirmed.n) === 0;
      if (done && supervisor.allRunning() && Date.now() - lastChange >= quietFor) {
        quiet = true;
        break;
      }
      await sleep(500);
    }
    lap('drain');
    if (!quiet) fail(`not quiet within ${options.timeoutMinutes} minutes (closed/accepted/open notices/unsent deliveries/unconfirmed journals/mails/hooks: ${lastSeen})`);
    log('quiet; checking');

    // 1. States: the read model (through the API) and the workflow's own query agree, and say closed/accepted.
    const expectedEvents = new Map<string, EventCounts>();
    const expectedDeliveries = new Map<string, number>();
    const addDeliveries = (caseId: string, list: readonly ExpectedDelivery[]) => {
      for (const d of list) bump(expectedDeliveries, `${caseId}|${d.action}|${d.channel}|${d.channel === 'webhook' ? hookUrl(d.to) : d.to}`);
    };
    let statesChecked = 0;
    /**
     * The run's description once it has closed, or as it stands after a minute: a workflow whose
     * last write is in the read model still has to close, and after a kill near the end its last
     * workflow task may wait for a new worker a few seconds longer than the quiet check did.
     */
    const closedRun = async (handle: ReturnType<typeof client.workflow.getHandle>) => {
      const until = Math.min(giveUpAt, Date.now() + 60_000);
      for (;;) {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING' || Date.now() > until) return description;
        await sleep(500);
      }
    };
    // When a task's assignment notice was planned relative to the naming of its responsible
    // person; within two seconds either is right (the planning reads the directory inside that span).
    let namingRaces = 0;
    let lateAssignments = 0;
    const assignedAfterNaming = async (taskId: string): Promise<boolean> => {
      const named = await db.selectFrom('events').select('recorded_at').where('task_id', '=', taskId).where('action', '=', 'task.responsible_person_assigned').executeTakeFirst();
      if (!named) return false;
      const planned = await db
        .selectFrom('deliveries as d')
        .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
        .select(['d.created_at', 'd.address'])
        .where('n.task_id', '=', taskId)
        .where('n.event_action', '=', 'task.assigned')
        .execute();
      if (planned.length === 0) return false;
      const diff = Date.parse(planned[0]!.created_at) - Date.parse(named.recorded_at);
      let late = diff > 0;
      if (Math.abs(diff) <= 2_000) {
        namingRaces++;
        late = planned.some((d) => d.address.startsWith('staff.'));
      }
      if (late) lateAssignments++;
      return late;
    };
    await pool(plans.api.length, 8, async (i) => {
      const plan = plans.api[i]!;
      const caseId = caseIds.get(plan.index);
      if (!caseId) return fail(`case ${plan.index} was never opened`);
      const record = (await api.get(`/api/v1/cases/${caseId}`, office)) as { case: { status: string }; tasks: { id: string; status: string; department: string }[] };
      const late = await Promise.all(plan.tasks.map(async (t) => {
        const task = record.tasks.find((x) => x.department === t.department);
        return task !== undefined && t.nameAtAck && (await assignedAfterNaming(task.id));
      }));
      const expected = expectApiCase(plan, late);
      expectedEvents.set(caseId, expected.events);
      addDeliveries(caseId, expected.deliveries);
      const handle = client.workflow.getHandle(caseId);
      const [state, description] = await Promise.all([handle.query(getCaseQuery), closedRun(handle)]);
      statesChecked++;
      const readTasks = record.tasks.map((t) => `${t.id}:${t.department}:${t.status}`).sort().join(',');
      const flowTasks = state.tasks.map((t) => `${t.taskId}:${t.departmentCode}:${t.outcome ?? 'running'}`).sort().join(',');
      if (record.case.status !== 'closed') fail(`${caseId}: read model says ${record.case.status}, expected closed`);
      if (state.status !== 'closed') fail(`${caseId}: workflow says ${state.status}, expected closed`);
      if (description.status.name !== 'COMPLETED') fail(`${caseId}: workflow run is ${description.status.name}, expected COMPLETED`);
      if (readTasks !== flowTasks) fail(`${caseId}: tasks differ: read model ${readTasks}, workflow ${flowTasks}`);
      const wantTasks = plan.tasks.map((t) => `${t.department}:accepted`).sort().join(',');
      const haveTasks = record.tasks.map((t) => `${t.department}:${t.status}`).sort().join(',');
      if (wantTasks !== haveTasks) fail(`${caseId}: tasks ${haveTasks}, expected ${wantTasks}`);
    });
    await pool(plans.alarm.length, 8, async (i) => {
      const plan = plans.alarm[i]!;
      const expected = expectAlarmCase(plan);
      expectedEvents.set(plan.caseId, expected.events);
      addDeliveries(plan.caseId, expected.deliveries);
      const task = await taskView(plan.caseId, plan.taskId);
      const handle = client.workflow.getHandle(plan.taskId);
      const [state, description] = await Promise.all([handle.query(getTaskQuery), closedRun(handle)]);
      statesChecked++;
      if (task.status !== 'accepted') fail(`${plan.taskId}: read model says ${task.status}, expected accepted`);
      if (state.status !== 'accepted') fail(`${plan.taskId}: workflow says ${state.status}, expected accepted`);
      if (description.status.name !== 'COMPLETED') fail(`${plan.taskId}: workflow run is ${description.status.name}, expected COMPLETED`);
      const levels = rungsOf(plan);
      if (state.ackEscalationLevel !== Math.max(0, ...levels.acknowledgement) || state.escalationLevel !== Math.max(0, ...levels.rectification)) {
        fail(`${plan.taskId}: rungs reached ${state.ackEscalationLevel}/${state.escalationLevel}, expected ${Math.max(0, ...levels.acknowledgement)}/${Math.max(0, ...levels.rectification)}`);
      }
    });

    // 2. Events: each case's count of each action, exactly; no key twice; no rung twice.
    const eventRows = await db
      .selectFrom('events')
      .select(['case_id', 'action', ({ fn }) => fn.countAll<number>().as('n')])
      .where('case_id', 'in', allIds.length ? allIds : ['-'])
      .groupBy(['case_id', 'action'])
      .execute();
    const actualEvents = new Map<string, EventCounts>();
    for (const row of eventRows) {
      const counts = actualEvents.get(row.case_id) ?? {};
      counts[row.action] = Number(row.n);
      actualEvents.set(row.case_id, counts);
    }
    const totals: Record<string, { expected: number; actual: number }> = {};
    for (const caseId of allIds) {
      const want = expectedEvents.get(caseId) ?? {};
      const have = actualEvents.get(caseId) ?? {};
      for (const action of new Set([...Object.keys(want), ...Object.keys(have)])) {
        const total = (totals[action] ??= { expected: 0, actual: 0 });
        total.expected += want[action] ?? 0;
        total.actual += have[action] ?? 0;
        if ((want[action] ?? 0) !== (have[action] ?? 0)) fail(`${caseId}: ${have[action] ?? 0} ${action}, expected ${want[action] ?? 0}`);
      }
    }
    const duplicateKeys = await db.selectFrom('events').select(['event_key', ({ fn }) => fn.countAll<number>().as('n')]).groupBy('event_key').having(({ fn }) => fn.countAll(), '>', 1).execute();
    for (const row of duplicateKeys) fail(`event key ${row.event_key} recorded ${row.n} times`);
    const duplicateRungs = await sql<{ task_id: string; deadline: string; level: number; n: number }>`
      select task_id, json_extract(payload, '$.deadline') as deadline, json_extract(payload, '$.level') as level, count(*) as n
      from events where action = 'task.escalated' group by 1, 2, 3 having count(*) > 1`.execute(db);
    for (const row of duplicateRungs.rows) fail(`${row.task_id}: rung ${row.deadline} ${row.level} recorded ${row.n} times`);
    const escalationRows = await db.selectFrom('escalations').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const interviewRows = await db.selectFrom('interviews').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const wantEscalations = plans.alarm.reduce((n, p) => n + rungsOf(p).acknowledgement.length + rungsOf(p).rectification.length, 0);
    const wantInterviews = plans.alarm.filter((p) => rungsOf(p).rectification.includes(4)).length;
    if (Number(escalationRows.n) !== wantEscalations) fail(`${escalationRows.n} escalation records, expected ${wantEscalations}`);
    if (Number(interviewRows.n) !== wantInterviews) fail(`${interviewRows.n} interviews called, expected ${wantInterviews}`);

    // 3. Deliveries: exactly the expected ones (case, event, channel, address), every one sent; no alert.
    const deliveryRows = await db
      .selectFrom('deliveries as d')
      .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
      .select(['d.id', 'd.delivery_key', 'd.channel', 'd.address', 'd.status', 'n.case_id', 'n.event_action', 'n.kind'])
      .execute();
    const actualDeliveries = new Map<string, number>();
    for (const row of deliveryRows) {
      bump(actualDeliveries, `${row.case_id}|${row.event_action}|${row.channel}|${row.address}`);
      if (row.status !== 'sent') fail(`delivery ${row.id} (${row.case_id} ${row.event_action} ${row.channel} ${row.address}) is ${row.status}`);
    }
    for (const [k, n] of excess(expectedDeliveries, actualDeliveries)) fail(`delivery missing ×${n}: ${k}`);
    for (const [k, n] of excess(actualDeliveries, expectedDeliveries)) fail(`delivery not expected ×${n}: ${k}`);
    const alerts = await db.selectFrom('notices').select(({ fn }) => fn.countAll<number>().as('n')).where('kind', '=', 'alert').executeTakeFirstOrThrow();
    if (Number(alerts.n) > 0) fail(`${alerts.n} alerts (a role nobody could be reached in)`);

    // 4. On the wire: every delivery received at least once, under its own id and address; nothing else.
    const byMessageId = new Map(deliveryRows.filter((r) => r.channel === 'email').map((r) => [messageIdOf(r.delivery_key), r]));
    const byDeliveryId = new Map(deliveryRows.filter((r) => r.channel === 'webhook').map((r) => [r.id, r]));
    const arrivals = new Map<string, number[]>();
    for (const m of mail.received) {
      const row = byMessageId.get(m.messageId);
      if (!row) fail(`mail not planned: ${m.messageId} to ${m.to}: ${m.subject}`);
      else if (row.address !== m.to || !m.subject.includes(row.case_id ?? '-')) fail(`mail ${m.messageId} went to ${m.to} about "${m.subject}", planned for ${row.address} about ${row.case_id}`);
      arrivals.set(m.messageId, [...(arrivals.get(m.messageId) ?? []), m.at]);
    }
    for (const h of hooks.received) {
      const row = byDeliveryId.get(h.deliveryId);
      if (!row) fail(`webhook not planned: ${h.deliveryId} to ${h.url}`);
      else if (row.address !== h.url || h.body.delivery !== h.deliveryId || h.body.caseId !== row.case_id || h.body.event !== row.event_action) {
        fail(`webhook ${h.deliveryId} to ${h.url} (${h.body.caseId} ${h.body.event}) does not match its delivery (${row.address} ${row.case_id} ${row.event_action})`);
      }
      arrivals.set(h.deliveryId, [...(arrivals.get(h.deliveryId) ?? []), h.at]);
    }
    for (const id of [...byMessageId.keys(), ...byDeliveryId.keys()]) if (!arrivals.has(id)) fail(`delivery ${id} planned and marked sent but never received`);
    // A repeat is acceptable only for a delivery on the wire at a kill: a kill between its arrivals.
    const repeats: { id: string; copies: number; killedBetween: string[] }[] = [];
    for (const [id, times] of arrivals) {
      if (times.length < 2) continue;
      const between_ = supervisor.kills.filter((k) => k.at >= times[0]! - 1_000 && k.at <= times.at(-1)!).map((k) => k.role);
      repeats.push({ id, copies: times.length, killedBetween: between_ });
      if (between_.length === 0) fail(`delivery ${id} received ${times.length} times with no kill between its arrivals`);
    }
    lap('verify');

    // Summary.
    const kills = supervisor.kills;
    const killsByRole = Object.fromEntries(roles.map((r) => [r, kills.filter((k) => k.role === r).length]));
    const downtimes = kills.map((k: Kill) => ((k.restartedAt ?? k.at) - k.at) / 1000);
    const summary = {
      scenario: 'chaos',
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      load: { before: loadBefore, after: load() },
      options: { ...options, alarmCases },
      processes: Object.fromEntries(roles.map((r) => [r, roleMap[r]])),
      kills: { total: kills.length, byRole: killsByRole, meanDowntimeSeconds: downtimes.length ? downtimes.reduce((a, b) => a + b, 0) / downtimes.length : 0 },
      unexpectedExits: supervisor.unexpectedExits.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
      cases: { api: plans.api.length, alarm: plans.alarm.length, statesChecked, assignmentsPlannedAfterNaming: lateAssignments, namingRaces },
      events: totals,
      deliveries: {
        expected: [...expectedDeliveries.values()].reduce((a, b) => a + b, 0),
        planned: deliveryRows.length,
        email: { received: mail.received.length, distinct: new Set(mail.received.map((m) => m.messageId)).size },
        webhook: { received: hooks.received.length, distinct: new Set(hooks.received.map((h) => h.deliveryId)).size },
        repeats,
      },
      http: stats,
      seconds: { ...timings, total: (Date.now() - startedAt) / 1000 },
      failures: failures.length,
    };
    console.log(`\nchaos: ${plans.api.length} cases through the API and ${plans.alarm.length} alarm tasks, seed ${options.seed}; ${summary.machine}; load ${loadBefore} before, ${summary.load.after} after`);
    console.log(`kills: ${kills.length} (${roles.map((r) => `${r} ${killsByRole[r]}`).join(', ')}; each role its own process), mean time to ready ${summary.kills.meanDowntimeSeconds.toFixed(1)} s; exits on their own: ${supervisor.unexpectedExits.length}`);
    console.log('event                                expected     actual');
    for (const [action, t] of Object.entries(totals).sort()) console.log(`${action.padEnd(34)} ${String(t.expected).padStart(10)} ${String(t.actual).padStart(10)}${t.expected === t.actual ? '' : '   MISMATCH'}`);
    console.log(
      `deliveries: ${summary.deliveries.expected} expected, ${deliveryRows.length} planned; e-mail ${summary.deliveries.email.distinct} distinct of ${mail.received.length} received; ` +
        `webhook ${summary.deliveries.webhook.distinct} distinct of ${hooks.received.length} received; repeats ${repeats.length}`,
    );
    console.log(`http: ${stats.requests} requests, ${stats.retries} retries, ${stats.replays} idempotent replays, ${stats.resolvedConflicts} 409s resolved by reading the state, ${stats.heldKeys} waits for a held key`);
    console.log(`time: ${Object.entries(summary.seconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')}`);
    console.log(failures.length === 0 ? 'PASS: nothing lost, nothing duplicated' : `FAIL: ${failures.length} mismatches (the first 50 above)`);
    console.log(JSON.stringify(summary));
  } catch (error) {
    fail(`run aborted: ${(error as Error).stack ?? String(error)}`);
  } finally {
    await connection?.close().catch(() => undefined);
    await supervisor.stop();
    await db.destroy();
    await Promise.all([mail.close(), hooks.close()]);
    if (options.keep || failures.length > 0) log(`run directory kept: ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
