import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../worker/dev-server';
import { processDatabase } from './support/database';
import { cli, freePort, kill, runCli, startTestDevServer, startWorkerProcess } from './support/processes';

interface Shown {
  case: { id: string; status: string };
  tasks: { id: string; department: string; status: string }[];
  events: { action: string; taskId: string | null }[];
}

/**
 * End to end on the Temporal dev server (the same server `npm start` runs), driving the built
 * CLI and the built worker as separate processes, and killing the worker with SIGKILL while a
 * command is in flight.
 */
describe('the CLI on the dev server, with a worker that gets killed', () => {
  let dir: string;
  let server: DevServer;
  let worker: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-e2e-'));
    const port = await freePort();
    server = await startTestDevServer(dir, port);
    env = {
      ...(await processDatabase(path.join(dir, 'data'))).env,
      TEMPORAL_ADDRESS: server.address,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      DUBAN_TASK_QUEUE: `e2e-${port}`,
      DUBAN_API_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    };
    worker = await startWorkerProcess(env);
  });

  afterAll(async () => {
    if (worker) await kill(worker, 'SIGTERM');
    await server?.stop();
  });

  const show = async (caseId: string): Promise<Shown> => JSON.parse(await cli(['case', 'show', caseId], env)) as Shown;

  it('opens, acknowledges, submits, reworks and closes with every event once', async () => {
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], env);
    await cli(['department', 'add', '--code', 'JD', '--name', '人民路街道'], env);
    const request = {
      title: '人民路占道经营',
      category: '市容秩序',
      severity: 'serious',
      source: 'inspection',
      leadDepartment: 'CG',
      cooperatingDepartments: ['JD'],
      location: { address: '人民路 88 号' },
    };
    // A department that does not exist (yet) is a matter of state: exit 5, naming the field.
    const bad = await runCli(['case', 'open'], env, JSON.stringify({ ...request, leadDepartment: 'NOPE' }));
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain('leadDepartment');

    const caseId = (await cli(['case', 'open', '--idempotency-key', 'e2e-open'], env, JSON.stringify(request))).trim();
    expect(caseId).toMatch(/^DB-\d{4}-000001$/);
    await cli(['case', 'ack', caseId, '--dept', 'CG', '--note', '收到'], env);
    const photo = path.join(dir, 'after.png');
    fs.writeFileSync(photo, Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4720000000049454e44ae426082', 'hex'));

    // The worker dies while the submit is in flight; a new worker finishes the work.
    const submitting = runCli(['case', 'submit', caseId, '--dept', 'CG', '--report', '已清理', '--evidence', photo], env);
    await new Promise((r) => setTimeout(r, 700));
    await kill(worker!, 'SIGKILL');
    // And a command sent while no worker runs waits for one.
    const acknowledging = runCli(['case', 'ack', caseId, '--dept', 'JD'], env);
    await new Promise((r) => setTimeout(r, 1500));
    worker = await startWorkerProcess(env);
    const submitted = await submitting;
    expect(submitted.stderr).toBe('');
    expect(JSON.parse(submitted.stdout)).toMatchObject({ status: 'submitted', lastSubmission: { evidence: [{ kind: 'file', mediaType: 'image/png' }] } });
    expect((await acknowledging).code).toBe(0);

    // A retried open with the same key is the same case.
    expect((await cli(['case', 'open', '--idempotency-key', 'e2e-open'], env, JSON.stringify(request))).trim()).toBe(caseId);

    await cli(['case', 'verify', caseId, '--dept', 'CG', '--reject', '--comment', '仍有摊点'], env);
    await cli(['case', 'submit', caseId, '--dept', 'CG', '--report', '再次清理', '--evidence', 'https://example.org/2.jpg'], env);
    await cli(['case', 'submit', caseId, '--dept', 'JD', '--report', '配合劝导', '--evidence', 'https://example.org/3.jpg'], env);
    await cli(['case', 'verify', caseId, '--dept', 'JD', '--accept'], env);

    // Killed again between commands, just before the last one.
    await kill(worker, 'SIGKILL');
    worker = await startWorkerProcess(env);
    await cli(['case', 'verify', caseId, '--accept'], env);

    let shown = await show(caseId);
    for (let i = 0; shown.case.status !== 'closed' && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      shown = await show(caseId);
    }
    expect(shown.case.status).toBe('closed');
    expect(shown.tasks.map((t) => [t.department, t.status])).toEqual([
      ['CG', 'accepted'],
      ['JD', 'accepted'],
    ]);
    const timeline = shown.events.map((e) => `${e.action}${e.taskId ? `@${e.taskId.slice(-2)}` : ''}`);
    expect([...timeline].sort()).toEqual(
      [
        'case.opened',
        'task.assigned@T1',
        'task.assigned@T2',
        'task.acknowledged@T1',
        'task.submitted@T1',
        'task.acknowledged@T2',
        'task.rejected@T1',
        'task.submitted@T1',
        'task.submitted@T2',
        'task.accepted@T2',
        'task.accepted@T1',
        'case.closed',
      ].sort(),
    );
    expect(timeline[0]).toBe('case.opened');
    expect(timeline.at(-1)).toBe('case.closed');

    const listed = JSON.parse(await cli(['case', 'list', '--status', 'closed', '--dept', 'JD'], env)) as { id: string }[];
    expect(listed.map((c) => c.id)).toEqual([caseId]);
  });

  it('works deadlines through the CLI: calendar, extension, transfer, reassignment, suspension', async () => {
    const localDay = JSON.parse(await cli(['calendar', 'set', '2031-01-06', '--holiday', '--note', '区机关闭馆'], env)) as { kind: string };
    expect(localDay.kind).toBe('holiday');
    // Friday 3 Jan 2031 + 1 working day skips the weekend and the closure on Monday the 6th.
    const check = JSON.parse(await cli(['calendar', 'check', '2031-01-03', '--days', '1'], env)) as { workingDay: boolean; dueAfter: string };
    expect(check).toMatchObject({ workingDay: true, dueAfter: '2031-01-07T23:59:59.999+08:00' });
    expect((await runCli(['calendar', 'set', '2031-13-01', '--holiday'], env)).code).toBe(2);
    expect(JSON.parse(await cli(['policy'], env))).toMatchObject({ policy: { rectificationWorkingDays: { general: 15, serious: 7, major: 3 } } });

    await cli(['department', 'add', '--code', 'SJ', '--name', '区市场监管局'], env);
    const request = { title: '无证经营', category: '市场秩序', severity: 'general', source: 'complaint', leadDepartment: 'JD' };
    const caseId = (await cli(['case', 'open'], env, JSON.stringify(request))).trim();
    type Task = { id: string; status: string; rectificationDueAt: string; extensionsGranted: number; suspension: unknown; next: unknown };
    const task = (): Promise<Task[]> => show(caseId).then((r) => (r as unknown as { tasks: Task[] }).tasks);
    const dueBefore = (await task())[0]!.rectificationDueAt;

    await cli(['case', 'extend', caseId, '--dept', 'JD', '--days', '3', '--reason', '需联合执法'], env);
    // More days than the pending request asked for: refused by the task's state, exit 5.
    const refused = await runCli(['case', 'extension', caseId, '--approve', '--days', '4'], env);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('workingDays');
    const granted = JSON.parse(await cli(['case', 'extension', caseId, '--approve', '--days', '2'], env)) as Task;
    expect(granted.extensionsGranted).toBe(1);
    expect(granted.rectificationDueAt > dueBefore).toBe(true);
    expect(granted.rectificationDueAt).toMatch(/\+08:00$/);

    const suspended = JSON.parse(await cli(['case', 'suspend', caseId, '--reason', '等待工商登记信息'], env)) as Task;
    expect(suspended).toMatchObject({ suspension: { reason: '等待工商登记信息' }, next: null });
    const resumed = JSON.parse(await cli(['case', 'resume', caseId, '--comment', '信息已到'], env)) as Task;
    expect(resumed.suspension).toBeNull();

    await cli(['case', 'transfer', caseId, '--dept', 'JD', '--reason', '属市场监管职责', '--suggest', 'SJ'], env);
    const reassigned = JSON.parse(await cli(['case', 'reassign', caseId, '--from', 'JD', '--to', 'SJ', '--reason', '同意转办'], env)) as {
      tasks: { taskId: string; departmentCode: string; outcome: string | null }[];
    };
    expect(reassigned.tasks.map((t) => [t.departmentCode, t.outcome])).toEqual([
      ['JD', 'transferred'],
      ['SJ', null],
    ]);
    const tasks = await task();
    expect(tasks.map((t) => t.status)).toEqual(['transferred', 'assigned']);
    expect(tasks[1]!.next).not.toBeNull();
    const actions = (await show(caseId)).events.map((e) => e.action);
    expect(actions).toEqual([
      'case.opened',
      'task.assigned',
      'task.extension_requested',
      'task.extension_granted',
      'task.suspended',
      'task.resumed',
      'task.transfer_requested',
      'task.transferred',
      'task.assigned',
    ]);
    await cli(['case', 'withdraw', caseId, '--reason', '测试结束'], env);
  });

  it('flags deadlines counted across a year without official holiday data in case show, until the year is imported', async () => {
    const nextYear = new Date().getUTCFullYear() + 1;
    const request = { title: '跨年整改', category: '违法建设', severity: 'general', source: 'inspection', leadDepartment: 'CG', dueDate: `${nextYear}-01-15` };
    const caseId = (await cli(['case', 'open'], env, JSON.stringify(request))).trim();
    const warnings = async () =>
      (JSON.parse(await cli(['case', 'show', caseId], env)) as { warnings: { code: string; taskId: string; deadline: string; years: number[] }[] }).warnings;
    expect(await warnings()).toEqual([
      expect.objectContaining({ code: 'calendar_not_covered', taskId: `${caseId}-T1`, deadline: 'rectificationDueAt', years: [nextYear] }),
    ]);
    const arrangement = { year: nextYear, holidays: [{ name: '元旦', dates: [`${nextYear}-01-01`] }] };
    await cli(['calendar', 'import', '-'], env, JSON.stringify(arrangement));
    expect(await warnings()).toEqual([]);
    await cli(['case', 'withdraw', caseId, '--reason', '测试结束'], env);
  });

  it('keeps the directory of people and posts, and names responsible persons, through the CLI', async () => {
    await cli(['department', 'add', '--code', 'WS', '--name', '区卫健局'], env);
    type Person = { id: string; department: string | null; name: string; roles: string[]; active: boolean; contact: Record<string, unknown> | null };
    const add = async (args: string[]) => JSON.parse(await cli(['person', 'add', ...args], env)) as Person;
    const head = await add(['--dept', 'WS', '--name', '钱局长', '--post', '局长', '--email', 'qian@example.org', '--role', 'head', '--role', 'deputy']);
    expect(head).toMatchObject({ department: 'WS', roles: ['head', 'deputy'], active: true, contact: { email: 'qian@example.org', channels: ['email'] } });
    const liaison = await add(['--dept', 'WS', '--name', '孙联络', '--post', '联络员', '--phone', '0571-88000003', '--lang', 'en', '--role', 'liaison']);
    expect(liaison.contact).toMatchObject({ phone: '0571-88000003', language: 'en', channels: [] });
    const lead = await add(['--office', '--name', '督查办 周主任', '--post', '督查办负责人', '--role', 'lead']);
    expect(lead).toMatchObject({ department: null, roles: ['lead'] });

    // The office's role for a department's person, no unit, or a department that is not there.
    const misfit = await runCli(['person', 'add', '--dept', 'WS', '--name', '甲', '--post', '科员', '--role', 'lead'], env);
    expect([misfit.code, misfit.stderr.includes('roles[0]')]).toEqual([2, true]);
    expect((await runCli(['person', 'add', '--name', '乙', '--post', '科员'], env)).code).toBe(2);
    expect((await runCli(['person', 'add', '--dept', 'NOPE', '--name', '丙', '--post', '科员'], env)).code).toBe(3);
    expect((JSON.parse(await cli(['person', 'role', head.id, '--remove', 'deputy'], env)) as Person).roles).toEqual(['head']);
    const stateRole = await runCli(['person', 'role', head.id, '--add', 'clerk'], env);
    expect([stateRole.code, stateRole.stderr.includes('roles[1]')]).toEqual([5, true]);
    const edited = JSON.parse(await cli(['person', 'edit', liaison.id, '--post', '办公室联络员', '--no-phone'], env)) as Person & { post: string };
    expect(edited).toMatchObject({ post: '办公室联络员', contact: { phone: null } });

    const request = { title: '医疗废物暂存不规范', category: '卫生监督', severity: 'general', source: 'inspection', leadDepartment: 'WS', responsiblePersons: { WS: head.id } };
    const misnamed = await runCli(['case', 'open'], env, JSON.stringify({ ...request, responsiblePersons: { WS: lead.id } }));
    expect([misnamed.code, misnamed.stderr.includes('responsiblePersons.WS')]).toEqual([5, true]);
    const caseId = (await cli(['case', 'open'], env, JSON.stringify(request))).trim();
    type Task = { status: string; responsiblePerson: { id: string; name: string; contact: unknown } | null };
    const acknowledged = JSON.parse(await cli(['case', 'ack', caseId, '--dept', 'WS', '--person', liaison.id], env)) as Task;
    expect(acknowledged).toMatchObject({ status: 'acknowledged', responsiblePerson: { id: liaison.id, name: '孙联络' } });
    const stranger = await runCli(['case', 'assign-person', caseId, '--dept', 'WS', '--person', lead.id], env);
    expect([stranger.code, stranger.stderr.includes('personId')]).toEqual([5, true]);
    const assigned = JSON.parse(await cli(['case', 'assign-person', caseId, '--dept', 'WS', '--person', head.id], env)) as Task;
    expect(assigned.responsiblePerson).toMatchObject({ id: head.id, name: '钱局长', contact: { email: 'qian@example.org' } });

    // Removed, a person leaves the lists and their roles, and the records keep their name.
    expect((JSON.parse(await cli(['person', 'remove', liaison.id], env)) as Person)).toMatchObject({ active: false, roles: [] });
    const listed = async (args: string[]) => (JSON.parse(await cli(['person', 'list', ...args], env)) as Person[]).map((p) => [p.name, p.active]);
    expect(await listed(['--dept', 'WS'])).toEqual([['钱局长', true]]);
    expect(await listed(['--dept', 'WS', '--all'])).toEqual([['钱局长', true], ['孙联络', false]]);
    expect(await listed(['--office'])).toEqual([['督查办 周主任', true]]);
    const shown = JSON.parse(await cli(['case', 'show', caseId], env)) as { tasks: Task[]; events: { action: string; payload: Record<string, unknown> }[] };
    expect(shown.tasks[0]!.responsiblePerson).toMatchObject({ id: head.id, name: '钱局长' });
    expect(shown.events.filter((e) => e.action === 'task.responsible_person_assigned').map((e) => e.payload.name)).toEqual(['钱局长', '孙联络', '钱局长']);
    await cli(['case', 'withdraw', caseId, '--reason', '测试结束'], env);
  });
});
