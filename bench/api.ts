/**
 * The API scenario: GET list and GET case with 100,000 cases in the read model, and command
 * throughput, under autocannon on loopback. Baselines in the same run: GET /healthz (the HTTP
 * framework's floor) for reads, and a bare Temporal update with one empty activity for commands.
 */
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import pino from 'pino';
import { buildApi } from '../api/server';
import type { Db } from '../db/database';
import { startApiProcesses } from '../worker/api-processes';
import { createTokenService } from '../services/token.service';
import { baselineStartedUpdate, baselineStepUpdate, type baselineWorkflow } from './baseline.workflow';
import type { LoadOptions, LoadResult } from './load';
import { fmt, pool, quantile, timed } from './stats';

export interface HttpFigures {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const departments = ['CG', 'JD', 'SJ', 'HW', 'JT', 'ZJ', 'SW', 'GT'];
const categories = ['市容秩序', '环境卫生', '市政设施', '园林绿化', '交通秩序', '噪声扰民', '违法建设'];
const streets = ['人民路', '解放路', '中山路', '延安路', '庆春路', '建国路', '凤起路', '体育场路'];
const problems = ['占道经营', '垃圾堆放', '井盖缺失', '绿化带破损', '乱停车', '夜间施工噪声', '违章搭建', '广告牌破损'];

/** Writes `count` cases (with tasks and timelines) straight into the read model, in batches. */
export async function seedReadModel(db: Db, count: number): Promise<string[]> {
  const now = Date.now();
  const ids: string[] = [];
  for (const code of departments) {
    await db
      .insertInto('departments')
      .values({ code, name: `部门 ${code}`, head_name: null, email: null, phone: null, active: 1, created_at: new Date(now).toISOString(), updated_at: new Date(now).toISOString() })
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
  }
  const batch = 2000;
  for (let start = 0; start < count; start += batch) {
    await db.transaction().execute(async (trx) => {
      for (let i = start; i < Math.min(count, start + batch); i++) {
        const id = `DB-2025-${String(i + 1).padStart(6, '0')}`;
        ids.push(id);
        const opened = new Date(now - (count - i) * 300_000).toISOString();
        const due = new Date(now - (count - i) * 300_000 + 15 * 86_400_000).toISOString();
        const status = i % 10 < 6 ? 'closed' : i % 10 < 9 ? 'open' : 'withdrawn';
        const lead = departments[i % departments.length]!;
        const problem = problems[i % problems.length]!;
        const street = streets[(i * 7) % streets.length]!;
        await trx
          .insertInto('cases')
          .values({
            id,
            title: `${street}${problem}`,
            description: `${street} ${i % 200} 号附近${problem}，群众反映强烈，请尽快处置。`,
            category: categories[i % categories.length]!,
            severity: ['general', 'serious', 'major'][i % 3]!,
            source: ['inspection', 'complaint', 'hotline', 'media', 'survey', 'other'][i % 6]!,
            lead_department: lead,
            cooperating_departments: '[]',
            location_address: `${street} ${i % 200} 号`,
            location_lat: 30.2 + (i % 100) / 1000,
            location_lng: 120.1 + (i % 100) / 1000,
            due_date: null,
            evidence: '[]',
            status,
            opened_at: opened,
            opened_by: JSON.stringify({ role: 'office', name: 'bench' }),
            closed_at: status === 'open' ? null : due,
            withdrawn_reason: status === 'withdrawn' ? '重复' : null,
            due_at: status === 'open' ? due : null,
            work_due_at: status === 'open' ? due : null,
            escalation_level: status === 'open' ? i % 5 : 0,
            version: 1,
            updated_at: opened,
          })
          .execute();
        await trx
          .insertInto('tasks')
          .values({
            id: `${id}-T1`,
            case_id: id,
            department_code: lead,
            role: 'lead',
            status: status === 'open' ? 'acknowledged' : status === 'closed' ? 'accepted' : 'withdrawn',
            rework_count: 0,
            submission_count: status === 'closed' ? 1 : 0,
            assigned_at: opened,
            acknowledged_at: opened,
            submitted_at: null,
            closed_at: null,
            last_submission: null,
            version: 1,
            updated_at: opened,
            ack_due_at: opened,
            rectification_due_at: due,
            escalation_level: status === 'open' ? i % 5 : 0,
            ack_escalation_level: 0,
            suspended_since: null,
            suspension_reason: null,
            pending_extension: null,
            extensions_granted: 0,
            pending_transfer: null,
            transferred_to_task: null,
            next_alarm_at: null,
            next_alarm_kind: null,
            next_alarm_label: null,
          })
          .execute();
        for (const [n, action] of ['case.opened', 'task.assigned', 'task.acknowledged'].entries()) {
          await trx
            .insertInto('events')
            .values({
              event_key: `${id}#${n + 1}`,
              case_id: id,
              task_id: n === 0 ? null : `${id}-T1`,
              action,
              actor_role: 'office',
              actor_department: null,
              actor_name: 'bench',
              payload: '{}',
              at: opened,
              recorded_at: opened,
            })
            .execute();
        }
      }
    });
  }
  return ids;
}

/** Runs the load generator (bench/load.ts) in its own process. */
function load(name: string, options: Partial<LoadOptions> & { url: string }): Promise<HttpFigures> {
  const full: LoadOptions = { connections: 16, duration: 10, ...options };
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(__dirname, 'load.js')], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`load generator failed: ${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
      resolve({ name, requestsPerSecond: r.requestsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors });
    });
    child.stdin?.end(JSON.stringify(full));
  });
}

/** Reads with `cases` cases seeded, and commands on real workflows, over HTTP on loopback. */
export async function runApiScenario(options: {
  client: Client;
  db: Db;
  dir: string;
  taskQueue: string;
  cases: number;
  commands: number;
  /** More than 1: the API in that many processes of its own (DUBAN_API_PROCESSES), on `apiPort`. */
  apiProcesses?: number;
  apiPort?: number;
  temporalAddress?: string;
}) {
  const { client, db } = options;
  const seeded = await seedReadModel(db, options.cases);
  let url: string;
  let close: () => Promise<void>;
  if ((options.apiProcesses ?? 1) > 1) {
    const port = options.apiPort ?? 18_080;
    const processes = startApiProcesses({
      count: options.apiProcesses!,
      env: {
        DUBAN_DATA_DIR: options.dir,
        DATABASE_URL: path.join(options.dir, 'duban.sqlite'),
        TEMPORAL_ADDRESS: options.temporalAddress!,
        DUBAN_TASK_QUEUE: options.taskQueue,
        DUBAN_TIMEZONE: 'Asia/Shanghai',
        DUBAN_API_HOST: '127.0.0.1',
        DUBAN_API_PORT: String(port),
        DUBAN_COMPLAINTS_PER_MINUTE: '100000',
        LOG_LEVEL: 'warn',
      },
      log: { info: () => undefined, warn: (attributes, message) => console.warn(message, attributes) },
    });
    await processes.ready;
    url = `http://127.0.0.1:${port}`;
    close = () => processes.stop();
  } else {
    const api = await buildApi({
      db,
      client,
      taskQueue: options.taskQueue,
      timeZone: 'Asia/Shanghai',
      dataDir: options.dir,
      logger: pino({ level: 'warn' }),
      complaintsPerMinute: 1_000_000,
    });
    url = await api.listen({ host: '127.0.0.1', port: 0 });
    close = () => api.close();
  }
  const tokens = createTokenService({ db });
  const office = (await tokens.create({ role: 'office', name: 'bench' })).token;
  const cg = (await tokens.create({ role: 'department', department: 'CG', name: 'bench' })).token;
  const auth = { authorization: `Bearer ${office}` };
  try {
    const reads: HttpFigures[] = [];
    reads.push(await load('GET /healthz (baseline)', { url: `${url}/healthz` }));
    reads.push(await load('GET /api/v1/cases (first page)', { url: `${url}/api/v1/cases?limit=50`, headers: auth }));
    reads.push(
      await load('GET /api/v1/cases filtered, by due date', {
        url: `${url}/api/v1/cases?status=open&severity=major&sort=dueAt&limit=50`,
        headers: auth,
      }),
    );
    reads.push(await load('GET /api/v1/cases?q= (full text)', { url: `${url}/api/v1/cases?q=${encodeURIComponent('人民路占道')}&limit=50`, headers: auth }));
    reads.push(
      await load('GET /api/v1/cases/{id}', {
        url,
        headers: auth,
        paths: Array.from({ length: 20_000 }, (_, i) => `/api/v1/cases/${seeded[(i * 7919) % seeded.length]}`),
      }),
    );

    // Commands: acknowledge real tasks on real workflows, each request a different task.
    const opened: string[] = [];
    await pool(options.commands, 16, async () => {
      const r = await fetch(`${url}/api/v1/cases`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ title: '基准', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' }),
      });
      opened.push(((await r.json()) as { caseId: string }).caseId);
    });
    const commands = await load('POST …/acknowledge (command)', {
      url,
      amount: opened.length,
      method: 'POST',
      headers: { authorization: `Bearer ${cg}`, 'content-type': 'application/json' },
      body: '{}',
      paths: opened.map((caseId) => `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge`),
    });

    // Baseline: the same number of bare Temporal updates, each running one empty activity.
    const latencies: number[] = [];
    const handles: WorkflowHandle<typeof baselineWorkflow>[] = [];
    for (let i = 0; i < Math.min(opened.length, 400); i++) {
      const start = new WithStartWorkflowOperation<typeof baselineWorkflow>('baselineWorkflow', {
        workflowId: `api-baseline-${randomUUID()}`,
        taskQueue: 'bench-baseline',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      await client.workflow.executeUpdateWithStart(baselineStartedUpdate, { startWorkflowOperation: start });
      handles.push(await start.workflowHandle());
    }
    const began = performance.now();
    await pool(handles.length, 16, async (i) => {
      await timed(latencies, () => handles[i]!.executeUpdate(baselineStepUpdate, { args: ['ack'] }));
    });
    const baseline: HttpFigures = {
      name: 'bare Temporal update (baseline)',
      requestsPerSecond: handles.length / ((performance.now() - began) / 1000),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      errors: 0,
    };
    return { reads, commands: [baseline, commands] };
  } finally {
    await close();
  }
}

export function printHttp(title: string, rows: HttpFigures[], baseline: HttpFigures): void {
  console.log(`\n${title}`);
  console.log('scenario                                   req/s    p50 ms    p99 ms   errors   req/s vs baseline');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(40)} ${fmt(r.requestsPerSecond).padStart(7)}  ${fmt(r.p50Ms).padStart(8)}  ${fmt(r.p99Ms).padStart(8)}  ${String(r.errors).padStart(7)}   ${fmt(r.requestsPerSecond / baseline.requestsPerSecond, 3)}x`,
    );
  }
}
