import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import type { Actor } from '../domain/case.schema';
import { DomainError, type ErrorCode } from '../domain/errors';
import type { CaseService } from '../services/case.service';
import { getCaseQuery, getTaskQuery } from '../workflows/messages';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

/** A second office user, acting at the same moment as the first. */
const colleague: Actor = { role: 'office', name: '创建办 李四' };

/**
 * Two commands sent at once to one case or task, on the time-skipping server. Whatever order the
 * workflow sees them in, the race must end in one consistent state: in Temporal (queries) and in
 * the read model (task rows, events) alike, and a command that lost is refused with a code.
 */
describe('commands racing on one case or task', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;

  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack({ departments: ['CG', 'JD', 'SJ', 'ZJ'] });
    ({ env, db, service } = stack);
  });
  afterAll(() => stack?.close());

  /**
   * Sends two commands together (`b` first when `bFirst`) and waits until each has answered or
   * been refused; the outcomes come back as (a, b) either way.
   */
  async function race<A, B>(
    a: () => Promise<A>,
    b: () => Promise<B>,
    bFirst = false,
  ): Promise<[PromiseSettledResult<A>, PromiseSettledResult<B>]> {
    if (!bFirst) return Promise.allSettled([a(), b()]);
    const [second, first] = await Promise.allSettled([b(), a()]);
    return [first, second];
  }

  /** The error code a settled command was refused with; undefined if it succeeded. */
  function refusedWith(settled: PromiseSettledResult<unknown>): ErrorCode | undefined {
    if (settled.status === 'fulfilled') return undefined;
    const reason = settled.reason as Error & { cause?: Error & { type?: string } };
    expect(reason, `refused with a domain error, not ${reason.message}: ${reason.cause?.type} ${reason.cause?.message}`).toBeInstanceOf(
      DomainError,
    );
    return (settled.reason as DomainError).code;
  }

  const caseQuery = (caseId: string) => env.client.workflow.getHandle(caseId).query(getCaseQuery);
  const taskQuery = (taskId: string) => env.client.workflow.getHandle(taskId).query(getTaskQuery);
  /**
   * How a finished task ended, from its result rather than a query. A query of a finished task
   * replays its history, and when an update and a signal reach a task in one workflow task, the
   * time-skipping test server records the update as sequenced after the signal although it
   * delivered it first, so that replay fails there (not on the dev server, which records the
   * order it delivered).
   */
  const taskEnd = async (taskId: string) => (await env.client.workflow.getHandle(taskId).result()).status;

  /** The case's row, task rows and events as stored in the read model, in the order written. */
  async function stored(caseId: string) {
    const [row, tasks, events] = await Promise.all([
      db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirstOrThrow(),
      db.selectFrom('tasks').selectAll().where('case_id', '=', caseId).orderBy('id').execute(),
      db.selectFrom('events').selectAll().where('case_id', '=', caseId).orderBy('position').execute(),
    ]);
    return {
      row,
      tasks,
      events: events.map((e) => ({ ...e, payload: JSON.parse(e.payload) as Record<string, unknown> })),
      /** Events of `action` as `[task id, …payload fields named]`. */
      of(action: string, ...fields: string[]) {
        return this.events.filter((e) => e.action === action).map((e) => [e.task_id, ...fields.map((f) => e.payload[f] ?? null)]);
      },
    };
  }

  /** Position of an event in its own workflow's journal (`<workflow id>#<n>`). */
  const sequenceOf = (eventKey: string) => Number(eventKey.split('#')[1]);

  async function acceptWork(caseId: string, department: string): Promise<void> {
    await service.acknowledgeTask(caseId, dept(department), {});
    await service.submitRectification(caseId, dept(department), { report: `${department} 整改完成`, evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department });
  }

  it.each([
    { who: 'two office users, to different departments', second: { actor: colleague, toDepartment: 'SJ' } },
    { who: 'a double click, with two idempotency keys', second: { actor: office, toDepartment: 'JD' } },
  ])('two reassigns of one task ($who) leave one replacement; the other is refused as invalid_state', async ({ second }) => {
    const { caseId } = await service.openCase(caseRequest(), office);
    const [t1, t2] = [`${caseId}-T1`, `${caseId}-T2`];
    const settled = await race(
      () => service.reassignTask(caseId, office, { taskId: t1, toDepartment: 'JD', reason: '属街道管辖' }, { requestKey: `${caseId}-a` }),
      () =>
        service.reassignTask(caseId, second.actor, { taskId: t1, toDepartment: second.toDepartment, reason: '改派' }, { requestKey: `${caseId}-b` }),
    );
    expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(settled.map(refusedWith).filter(Boolean)).toEqual(['invalid_state']);
    const winner = settled[0].status === 'fulfilled' ? 'JD' : second.toDepartment;

    // Temporal: the old task names the one replacement, which runs; no third task was started.
    expect((await caseQuery(caseId)).tasks).toEqual([
      { taskId: t1, departmentCode: 'CG', role: 'lead', outcome: 'transferred' },
      { taskId: t2, departmentCode: winner, role: 'lead', outcome: null },
    ]);
    expect(await taskQuery(t1)).toMatchObject({ status: 'transferred', transferredTo: { department: winner, taskId: t2 } });
    expect(await taskQuery(t2)).toMatchObject({ status: 'assigned', departmentCode: winner, role: 'lead' });
    await expect(env.client.workflow.getHandle(`${caseId}-T3`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);

    // The read model says the same: one transfer, one new assignment, one live lead task.
    const model = await stored(caseId);
    expect(model.tasks.map((t) => [t.id, t.department_code, t.role, t.status, t.transferred_to_task])).toEqual([
      [t1, 'CG', 'lead', 'transferred', t2],
      [t2, winner, 'lead', 'assigned', null],
    ]);
    expect(model.of('task.transferred', 'toTaskId', 'toDepartment')).toEqual([[t1, t2, winner]]);
    expect(model.of('task.assigned', 'department', 'transferredFrom')).toEqual([
      [t1, 'CG', null],
      [t2, winner, t1],
    ]);

    // The case runs on with its one lead task, and closes when that task is accepted.
    await acceptWork(caseId, winner);
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    expect((await stored(caseId)).tasks.map((t) => [t.id, t.status])).toEqual([
      [t1, 'transferred'],
      [t2, 'accepted'],
    ]);
    if (second.actor === colleague) await recordHistory(env.client, caseId, 'case-concurrent-reassigns');
  });

  it('two reassigns of different tasks tell each old task its own replacement', async () => {
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    const [t1, t2] = [`${caseId}-T1`, `${caseId}-T2`];
    const settled = await race(
      () => service.reassignTask(caseId, office, { taskId: t1, toDepartment: 'SJ', reason: '属市场监管' }),
      () => service.reassignTask(caseId, colleague, { taskId: t2, toDepartment: 'ZJ', reason: '属住建' }),
    );
    expect(settled.map(refusedWith)).toEqual([undefined, undefined]);

    const [one, two] = [await taskQuery(t1), await taskQuery(t2)];
    expect(one).toMatchObject({ status: 'transferred', transferredTo: { department: 'SJ' } });
    expect(two).toMatchObject({ status: 'transferred', transferredTo: { department: 'ZJ' } });
    const [x, y] = [one.transferredTo!.taskId, two.transferredTo!.taskId];
    expect([x, y].sort()).toEqual([`${caseId}-T3`, `${caseId}-T4`]);
    // Each named replacement is the task its old task was moved to, with the old task's role.
    expect(await taskQuery(x)).toMatchObject({ departmentCode: 'SJ', role: 'lead', status: 'assigned' });
    expect(await taskQuery(y)).toMatchObject({ departmentCode: 'ZJ', role: 'cooperating', status: 'assigned' });
    expect((await caseQuery(caseId)).tasks.filter((t) => t.outcome === null).map((t) => [t.taskId, t.departmentCode]).sort()).toEqual(
      [
        [x, 'SJ'],
        [y, 'ZJ'],
      ].sort(),
    );

    const model = await stored(caseId);
    const row = (id: string) => model.tasks.find((t) => t.id === id);
    expect([row(t1)?.transferred_to_task, row(t2)?.transferred_to_task]).toEqual([x, y]);
    expect([row(x)?.department_code, row(y)?.department_code]).toEqual(['SJ', 'ZJ']);
    expect(model.of('task.transferred', 'toTaskId', 'toDepartment').sort()).toEqual(
      [
        [t1, x, 'SJ'],
        [t2, y, 'ZJ'],
      ].sort(),
    );
    expect(model.of('task.assigned', 'transferredFrom').filter(([, from]) => from !== null).sort()).toEqual(
      [
        [x, t1],
        [y, t2],
      ].sort(),
    );

    await service.withdrawCase(caseId, office, { reason: '测试结束' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'withdrawn' });
    expect((await stored(caseId)).tasks.map((t) => t.status)).toEqual(['transferred', 'transferred', 'withdrawn', 'withdrawn']);
    await recordHistory(env.client, caseId, 'case-concurrent-reassigns-of-two-tasks');
  });

  /** Which command reaches the workflow first is up to the network: a few rounds of each. */
  const rounds = (...orders: string[]) => orders.flatMap((order) => [1, 2, 3].map((round) => ({ order, round })));

  it.each(rounds('verify first', 'withdraw first'))('verify and withdraw at once ($order, round $round) end as one consistent case', async ({ order }) => {
    const { caseId } = await service.openCase(caseRequest(), office);
    const t1 = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await service.submitRectification(caseId, dept('CG'), { report: '已整改', evidence: [photo] });
    const verify = () => service.verifyRectification(caseId, office, { decision: 'accept' });
    const withdraw = () => service.withdrawCase(caseId, colleague, { reason: '经核实不属实' });
    const [verified, withdrawn] = (await race(verify, withdraw, order === 'withdraw first')).map(refusedWith);

    const { status } = await env.client.workflow.getHandle(caseId).result();
    const taskStatus = await taskEnd(t1);
    expect((await caseQuery(caseId)).tasks).toEqual([{ taskId: t1, departmentCode: 'CG', role: 'lead', outcome: taskStatus }]);
    // At most one is refused, and only because the other had already ended the task or the case.
    expect([verified, withdrawn].filter(Boolean).length).toBeLessThan(2);
    if (status === 'closed') {
      expect([verified, withdrawn, taskStatus]).toEqual([undefined, 'invalid_state', 'accepted']);
    } else {
      // Withdrawn: the task either was withdrawn with it (verify refused), or had been accepted
      // just before the withdrawal reached it (both succeeded; a withdrawn case closes nothing).
      expect(status).toBe('withdrawn');
      expect(withdrawn).toBeUndefined();
      expect([verified, taskStatus]).toEqual(verified ? ['invalid_state', 'withdrawn'] : [undefined, 'accepted']);
    }

    const model = await stored(caseId);
    expect(model.row.status).toBe(status);
    expect(model.events.filter((e) => e.action === 'case.closed' || e.action === 'case.withdrawn').map((e) => e.action)).toEqual([
      status === 'closed' ? 'case.closed' : 'case.withdrawn',
    ]);
    expect(model.tasks.map((t) => [t.id, t.status])).toEqual([[t1, taskStatus]]);
    expect([...model.of('task.accepted'), ...model.of('task.withdrawn')]).toEqual([[t1]]);
  });

  it.each(rounds('reassign first', 'acknowledge first'))(
    'a reassign and an acknowledgement at once ($order, round $round) end as one consistent task',
    async ({ order }) => {
      const { caseId } = await service.openCase(caseRequest(), office);
      const [t1, t2] = [`${caseId}-T1`, `${caseId}-T2`];
      const reassign = () => service.reassignTask(caseId, office, { taskId: t1, toDepartment: 'JD', reason: '属街道管辖' });
      const acknowledge = () => service.acknowledgeTask(caseId, dept('CG'), { note: '已签收' }, { taskId: t1 });
      const [reassigned, acknowledged] = await race(reassign, acknowledge, order === 'acknowledge first');
      // A transfer is allowed whether or not the task was acknowledged; an acknowledgement after it is not.
      expect(refusedWith(reassigned)).toBeUndefined();
      const ackRefusal = refusedWith(acknowledged);
      expect([undefined, 'invalid_state']).toContain(ackRefusal);

      expect((await caseQuery(caseId)).tasks.map((t) => [t.taskId, t.departmentCode, t.outcome])).toEqual([
        [t1, 'CG', 'transferred'],
        [t2, 'JD', null],
      ]);
      expect(await taskEnd(t1)).toBe('transferred');
      expect(await taskQuery(t2)).toMatchObject({ status: 'assigned', departmentCode: 'JD', role: 'lead' });

      const model = await stored(caseId);
      expect(model.tasks.map((t) => [t.id, t.status, t.acknowledged_at !== null, t.transferred_to_task])).toEqual([
        [t1, 'transferred', ackRefusal === undefined, t2],
        [t2, 'assigned', false, null],
      ]);
      const t1Events = model.events.filter((e) => e.task_id === t1).map((e) => [e.action, sequenceOf(e.event_key)] as const);
      // The acknowledgement, if it happened, came before the transfer in the task's own journal.
      expect(t1Events.map(([action]) => action)).toEqual(
        ackRefusal === undefined ? ['task.assigned', 'task.acknowledged', 'task.transferred'] : ['task.assigned', 'task.transferred'],
      );
      const journal = t1Events.filter(([action]) => action !== 'task.assigned').map(([, n]) => n);
      expect(journal).toEqual([...journal].sort((a, b) => a - b));
      expect(model.of('task.transferred', 'toTaskId')).toEqual([[t1, t2]]);

      await service.withdrawCase(caseId, office, { reason: '测试结束' });
      expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'withdrawn' });
    },
  );

  it.each(['approve first', 'deny first'])('two extension decisions at once (%s): exactly one applies', async (order) => {
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const t1 = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    const before = await service.requestExtension(caseId, dept('CG'), { workingDays: 5, reason: '需协调产权单位' });
    expect(before.pendingExtension).not.toBeNull();
    const approve = () => service.decideExtension(caseId, office, { decision: 'approve', workingDays: 3, comment: '同意' });
    const deny = () => service.decideExtension(caseId, colleague, { decision: 'deny', comment: '不予延期' });
    const [approved, denied] = await race(approve, deny, order === 'deny first');
    const refusals = [refusedWith(approved), refusedWith(denied)];
    expect(refusals.filter(Boolean)).toEqual(['invalid_state']);
    const granted = refusals[0] === undefined;

    const task = await taskQuery(t1);
    expect(task.pendingExtension).toBeNull();
    expect(task.extensionsGranted).toBe(granted ? 1 : 0);
    if (granted) expect(Date.parse(task.rectificationDueAt!)).toBeGreaterThan(Date.parse(before.rectificationDueAt!));
    else expect(Date.parse(task.rectificationDueAt!)).toBe(Date.parse(before.rectificationDueAt!));

    const model = await stored(caseId);
    const [row] = model.tasks;
    expect(row).toMatchObject({ id: t1, pending_extension: null, extensions_granted: granted ? 1 : 0 });
    expect(Date.parse(row!.rectification_due_at!)).toBe(Date.parse(task.rectificationDueAt!));
    expect(model.events.filter((e) => e.action.startsWith('task.extension_')).map((e) => e.action)).toEqual([
      'task.extension_requested',
      granted ? 'task.extension_granted' : 'task.extension_denied',
    ]);

    await service.submitRectification(caseId, dept('CG'), { report: '完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    if (order === 'approve first') await recordHistory(env.client, t1, 'task-concurrent-extension-decisions');
  });

  it('a resume and an extension approval at once both move the deadline, neither undoing the other', async () => {
    // Two tasks in the same days: one is resumed and then extended in turn, the other both at once.
    const { caseId: inTurn } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const { caseId: atOnce } = await service.openCase(caseRequest({ severity: 'general' }), office);
    for (const caseId of [inTurn, atOnce]) {
      await service.acknowledgeTask(caseId, dept('CG'), {});
      await service.requestExtension(caseId, dept('CG'), { workingDays: 4, reason: '需协调产权单位' });
      await service.suspendTask(caseId, office, { reason: '等待规划审批' });
    }
    await env.sleep('8 days');
    await service.resumeTask(inTurn, office, {});
    const expected = await service.decideExtension(inTurn, office, { decision: 'approve' });

    const settled = await race(
      () => service.resumeTask(atOnce, office, {}),
      () => service.decideExtension(atOnce, colleague, { decision: 'approve' }),
    );
    expect(settled.map(refusedWith)).toEqual([undefined, undefined]);
    const t1 = `${atOnce}-T1`;
    const task = await taskQuery(t1);
    expect(task).toMatchObject({ suspension: null, pendingExtension: null, extensionsGranted: 1 });
    expect(task.rectificationDueAt).toBe(new Date(Date.parse(expected.rectificationDueAt!)).toISOString());

    const model = await stored(atOnce);
    expect(model.tasks[0]?.rectification_due_at).toBe(task.rectificationDueAt);
    const moves = model.events.filter((e) => e.action === 'task.resumed' || e.action === 'task.extension_granted');
    expect(moves.map((e) => e.action).sort()).toEqual(['task.extension_granted', 'task.resumed']);
    // The later of the two started from where the earlier left the deadline.
    const [first, last] = moves;
    if (last!.action === 'task.extension_granted') expect(last!.payload.from).toBe(first!.payload.rectificationDueAt);
    expect(last!.payload.rectificationDueAt).toBe(task.rectificationDueAt);

    for (const caseId of [inTurn, atOnce]) await service.withdrawCase(caseId, office, { reason: '测试结束' });
    expect(await env.client.workflow.getHandle(t1).result()).toEqual({ taskId: t1, status: 'withdrawn' });
    await recordHistory(env.client, t1, 'task-concurrent-resume-and-extension');
  });
});
