import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noonZone } from '../bench/chaos-plan';
import { caseStateToRow } from '../db/case.mapper';
import { saveCaseRow } from '../db/case.repository';
import type { Db } from '../db/database';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { createCaseService } from '../services/case.service';
import { createPeopleService } from '../services/people.service';
import { getTaskQuery } from '../workflows/messages';
import type { TaskWorkflowInput } from '../workflows/task.workflow';
import type { DevServer } from '../worker/dev-server';
import { tempDatabase } from './support/database';
import { dept } from './support/fixtures';
import { type Mailbox, startMailbox } from './support/mailbox';
import { freePort, kill, startDuban, startTestDevServer } from './support/processes';
import { startTcpGate, type TcpGate } from './support/tcp-gate';

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/**
 * The window the fault run found (docs/reliability.md): a worker runs a workflow task, its local
 * activity writes the read model, and the worker dies before the server records the task; a
 * command arrives meanwhile, and the retried task handles it first. Here with real processes: a
 * rung falls due on a task's timer, `duban worker` A runs it behind a gate that keeps its answer
 * from the server, and is killed once the rung is in the read model; the department acknowledges,
 * and worker B runs the retried task. The read model must end as the workflow did (acknowledged,
 * no rung), keep the voided rung on record, and no one may be told of the rung.
 */
