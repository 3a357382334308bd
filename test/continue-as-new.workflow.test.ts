import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import type { CaseService } from '../services/case.service';
import { getTaskQuery, withdrawTaskSignal } from '../workflows/messages';
import { taskWorkflow } from '../workflows/task.workflow';
import { refusal } from './support/assertions';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const zone = 'Asia/Shanghai';

/**
 * A task continues as new when its history grows long. Whatever is pending then (an extension
 * request, a transfer request, a suspension) is carried into the new run, which can still decide
 * it; both runs' histories are recorded for the replay test.
 */
describe('continue-as-new with something pending, on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let taskQueue: string;

  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack();
    ({ env, db, service } = stack);
    taskQueue = stack.taskQueue;
  });
  afterAll(() => stack?.close());

  /** Polls `read` until `accept` holds (a task's first row is written a moment after it starts). */
  async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      const value = await read();
      if (accept(value) || i >= 100) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sleeps until 10:00 of the next day in the office's zone, so that a test's days start there. */
  async function sleepToMorning(): Promise<void> {
    const now = DateTime.fromMillis(await env.currentTimeMs(), { zone });
    const morning = now.plus({ days: 1 }).set({ hour: 10, minute: 0, second: 0, millisecond: 0 });
    await env.sleep(morning.toMillis() - now.toMillis());
  }

  const taskRow = (taskId: string) => db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
  const query = (taskId: string) => env.client.workflow.getHandle(taskId).query(getTaskQuery);

  /**
   * Opens a case and starts, beside its task T1, a task T9 of department SJ with T1's deadlines
   * that continues as new after 50 history events; acknowledged.
   */
  async function openWithLongTask(): Promise<{ caseId: string; taskId: string; firstRunId: string }> {
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
          departmentCode: 'SJ',
          role: 'cooperating',
          assignedAt: new Date(await env.currentTimeMs()).toISOString(),
          ackDueAt: new Date(Date.parse(open!.ackDueAt!)).toISOString(),
          rectificationDueAt: new Date(Date.parse(open!.rectificationDueAt!)).toISOString(),
          continueAsNewAfterEvents: 50,
        },
      ],
    });
    await eventually(() => service.getCase(caseId), (r) => r.tasks.some((t) => t.id === taskId));
    await service.acknowledgeTask(caseId, dept('SJ'), {}, { taskId });
    return { caseId, taskId, firstRunId: handle.firstExecutionRunId };
  }

  /** Reports progress until the first run has continued as new; the new run's id. */
  async function fillHistory(caseId: string, taskId: string, firstRunId: string): Promise<string> {
    const first = env.client.workflow.getHandle(taskId, firstRunId);
    for (let i = 1; i <= 40 && (await first.describe()).status.name === 'RUNNING'; i++) {
      await service.reportProgress(caseId, dept('SJ'), { note: `进展 ${i}` }, { taskId });
    }
    expect((await first.describe()).status.name).toBe('CONTINUED_AS_NEW');
    const { runId } = await env.client.workflow.getHandle(taskId).describe();
    expect(runId).not.toBe(firstRunId);
    return runId;
  }

  /** Withdraws the case, and T9 with it as the case would if T9 were its own. */
  async function endWithCase(caseId: string, taskId: string): Promise<void> {
    const reason = '测试结束';
    await service.withdrawCase(caseId, office, { reason });
    await env.client.workflow.getHandle(taskId).signal(withdrawTaskSignal, { actor: office, reason });
    expect(await env.client.workflow.getHandle(taskId).result()).toEqual({ taskId, status: 'withdrawn' });
  }

  /** The task's own events in the read model, progress reports left out. */
  async function taskEvents(caseId: string, taskId: string): Promise<string[]> {
    const { events } = await service.getCase(caseId);
    return events.filter((e) => e.taskId === taskId && e.action !== 'task.progress_reported').map((e) => e.action);
  }

  it('an extension request pending at continue-as-new is approved in the new run', async () => {
    await sleepToMorning();
    const { caseId, taskId, firstRunId } = await openWithLongTask();
    const requested = await service.requestExtension(caseId, dept('SJ'), { workingDays: 5, reason: '需协调产权单位' }, { taskId });
    const pending = requested.pendingExtension;
    expect(pending).toMatchObject({ workingDays: 5, reason: '需协调产权单位' });

    const secondRunId = await fillHistory(caseId, taskId, firstRunId);
    const carried = await query(taskId);
    expect(carried.pendingExtension).toEqual({ ...pending, at: new Date(Date.parse(pending!.at)).toISOString() });
    expect(JSON.parse((await taskRow(taskId)).pending_extension!)).toMatchObject({ workingDays: 5 });

    const granted = await service.decideExtension(caseId, office, { decision: 'approve', workingDays: 3 }, { taskId });
    expect(granted).toMatchObject({ pendingExtension: null, extensionsGranted: 1 });
    expect(Date.parse(granted.rectificationDueAt!)).toBeGreaterThan(Date.parse(carried.rectificationDueAt!));
    const row = await taskRow(taskId);
    expect(row).toMatchObject({ pending_extension: null, extensions_granted: 1 });
    expect(Date.parse(row.rectification_due_at!)).toBe(Date.parse(granted.rectificationDueAt!));
    const { events } = await service.getCase(caseId);
    const grant = events.find((e) => e.taskId === taskId && e.action === 'task.extension_granted')?.payload;
    expect(grant).toMatchObject({ requestedWorkingDays: 5, workingDays: 3 });
    expect(Date.parse(grant?.from as string)).toBe(Date.parse(carried.rectificationDueAt!));

    await service.submitRectification(caseId, dept('SJ'), { report: '完成', evidence: [photo] }, { taskId });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { taskId });
    expect(await env.client.workflow.getHandle(taskId).result()).toEqual({ taskId, status: 'accepted', evidence: [{ kind: 'url', url: photo.url, note: photo.note }] });
    expect(await taskEvents(caseId, taskId)).toEqual([
      'task.acknowledged',
      'task.extension_requested',
      'task.extension_granted',
      'task.submitted',
      'task.accepted',
    ]);
    await recordHistory(env.client, taskId, 'task-extension-pending-continued-as-new', firstRunId);
    await recordHistory(env.client, taskId, 'task-extension-granted-after-continue-as-new', secondRunId);
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
  });

  it('a transfer request pending at continue-as-new is rejected in the new run', async () => {
    await sleepToMorning();
    const { caseId, taskId, firstRunId } = await openWithLongTask();
    await service.requestTransfer(caseId, dept('SJ'), { reason: '该路段属街道管辖', suggestedDepartment: 'JD' }, { taskId });

    const secondRunId = await fillHistory(caseId, taskId, firstRunId);
    expect((await query(taskId)).pendingTransfer).toMatchObject({ reason: '该路段属街道管辖', suggestedDepartment: 'JD' });
    expect(JSON.parse((await taskRow(taskId)).pending_transfer!)).toMatchObject({ suggestedDepartment: 'JD' });
    // Still pending, so a second request is refused in the new run as in the old.
    const again = await refusal(service.requestTransfer(caseId, dept('SJ'), { reason: '再次申请' }, { taskId }));
    expect(again.message).toBe('任务 ' + taskId + ' 已申请转办 / a transfer request is already pending');

    const rejected = await service.rejectTransfer(caseId, office, { comment: '先行处置' }, { taskId });
    expect(rejected.pendingTransfer).toBeNull();
    expect((await taskRow(taskId)).pending_transfer).toBeNull();
    // Rejected, the department may ask again.
    await service.requestTransfer(caseId, dept('SJ'), { reason: '经核实确属街道', suggestedDepartment: 'JD' }, { taskId });
    expect((await query(taskId)).pendingTransfer).toMatchObject({ reason: '经核实确属街道' });

    await endWithCase(caseId, taskId);
    expect(await taskEvents(caseId, taskId)).toEqual([
      'task.acknowledged',
      'task.transfer_requested',
      'task.transfer_rejected',
      'task.transfer_requested',
      'task.withdrawn',
    ]);
    await recordHistory(env.client, taskId, 'task-transfer-pending-continued-as-new', firstRunId);
    await recordHistory(env.client, taskId, 'task-transfer-rejected-after-continue-as-new', secondRunId);
  });

  it('a suspension in force at continue-as-new is resumed in the new run, moving the deadline as it would have', async () => {
    await sleepToMorning();
    const { caseId, taskId, firstRunId } = await openWithLongTask();
    // T1 of the same case has the same deadlines and stands still over the same days, in one run.
    const t1 = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {}, { taskId: t1 });
    for (const id of [taskId, t1]) await service.suspendTask(caseId, office, { reason: '等待规划审批' }, { taskId: id });
    await env.sleep('7 days');

    const secondRunId = await fillHistory(caseId, taskId, firstRunId);
    const carried = await query(taskId);
    expect(carried.suspension).toMatchObject({ reason: '等待规划审批' });
    expect((await taskRow(taskId)).suspension_reason).toBe('等待规划审批');

    const resumed = await service.resumeTask(caseId, office, { comment: '审批已通过' }, { taskId });
    const reference = await service.resumeTask(caseId, office, { comment: '审批已通过' }, { taskId: t1 });
    expect(resumed.suspension).toBeNull();
    expect(Date.parse(resumed.rectificationDueAt!)).toBe(Date.parse(reference.rectificationDueAt!));
    expect(Date.parse(resumed.rectificationDueAt!)).toBeGreaterThan(Date.parse(carried.rectificationDueAt!));
    const { events } = await service.getCase(caseId);
    const paused = (id: string) => events.find((e) => e.taskId === id && e.action === 'task.resumed')?.payload.pausedWorkingDays;
    expect(paused(taskId)).toBe(paused(t1));
    expect(paused(taskId)).toBeGreaterThan(0);
    expect((await taskRow(taskId)).suspended_since).toBeNull();

    await endWithCase(caseId, taskId);
    expect(await taskEvents(caseId, taskId)).toEqual(['task.acknowledged', 'task.suspended', 'task.resumed', 'task.withdrawn']);
    await recordHistory(env.client, taskId, 'task-suspended-continued-as-new', firstRunId);
    await recordHistory(env.client, taskId, 'task-resumed-after-continue-as-new', secondRunId);
  });
});
