import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { newTask } from '../domain/task.machine';
import type { CaseService } from '../services/case.service';
import { createPeopleService, type PeopleService } from '../services/people.service';
import { assignResponsiblePersonUpdate, getTaskQuery, withdrawTaskSignal } from '../workflows/messages';
import { taskWorkflow } from '../workflows/task.workflow';
import { refusal } from './support/assertions';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

/**
 * The responsible person (责任人) of a task on the time-skipping server: named by the office or the
 * department with the task command, with the acknowledgement, or when the case opens; on the
 * timeline, in the read model and in the workflow's own state, across continue-as-new.
 */
describe('the responsible person of a task, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let people: PeopleService;
  let taskQueue: string;
  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack();
    ({ env, db, service, taskQueue } = stack);
    people = createPeopleService({ db });
  });
  afterAll(() => stack?.close());

  const person = async (department: string, name: string, post: string, extra: Record<string, unknown> = {}) =>
    people.addPerson({ department }, { name, post, ...extra });
  const taskRow = (taskId: string) => db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
  const query = (taskId: string) => env.client.workflow.getHandle(taskId).query(getTaskQuery);
  const timeline = async (caseId: string) => (await service.getCase(caseId)).events.map((e) => `${e.action}${e.taskId ? `:${e.taskId.split('-').pop()}` : ''}`);

  /** Polls `read` until `accept` holds (a task's first row is written a moment after it starts). */
  async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      const value = await read();
      if (accept(value) || i >= 100) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('is named by the office and then by the department with the task command, and refused from elsewhere', async () => {
    const zhang = await person('CG', '张三', '市容科科长', { phone: '13800000001', email: 'zhang@example.org' });
    const li = await person('CG', '李四', '市容科副科长', { email: 'li@example.org' });
    const ofJd = await person('JD', '王五', '城管科科长');
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    const t1 = `${caseId}-T1`;

    const named = await service.assignResponsiblePerson(caseId, office, { personId: zhang.id }, { department: 'CG' });
    expect(named.responsiblePerson).toEqual({
      id: zhang.id,
      name: '张三',
      post: '市容科科长',
      active: true,
      contact: { phone: '13800000001', email: 'zhang@example.org', language: 'zh-CN', channels: ['email'] },
    });
    expect((await query(t1)).responsiblePerson).toEqual({ id: zhang.id, name: '张三', post: '市容科科长' });
    expect(await taskRow(t1)).toMatchObject({ responsible_person_id: zhang.id, responsible_person_name: '张三', responsible_person_post: '市容科科长' });

    // The department names another of its own people: the task records them as they are then.
    await people.changePerson(li.id, { post: '市容科科长' });
    const renamed = await service.assignResponsiblePerson(caseId, dept('CG'), { personId: li.id });
    expect(renamed.responsiblePerson).toMatchObject({ id: li.id, post: '市容科科长' });

    // A person of another department is refused before anything is sent, naming the field; a
    // department acting on another's task is refused by the task's rules.
    const versionBefore = (await taskRow(t1)).version;
    const stranger = await refusal(service.assignResponsiblePerson(caseId, office, { personId: ofJd.id }, { department: 'CG' }));
    expect([stranger.code, stranger.details.map((d) => d.path)]).toEqual(['invalid_state', ['personId']]);
    const jdActs = await refusal(service.assignResponsiblePerson(caseId, dept('JD'), { personId: li.id }, { taskId: t1 }));
    expect(jdActs.code).toBe('forbidden');
    const unknown = await refusal(service.assignResponsiblePerson(caseId, office, { personId: 'p_000000000000' }, { department: 'CG' }));
    expect([unknown.code, unknown.details.map((d) => d.path)]).toEqual(['invalid_state', ['personId']]);
    expect((await taskRow(t1)).version).toBe(versionBefore);
    expect((await query(t1)).responsiblePerson?.id).toBe(li.id);

    const { events, tasks } = await service.getCase(caseId);
    const assignments = events.filter((e) => e.action === 'task.responsible_person_assigned');
    expect(assignments.map((e) => [e.taskId, e.actor.role, e.payload])).toEqual([
      [t1, 'office', { personId: zhang.id, name: '张三', post: '市容科科长' }],
      [t1, 'department', { personId: li.id, name: '李四', post: '市容科科长' }],
    ]);
    expect(tasks.map((t) => t.responsiblePerson?.name ?? null)).toEqual(['李四', null]);

    // What a notice for the task's responsible person resolves to, until they leave the directory.
    const resolve = () => people.recipientsFor([{ kind: 'responsible_person', taskId: t1 }]);
    expect((await resolve())[0]!.recipients).toEqual([
      { personId: li.id, name: '李四', post: '市容科科长', department: 'CG', language: 'zh-CN', channels: [{ channel: 'email', address: 'li@example.org' }] },
    ]);
    await people.deactivatePerson(li.id);
    expect((await resolve())[0]!.recipients).toEqual([]);
    expect((await service.getCase(caseId)).tasks[0]!.responsiblePerson).toMatchObject({ id: li.id, name: '李四', active: false });
    // A deactivated person can no longer be named.
    const gone = await refusal(service.assignResponsiblePerson(caseId, office, { personId: li.id }, { department: 'CG' }));
    expect([gone.code, gone.details.map((d) => d.path)]).toEqual(['invalid_state', ['personId']]);

    await service.acknowledgeTask(caseId, dept('CG'), {});
    await service.submitRectification(caseId, dept('CG'), { report: '已清理', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'CG' });
    // Not on a finished task.
    const finished = await refusal(service.assignResponsiblePerson(caseId, office, { personId: zhang.id }, { taskId: t1 }));
    expect(finished.code).toBe('invalid_state');
    expect(await env.client.workflow.getHandle(t1).result()).toEqual({ taskId: t1, status: 'accepted', evidence: [{ kind: 'url', url: photo.url, note: photo.note }] });
    await recordHistory(env.client, t1, 'task-responsible-person-assigned');
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
  });

  it('is named by the department with its acknowledgement, and only one of its own', async () => {
    const chen = await person('CG', '陈七', '执法中队长');
    const ofJd = await person('JD', '赵六', '副主任');
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const t1 = `${caseId}-T1`;

    const refused = await refusal(service.acknowledgeTask(caseId, dept('CG'), { responsiblePersonId: ofJd.id }));
    expect([refused.code, refused.details.map((d) => d.path)]).toEqual(['invalid_state', ['responsiblePersonId']]);
    expect((await query(t1)).status).toBe('assigned');

    const acknowledged = await service.acknowledgeTask(caseId, dept('CG'), { note: '已签收', responsiblePersonId: chen.id });
    expect(acknowledged).toMatchObject({ status: 'acknowledged', responsiblePerson: { id: chen.id, name: '陈七', post: '执法中队长' } });
    expect(await taskRow(t1)).toMatchObject({ status: 'acknowledged', responsible_person_id: chen.id, responsible_person_name: '陈七' });
    expect(await timeline(caseId)).toEqual(['case.opened', 'task.assigned:T1', 'task.acknowledged:T1', 'task.responsible_person_assigned:T1']);
    const { events } = await service.getCase(caseId);
    expect(events.at(-1)).toMatchObject({ actor: { role: 'department', department: 'CG' }, payload: { personId: chen.id, name: '陈七' } });

    await service.submitRectification(caseId, dept('CG'), { report: '已整改', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    await recordHistory(env.client, t1, 'task-acknowledged-with-responsible-person');
  });

  it('is named per department by the office when it opens the case, each checked like any other', async () => {
    const cgPerson = await person('CG', '孙八', '市容科科长');
    const jdPerson = await person('JD', '周九', '城管科科长');
    const count = async () => (await db.selectFrom('cases').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    const before = await count();
    const wrong = await refusal(
      service.openCase(caseRequest({ cooperatingDepartments: ['JD'], responsiblePersons: { CG: jdPerson.id, JD: cgPerson.id } }), office),
    );
    expect([wrong.code, wrong.details.map((d) => d.path)]).toEqual(['invalid_state', ['responsiblePersons.CG', 'responsiblePersons.JD']]);
    const outside = await refusal(service.openCase(caseRequest({ responsiblePersons: { JD: jdPerson.id } }), office));
    expect([outside.code, outside.details.map((d) => d.path)]).toEqual(['invalid_input', ['responsiblePersons.JD']]);
    expect(await count()).toBe(before);

    const { caseId, tasks } = await service.openCase(
      caseRequest({ cooperatingDepartments: ['JD', 'SJ'], responsiblePersons: { CG: cgPerson.id, JD: jdPerson.id } }),
      office,
    );
    expect(tasks.map((t) => t.departmentCode)).toEqual(['CG', 'JD', 'SJ']);
    expect(await timeline(caseId)).toEqual([
      'case.opened',
      'task.assigned:T1',
      'task.responsible_person_assigned:T1',
      'task.assigned:T2',
      'task.responsible_person_assigned:T2',
      'task.assigned:T3',
    ]);
    const shown = await service.getCase(caseId);
    expect(shown.tasks.map((t) => t.responsiblePerson?.name ?? null)).toEqual(['孙八', '周九', null]);
    expect((await query(`${caseId}-T2`)).responsiblePerson).toEqual({ id: jdPerson.id, name: '周九', post: '城管科科长' });
    // The workflow's own state matches the read model's first row of each task.
    const t1Row = await eventually(() => taskRow(`${caseId}-T1`), (r) => r.responsible_person_id !== null);
    expect(t1Row).toMatchObject({ version: 0, responsible_person_id: cgPerson.id });

    // The same request key with other persons is another request.
    const key = `open-with-persons-${caseId}`;
    const again = await service.openCase(caseRequest({ responsiblePersons: { CG: cgPerson.id } }), office, { requestKey: key });
    expect((await service.openCase(caseRequest({ responsiblePersons: { CG: cgPerson.id } }), office, { requestKey: key })).caseId).toBe(again.caseId);
    const other = await person('CG', '吴十', '科员');
    expect((await refusal(service.openCase(caseRequest({ responsiblePersons: { CG: other.id } }), office, { requestKey: key }))).code).toBe('conflict');

    await service.withdrawCase(caseId, office, { reason: '测试结束' });
    await service.withdrawCase(again.caseId, office, { reason: '测试结束' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'withdrawn' });
    await recordHistory(env.client, caseId, 'case-opened-with-responsible-persons');
    await recordHistory(env.client, `${caseId}-T2`, 'task-started-with-responsible-person');
  });

  /** Starts task T9 of a fresh case for CG, beside T1, continuing as new after 50 history events. */
  async function startLongTask(extra: Record<string, unknown> = {}) {
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const [open] = (await service.getCase(caseId)).tasks;
    const taskId = `${caseId}-T9`;
    const handle = await env.client.workflow.start(taskWorkflow, {
      workflowId: taskId,
      taskQueue,
      args: [
        {
          taskId,
          caseId,
          departmentCode: 'CG',
          role: 'cooperating',
          assignedAt: new Date(await env.currentTimeMs()).toISOString(),
          ackDueAt: new Date(Date.parse(open!.ackDueAt!)).toISOString(),
          rectificationDueAt: new Date(Date.parse(open!.rectificationDueAt!)).toISOString(),
          continueAsNewAfterEvents: 50,
          ...extra,
        },
      ],
    });
    return { caseId, taskId, firstRunId: handle.firstExecutionRunId };
  }

  /** Withdraws the case, and the extra task with it as the case would if the task were its own. */
  async function endTask(caseId: string, taskId: string): Promise<void> {
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
    await env.client.workflow.getHandle(taskId).signal(withdrawTaskSignal, { actor: office, reason: '测试结束' });
    expect(await env.client.workflow.getHandle(taskId).result()).toEqual({ taskId, status: 'withdrawn' });
  }

  it('is kept when the task continues as new, and can be changed in the new run', async () => {
    const ma = await person('CG', '马一', '市容科科长');
    const niu = await person('CG', '牛二', '市容科副科长');
    const { caseId, taskId, firstRunId } = await startLongTask();
    await eventually(() => service.getCase(caseId), (r) => r.tasks.some((t) => t.id === taskId));
    await service.acknowledgeTask(caseId, dept('CG'), { responsiblePersonId: ma.id }, { taskId });

    const first = env.client.workflow.getHandle(taskId, firstRunId);
    for (let i = 1; i <= 40 && (await first.describe()).status.name === 'RUNNING'; i++) {
      await service.reportProgress(caseId, dept('CG'), { note: `进展 ${i}` }, { taskId });
    }
    expect((await first.describe()).status.name).toBe('CONTINUED_AS_NEW');
    const { runId: secondRunId } = await env.client.workflow.getHandle(taskId).describe();
    expect(secondRunId).not.toBe(firstRunId);
    expect((await query(taskId)).responsiblePerson).toEqual({ id: ma.id, name: '马一', post: '市容科科长' });
    expect((await taskRow(taskId)).responsible_person_id).toBe(ma.id);

    const changed = await service.assignResponsiblePerson(caseId, office, { personId: niu.id }, { taskId });
    expect(changed.responsiblePerson).toMatchObject({ id: niu.id, name: '牛二' });
    expect((await taskRow(taskId)).responsible_person_id).toBe(niu.id);
    const named = (await service.getCase(caseId)).events.filter((e) => e.taskId === taskId && e.action === 'task.responsible_person_assigned');
    expect(named.map((e) => e.payload.personId)).toEqual([ma.id, niu.id]);

    await endTask(caseId, taskId);
    await recordHistory(env.client, taskId, 'task-responsible-person-continued-as-new', firstRunId);
    await recordHistory(env.client, taskId, 'task-responsible-person-after-continue-as-new', secondRunId);
  });

  it('is none in a task resumed from state recorded before the field existed', async () => {
    const he = await person('CG', '何三', '科员');
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const taskId = `${caseId}-T8`;
    const at = new Date(await env.currentTimeMs()).toISOString();
    const { responsiblePerson: _absent, ...recordedBefore } = newTask({ taskId, caseId, departmentCode: 'CG', role: 'cooperating', assignedAt: at });
    await env.client.workflow.start(taskWorkflow, {
      workflowId: taskId,
      taskQueue,
      args: [{ taskId, caseId, departmentCode: 'CG', role: 'cooperating', assignedAt: at, resume: { state: recordedBefore as never, journal: { sequence: 0, writes: 0 } } }],
    });
    const resumed = await query(taskId);
    expect(resumed).toHaveProperty('responsiblePerson', null);
    // A task started by hand has no row until its first change: the command goes to it directly.
    const snapshot = await people.responsiblePersonFor(he.id, 'CG', 'personId');
    const named = await env.client.workflow.getHandle(taskId).executeUpdate(assignResponsiblePersonUpdate, { args: [{ actor: dept('CG'), person: snapshot }] });
    expect(named.responsiblePerson).toEqual({ id: he.id, name: '何三', post: '科员' });
    expect((await taskRow(taskId)).responsible_person_id).toBe(he.id);
    await endTask(caseId, taskId);
  });
});