describe('a worker killed between its read-model write and the server’s record of it', () => {
  let dir: string;
  let server: DevServer;
  let gate: TcpGate;
  let mailbox: Mailbox;
  let db: Db;
  let file: string;
  let connection: Connection;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-fence-'));
    server = await startTestDevServer(dir, await freePort());
    gate = await startTcpGate(server.address);
    mailbox = await startMailbox();
    ({ db, file } = await tempDatabase(['CG']));
    connection = await Connection.connect({ address: server.address });
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await kill(worker, 'SIGKILL');
    await connection?.close();
    await db?.destroy();
    await mailbox?.close();
    await gate?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ends with what the retried workflow task did, and sends nothing of what the dead one wrote', async () => {
    const zone = noonZone();
    const today = DateTime.now().setZone(zone).startOf('day');
    const calendarFile = path.join(dir, 'calendar.json');
    fs.writeFileSync(calendarFile, JSON.stringify({ days: [-2, -1, 0, 1, 2].map((n) => ({ date: today.plus({ days: n }).toISODate(), kind: 'workday', note: 'test' })) }));
    // Today's working day starts at the next whole minute at least 20 s away: the rung's instant.
    const alarmAt = DateTime.now().setZone(zone).plus({ seconds: 20 }).startOf('minute').plus({ minutes: 1 });
    const policyFile = path.join(dir, 'policy.json');
    fs.writeFileSync(
      policyFile,
      JSON.stringify({
        workdayStartTime: alarmAt.toFormat('HH:mm'),
        reminders: [],
        escalation: { acknowledgement: [{ level: 1, workingDaysOverdue: 1 }], rectification: [{ level: 1, workingDaysOverdue: 1 }] },
      }),
    );
    const people = createPeopleService({ db });
    await people.addPerson({ department: 'CG' }, { name: '赵联络员', post: '联络员', email: 'zhao@cg.example.gov.cn', roles: ['liaison'] });
    await people.addPerson({ department: 'CG' }, { name: '王局长', post: '局长', email: 'wang@cg.example.gov.cn', roles: ['head'] });

    const taskQueue = `fence-${crypto.randomUUID()}`;
    const env = (address: string, name: string): NodeJS.ProcessEnv => ({
      TEMPORAL_ADDRESS: address,
      DATABASE_URL: file,
      DUBAN_DATA_DIR: path.join(dir, name),
      DUBAN_TASK_QUEUE: taskQueue,
      DUBAN_TIMEZONE: zone,
      DUBAN_POLICY_FILE: policyFile,
      DUBAN_CALENDAR_FILE: calendarFile,
      DUBAN_SMTP_HOST: '127.0.0.1',
      DUBAN_SMTP_PORT: String(mailbox.port),
      DUBAN_SMTP_STARTTLS: 'never',
      DUBAN_SECRET_KEY: 'k'.repeat(64),
      DUBAN_BULLETIN_CRON: 'off',
      LOG_LEVEL: 'info',
    });
    const a = await startDuban('worker', env(gate.address, 'a'));
    workers.push(a);

    // A task whose acknowledgement was due yesterday (a case row as bench/timers writes one): its
    // 催办 falls due at `alarmAt`, on its timer.
    const caseId = 'DB-2099-000001';
    const taskId = `${caseId}-T1`;
    const opened = openCase({
      caseId,
      details: caseDetailsSchema.parse({ title: '围挡破损', category: '市容', severity: 'general', source: 'other', leadDepartment: 'CG' }),
      actor: { role: 'office', name: '创建办' },
      at: new Date().toISOString(),
    });
    await saveCaseRow(db, caseStateToRow(opened.state, 1, new Date().toISOString()));
    const client = new Client({ connection });
    const yesterday = today.minus({ days: 1 });
    const input: TaskWorkflowInput = {
      taskId,
      caseId,
      departmentCode: 'CG',
      role: 'lead',
      assignedAt: yesterday.set({ hour: 10 }).toUTC().toISO()!,
      ackDueAt: yesterday.endOf('day').toUTC().toISO()!,
      rectificationDueAt: today.plus({ days: 2 }).endOf('day').toUTC().toISO()!,
    };
    const handle = await client.workflow.start('taskWorkflow', { workflowId: taskId, taskQueue, args: [input] });
    await until('the task waits on its timer', async () => {
      const described = await handle.describe();
      return described.historyLength > 3 && !described.raw.pendingWorkflowTask;
    });

    // Just before the rung, A's words to the server are held back; it still gets the task.
    await new Promise((r) => setTimeout(r, Math.max(0, alarmAt.toMillis() - Date.now() - 1_500)));
    gate.hold();
    const rungWritten = () => db.selectFrom('events').select('event_key').where('case_id', '=', caseId).where('action', '=', 'task.escalated').execute();
    await until('worker A writes the rung', async () => (await rungWritten()).length > 0, 90_000);
    // Its notices wait: the server has not recorded the workflow task that wrote them.
    const held = await db.selectFrom('notices').select(['notice_key', 'status']).where('case_id', '=', caseId).execute();
    expect(held).toEqual([{ notice_key: `${taskId}#1`, status: 'held' }]);
    await kill(a, 'SIGKILL');

    // The department acknowledges meanwhile; worker B takes over.
    const service = createCaseService({ client, db, taskQueue, timeZone: zone });
    const acknowledged = service.acknowledgeTask(caseId, dept('CG'), {});
    await new Promise((r) => setTimeout(r, 1_000));
    workers.push(await startDuban('worker', env(server.address, 'b')));
    expect((await acknowledged).status).toBe('acknowledged');

    // The workflow: acknowledged before the rung was due again, so no rung.
    const truth = await handle.query(getTaskQuery);
    expect(truth).toMatchObject({ status: 'acknowledged', ackEscalationLevel: 0 });
    // The read model says the same, row and timeline.
    await until('the read model shows the acknowledgement', async () => {
      const row = await db.selectFrom('tasks').select('status').where('id', '=', taskId).executeTakeFirst();
      return row?.status === 'acknowledged';
    });
    expect(await db.selectFrom('tasks').select(['status', 'ack_escalation_level']).where('id', '=', taskId).executeTakeFirstOrThrow()).toEqual({
      status: 'acknowledged',
      ack_escalation_level: 0,
    });
    const events = await db.selectFrom('events').select(['event_key', 'action']).where('case_id', '=', caseId).orderBy('position').execute();
    expect(events).toEqual([{ event_key: `${taskId}#1`, action: 'task.acknowledged' }]);
    expect(await db.selectFrom('escalations').select('escalation_key').where('case_id', '=', caseId).execute()).toEqual([]);
    // What the dead attempt wrote is on record as voided.
    const voided = await db.selectFrom('voided_events').select(['event_key', 'action']).where('case_id', '=', caseId).execute();
    expect(voided).toEqual([{ event_key: `${taskId}#1`, action: 'task.escalated' }]);
    // Nobody is told of a rung that never was: give B's dispatcher time to send anything it would.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(mailbox.received.map((m) => m.subject)).toEqual([]);
    expect(await db.selectFrom('notices').select('notice_key').where('case_id', '=', caseId).execute()).toEqual([]);
  }, 240_000);
});
