import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../services/case.service';
import { acknowledgeTaskUpdate, getTaskQuery, verifyRectificationUpdate } from '../workflows/messages';
import { refusal } from './support/assertions';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

describe('case workflow on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let service: CaseService;

  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack();
    ({ env, service } = stack);
  });
  afterAll(() => stack?.close());


  async function eventActions(caseId: string): Promise<string[]> {
    return (await service.getCase(caseId)).events.map((e) => `${e.action}${e.taskId ? `:${e.taskId.split('-').pop()}` : ''}`);
  }

  it('runs a case from open to closed and records every step once', async () => {
    const opened = await service.openCase(caseRequest(), office);
    expect(opened.caseId).toMatch(/^DB-\d{4}-\d{6}$/);
    expect(opened.status).toBe('open');

    await service.acknowledgeTask(opened.caseId, dept('CG'), { note: '已签收' });
    await service.submitRectification(opened.caseId, dept('CG'), { report: '已清理占道摊点', evidence: [photo] });
    const accepted = await service.verifyRectification(opened.caseId, office, { decision: 'accept' }, { department: 'CG' });
    expect(accepted.status).toBe('accepted');

    const handle = env.client.workflow.getHandle(opened.caseId);
    expect(await handle.result()).toEqual({ caseId: opened.caseId, status: 'closed' });

    const record = await service.getCase(opened.caseId);
    expect(record.case.status).toBe('closed');
    expect(record.case.closedAt).not.toBeNull();
    expect(record.tasks.map((t) => [t.status, t.submissionCount, t.reworkCount])).toEqual([['accepted', 1, 0]]);
    expect(record.tasks[0]?.lastSubmission?.report).toBe('已清理占道摊点');
    expect(await eventActions(opened.caseId)).toEqual([
      'case.opened',
      'task.assigned:T1',
      'task.acknowledged:T1',
      'task.submitted:T1',
      'task.accepted:T1',
      'case.closed',
    ]);
    expect(record.events[2]?.actor).toEqual({ role: 'department', department: 'CG', name: 'CG 经办人' });
    await recordHistory(env.client, opened.caseId, 'case-closed');
    await recordHistory(env.client, `${opened.caseId}-T1`, 'task-accepted');
    await recordHistory(env.client, opened.caseId, 'case-closed-serialised');
    await recordHistory(env.client, `${opened.caseId}-T1`, 'task-accepted-serialised');
  });

  it('sends a rejected rectification back for rework and counts it', async () => {
    const { caseId } = await service.openCase(caseRequest({ severity: 'major' }), office);
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await service.submitRectification(caseId, dept('CG'), { report: '第一次整改', evidence: [photo] });
    const rejected = await service.verifyRectification(caseId, office, { decision: 'reject', comment: '仍有摊点' });
    expect(rejected).toMatchObject({ status: 'rework', reworkCount: 1 });

    // The office cannot verify again until the department resubmits.
    const early = await refusal(service.verifyRectification(caseId, office, { decision: 'accept' }));
    expect(early.code).toBe('invalid_state');

    await service.submitRectification(caseId, dept('CG'), { report: '第二次整改', evidence: [photo] });
    const accepted = await service.verifyRectification(caseId, office, { decision: 'accept', comment: '复查合格' });
    expect(accepted).toMatchObject({ status: 'accepted', reworkCount: 1, submissionCount: 2 });
    expect(await env.client.workflow.getHandle(caseId).result()).toMatchObject({ status: 'closed' });

    const record = await service.getCase(caseId);
    expect(record.tasks[0]).toMatchObject({ reworkCount: 1, submissionCount: 2, status: 'accepted' });
    expect(await eventActions(caseId)).toEqual([
      'case.opened',
      'task.assigned:T1',
      'task.acknowledged:T1',
      'task.submitted:T1',
      'task.rejected:T1',
      'task.submitted:T1',
      'task.accepted:T1',
      'case.closed',
    ]);
    expect(record.events.find((e) => e.action === 'task.rejected')?.payload).toEqual({ comment: '仍有摊点', reworkCount: 1 });
    await recordHistory(env.client, `${caseId}-T1`, 'task-rework');
  });

  it('closes a two-department case only after both tasks are accepted', async () => {
    const { caseId, tasks } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    expect(tasks.map((t) => [t.departmentCode, t.role])).toEqual([
      ['CG', 'lead'],
      ['JD', 'cooperating'],
    ]);
    for (const code of ['CG', 'JD']) {
      await service.acknowledgeTask(caseId, dept(code), {});
      await service.submitRectification(caseId, dept(code), { report: `${code} 整改完成`, evidence: [photo] });
    }
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'CG' });
    // One task accepted, the other still awaiting verification: the case stays open.
    const caseHandle = env.client.workflow.getHandle(caseId);
    expect((await caseHandle.describe()).status.name).toBe('RUNNING');
    expect((await service.getCase(caseId)).case.status).toBe('open');

    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'JD' });
    expect(await caseHandle.result()).toEqual({ caseId, status: 'closed' });
    const record = await service.getCase(caseId);
    expect(record.tasks.map((t) => t.status)).toEqual(['accepted', 'accepted']);
    expect(record.events.filter((e) => e.action === 'case.closed')).toHaveLength(1);
    expect(record.events.at(-1)?.action).toBe('case.closed');
    await recordHistory(env.client, caseId, 'case-two-departments');
  });

  it('refuses invalid commands with a clear error and changes nothing', async () => {
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    const before = await service.getCase(caseId);

    // Submitting before acknowledging.
    const early = await refusal(service.submitRectification(caseId, dept('CG'), { report: '整改', evidence: [photo] }));
    expect(early.code).toBe('invalid_state');
    expect(early.message).toContain('acknowledge');
    // Verifying before anything was submitted.
    const verify = await refusal(service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'CG' }));
    expect(verify.code).toBe('invalid_state');
    // A department acting on another department's task, straight at the workflow.
    const foreign = await refusal(
      service.acknowledgeTask(caseId, dept('JD'), {}, { taskId: `${caseId}-T1` }),
    );
    expect(foreign.code).toBe('forbidden');
    expect(foreign.message).toContain('JD');
    // A department verifying its own work.
    await service.acknowledgeTask(caseId, dept('CG'), {});
    const selfVerify = await refusal(service.verifyRectification(caseId, dept('CG'), { decision: 'accept' }));
    expect(selfVerify.code).toBe('forbidden');
    // Malformed input: which field, why.
    const noEvidence = await refusal(service.submitRectification(caseId, dept('CG'), { report: '', evidence: [] }));
    expect(noEvidence.code).toBe('invalid_input');
    expect(noEvidence.details.map((d) => d.path).sort()).toEqual(['evidence', 'report']);
    const noComment = await refusal(service.verifyRectification(caseId, office, { decision: 'reject' }, { department: 'CG' }));
    expect(noComment.details[0]?.path).toBe('comment');
    // A raw Temporal client bypassing the service meets the same validator.
    const raw = await env.client.workflow
      .getHandle(`${caseId}-T2`)
      .executeUpdate(verifyRectificationUpdate, { args: [{ actor: office, decision: 'accept' }] })
      .catch((e: unknown) => e as Error);
    expect(raw).toBeInstanceOf(Error);
    expect(String((raw as Error & { cause?: Error }).cause?.message)).toContain('assigned');
    const rawBad = await env.client.workflow
      .getHandle(`${caseId}-T2`)
      .executeUpdate(acknowledgeTaskUpdate, { args: [{ actor: { role: 'department', name: 'x' } as never }] })
      .catch((e: unknown) => e as Error & { cause?: { type?: string } });
    expect(rawBad).toMatchObject({ cause: { type: 'invalid_input' } });

    const after = await service.getCase(caseId);
    expect(after.events.map((e) => e.action)).toEqual([...before.events.map((e) => e.action), 'task.acknowledged']);
    expect(await env.client.workflow.getHandle(`${caseId}-T2`).query(getTaskQuery)).toMatchObject({ status: 'assigned' });
  });

  it('refuses to open a case for an unknown department, naming the field', async () => {
    const error = await refusal(service.openCase(caseRequest({ cooperatingDepartments: ['JD', 'NOPE'] }), office));
    expect(error.code).toBe('invalid_state');
    expect(error.details).toEqual([{ path: 'cooperatingDepartments[1]', message: 'unknown or inactive department NOPE' }]);
    const bad = await refusal(service.openCase({ ...caseRequest(), severity: 'urgent', title: '' }, office));
    expect(bad.details.map((d) => d.path).sort()).toEqual(['severity', 'title']);
    const byDept = await refusal(service.openCase(caseRequest(), dept('CG')));
    expect(byDept.code).toBe('forbidden');
  });

  it('opens a case once however often the same request is retried', async () => {
    const first = await service.openCase(caseRequest({ title: '重复提交' }), office, { requestKey: 'retry-1' });
    const again = await service.openCase(caseRequest({ title: '重复提交' }), office, { requestKey: 'retry-1' });
    expect(again.caseId).toBe(first.caseId);
    const conflict = await refusal(service.openCase(caseRequest({ title: '另一个' }), office, { requestKey: 'retry-1' }));
    expect(conflict.code).toBe('conflict');
    const record = await service.getCase(first.caseId);
    expect(record.events.filter((e) => e.action === 'case.opened')).toHaveLength(1);
  });

  it('reassigns a task after the other task was accepted: the case stays open for the replacement', async () => {
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    await service.acknowledgeTask(caseId, dept('JD'), {});
    await service.submitRectification(caseId, dept('JD'), { report: 'JD 完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'JD' });

    // The lead task ends as transferred while every other task is accepted; its replacement is live.
    const after = await service.reassignTask(caseId, office, { fromDepartment: 'CG', toDepartment: 'SJ', reason: '属市场监管' });
    expect(after.status).toBe('open');
    expect(after.tasks.map((t) => [t.taskId.split('-').pop(), t.departmentCode, t.outcome])).toEqual([
      ['T1', 'CG', 'transferred'],
      ['T2', 'JD', 'accepted'],
      ['T3', 'SJ', null],
    ]);
    expect((await env.client.workflow.getHandle(caseId).describe()).status.name).toBe('RUNNING');
    expect((await service.getCase(caseId)).case.status).toBe('open');

    await service.acknowledgeTask(caseId, dept('SJ'), {});
    await service.submitRectification(caseId, dept('SJ'), { report: 'SJ 完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'SJ' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    expect(await eventActions(caseId)).toEqual([
      'case.opened',
      'task.assigned:T1',
      'task.assigned:T2',
      'task.acknowledged:T2',
      'task.submitted:T2',
      'task.accepted:T2',
      'task.transferred:T1',
      'task.assigned:T3',
      'task.acknowledged:T3',
      'task.submitted:T3',
      'task.accepted:T3',
      'case.closed',
    ]);
    await recordHistory(env.client, caseId, 'case-reassigned-after-acceptance');
  });

  it('withdraws a case with a reason and ends every live task', async () => {
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD', 'SJ'] }), office);
    await service.acknowledgeTask(caseId, dept('JD'), {});
    await service.submitRectification(caseId, dept('JD'), { report: 'JD 完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'JD' });

    const byDept = await refusal(service.withdrawCase(caseId, dept('CG'), { reason: '不归我管' }));
    expect(byDept.code).toBe('forbidden');
    const noReason = await refusal(service.withdrawCase(caseId, office, { reason: ' ' }));
    expect(noReason.details[0]?.path).toBe('reason');

    const withdrawn = await service.withdrawCase(caseId, office, { reason: '经核实不属实' });
    expect(withdrawn.status).toBe('withdrawn');
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'withdrawn' });

    const record = await service.getCase(caseId);
    expect(record.case).toMatchObject({ status: 'withdrawn', withdrawnReason: '经核实不属实' });
    expect(record.tasks.map((t) => [t.department, t.status])).toEqual([
      ['CG', 'withdrawn'],
      ['JD', 'accepted'],
      ['SJ', 'withdrawn'],
    ]);
    expect(record.events.filter((e) => e.action === 'task.withdrawn').map((e) => e.taskId)).toEqual([
      `${caseId}-T1`,
      `${caseId}-T3`,
    ]);
    const late = await refusal(service.acknowledgeTask(caseId, dept('CG'), {}));
    expect(late.code).toBe('invalid_state');
    const again = await refusal(service.withdrawCase(caseId, office, { reason: '再次撤销' }));
    expect(again.code).toBe('invalid_state');
    await recordHistory(env.client, caseId, 'case-withdrawn');
    await recordHistory(env.client, `${caseId}-T1`, 'task-withdrawn');
    await recordHistory(env.client, caseId, 'case-withdrawn-serialised');
    await recordHistory(env.client, `${caseId}-T1`, 'task-withdrawn-serialised');
  });
});
