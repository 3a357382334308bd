import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setCalendarDay } from '../db/calendar.repository';
import type { Db } from '../db/database';
import { listCaseEscalations, listPendingNotifications } from '../db/outbox.repository';
import type { CaseService } from '../services/case.service';
import { getTaskQuery } from '../workflows/messages';
import { taskWorkflow } from '../workflows/task.workflow';
import { refusal } from './support/assertions';
import { quietMonday as quietMondayOf, sleepUntil as sleepUntilOf } from './support/clock';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const zone = 'Asia/Shanghai';

/**
 * Deadlines on durable timers, on the time-skipping server: every reminder and rung must fire at
 * the instant worked out by hand below from the working-day rules, across weekends, a local
 * closure day and a make-up working day.
 */
describe('deadlines, reminders and escalation on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let taskQueue: string;
  let policyFile: string;

  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack({ deps: (dir) => ({ policyFile: (policyFile = path.join(dir, 'policy.json')) }) });
    ({ env, db, service } = stack);
    taskQueue = stack.taskQueue;
  });
  afterAll(() => stack?.close());

  const quietMonday = () => quietMondayOf(env);
  const sleepUntil = (when: DateTime) => sleepUntilOf(env, when);

  const nineOn = (monday: DateTime, days: number) => monday.plus({ days }).set({ hour: 9, minute: 0 }).toMillis();
  const endOf = (monday: DateTime, days: number) => monday.plus({ days }).endOf('day').toMillis();
  const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NaN);

  async function alarmsOf(caseId: string, taskId?: string) {
    const { events } = await service.getCase(caseId);
    return events
      .filter((e) => (e.action === 'task.reminded' || e.action === 'task.escalated') && (!taskId || e.taskId === taskId))
      .map((e) => ({
        action: e.action,
        deadline: e.payload.deadline as string,
        level: (e.payload.level as number | undefined) ?? null,
        label: (e.payload.label as string | undefined) ?? null,
        plannedAt: ms(e.payload.plannedAt as string),
        // The test server's clock runs on while a workflow task is processed: a few ms late is on time.
        at: onTime(ms(e.at), ms(e.payload.plannedAt as string)),
      }));
  }

  /** `at` rounded to `planned` when within a second of it (and not before). */
  const onTime = (at: number, planned: number) => (at >= planned && at - planned < 1000 ? planned : at);

  /** Polls `read` until `accept` holds (the read model catches up a moment after a command). */
  async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      const value = await read();
      if (accept(value) || i >= 100) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
  }


  it('fires reminders and every rung in order at their instants across a closure day, a weekend and a make-up Saturday', async () => {
    const m = await quietMonday();
    await setCalendarDay(db, { date: m.plus({ days: 2 }).toISODate()!, kind: 'holiday', note: '区机关闭馆' }, m.toISO()!);
    await setCalendarDay(db, { date: m.plus({ days: 5 }).toISODate()!, kind: 'workday', note: '调休上班' }, m.toISO()!);
    await sleepUntil(m);

    const { caseId } = await service.openCase(caseRequest({ severity: 'serious' }), office);
    const taskId = `${caseId}-T1`;
    let [task] = (await eventually(() => service.getCase(caseId), (r) => r.tasks[0]?.next !== null)).tasks;
    // 1 working day to acknowledge (Tuesday); 7 to rectify: Tue, Thu, Fri, the make-up Saturday, Mon, Tue, Wed.
    expect(ms(task!.ackDueAt)).toBe(endOf(m, 1));
    expect(ms(task!.rectificationDueAt)).toBe(endOf(m, 9));
    expect(task!.rectificationDueAt).toMatch(/T15:59:59\.999Z$/);
    expect(task!.next).toMatchObject({ kind: 'escalation' });
    expect(ms(task!.next!.at)).toBe(nineOn(m, 3));

    // Unacknowledged: 催办 the morning after the acknowledgement deadline (Wednesday is closed), then 督办.
    await sleepUntil(m.plus({ days: 4, hours: 2 }));
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await sleepUntil(m.plus({ days: 24 }));

    expect(await alarmsOf(caseId)).toEqual([
      { action: 'task.escalated', deadline: 'acknowledgement', level: 1, label: null, plannedAt: nineOn(m, 3), at: nineOn(m, 3) },
      { action: 'task.escalated', deadline: 'acknowledgement', level: 2, label: null, plannedAt: nineOn(m, 4), at: nineOn(m, 4) },
      // 50% of the 7-day window passed after 4 working days: the 5th working day, Monday; 80% and
      // "1 working day left" both fall on the due day, Wednesday, and are sent once.
      { action: 'task.reminded', deadline: 'rectification', level: null, label: '50%', plannedAt: nineOn(m, 7), at: nineOn(m, 7) },
      { action: 'task.reminded', deadline: 'rectification', level: null, label: '80%', plannedAt: nineOn(m, 9), at: nineOn(m, 9) },
      // Rungs at 1, 3, 5 and 10 working days overdue: Thu, Mon (the next Saturday is no make-up day), Wed, Wed.
      { action: 'task.escalated', deadline: 'rectification', level: 1, label: null, plannedAt: nineOn(m, 10), at: nineOn(m, 10) },
      { action: 'task.escalated', deadline: 'rectification', level: 2, label: null, plannedAt: nineOn(m, 14), at: nineOn(m, 14) },
      { action: 'task.escalated', deadline: 'rectification', level: 3, label: null, plannedAt: nineOn(m, 16), at: nineOn(m, 16) },
      { action: 'task.escalated', deadline: 'rectification', level: 4, label: null, plannedAt: nineOn(m, 23), at: nineOn(m, 23) },
    ]);

    const record = await service.getCase(caseId);
    expect(record.case.escalationLevel).toBe(4);
    [task] = record.tasks;
    expect(task).toMatchObject({ escalationLevel: 4, ackEscalationLevel: 2, next: null });
    expect((await listCaseEscalations(db, caseId)).map((e) => [e.deadline, e.level, e.department_code])).toEqual([
      ['acknowledgement', 1, 'CG'],
      ['acknowledgement', 2, 'CG'],
      ['rectification', 1, 'CG'],
      ['rectification', 2, 'CG'],
      ['rectification', 3, 'CG'],
      ['rectification', 4, 'CG'],
    ]);
    const outbox = (await listPendingNotifications(db, { caseId })).map((n) => `${n.kind}:${n.level ?? '-'}:${n.recipient}`);
    expect(outbox).toEqual([
      'escalation:1:department',
      'escalation:2:department_head',
      'escalation:2:office_lead',
      'reminder:-:department',
      'reminder:-:department',
      'escalation:1:department',
      'escalation:2:department_head',
      'escalation:2:office_lead',
      'escalation:3:department',
      'escalation:3:office',
      'escalation:4:department_head',
      'escalation:4:office_lead',
    ]);

    await service.submitRectification(caseId, dept('CG'), { report: '已整改', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    expect(await env.client.workflow.getHandle(caseId).result()).toMatchObject({ status: 'closed' });
    await recordHistory(env.client, taskId, 'task-escalated-to-level-4');
    await recordHistory(env.client, taskId, 'task-escalated-local-planning');
    await recordHistory(env.client, caseId, 'case-closed-local-planning');
    await recordHistory(env.client, taskId, 'task-escalated-local-journal');
    await recordHistory(env.client, caseId, 'case-closed-local-journal');
    await recordHistory(env.client, taskId, 'task-escalated-serialised');
  });

  it('stops acknowledgement rungs on acknowledging, rectification rungs while submitted, and owes them again on rework', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
    const { caseId } = await service.openCase(caseRequest({ severity: 'major' }), office);
    // Acknowledged at once: no acknowledgement rung ever fires.
    await service.acknowledgeTask(caseId, dept('CG'), {});
    // 3 working days: due Thursday; the only reminder falls on Thursday morning; 催办 Friday.
    await sleepUntil(m.plus({ days: 4, hours: 2 }));
    await service.submitRectification(caseId, dept('CG'), { report: '已整改', evidence: [photo] });
    expect((await env.client.workflow.getHandle(`${caseId}-T1`).query(getTaskQuery)).next).toBeNull();

    // 督办 was due Tuesday 09:00 (3 working days overdue); it waits while the office verifies.
    await sleepUntil(m.plus({ days: 9, hours: 2 }));
    expect((await alarmsOf(caseId)).map((a) => [a.action, a.level])).toEqual([
      ['task.reminded', null],
      ['task.escalated', 1],
    ]);
    const rejectedAt = await env.currentTimeMs();
    await service.verifyRectification(caseId, office, { decision: 'reject', comment: '仍未整改到位' });
    // Back in rework and still overdue: the rung owed fires at once, the next waits for its day.
    await sleepUntil(m.plus({ days: 9, hours: 3 }));
    const alarms = await alarmsOf(caseId);
    expect(alarms.map((a) => [a.action, a.level, a.plannedAt])).toEqual([
      ['task.reminded', null, nineOn(m, 3)],
      ['task.escalated', 1, nineOn(m, 4)],
      ['task.escalated', 2, nineOn(m, 8)],
    ]);
    expect(ms((await service.getCase(caseId)).events.find((e) => e.payload.level === 2)?.at) - rejectedAt).toBeLessThan(1000);
    const snapshot = await env.client.workflow.getHandle(`${caseId}-T1`).query(getTaskQuery);
    expect(snapshot.next).toMatchObject({ kind: 'escalation', level: 3 });
    expect(ms(snapshot.next!.at)).toBe(nineOn(m, 10));

    await service.submitRectification(caseId, dept('CG'), { report: '再次整改', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    await sleepUntil(m.plus({ days: 20 }));
    // Accepted: 督办 was the last rung; nothing fired after it.
    expect((await alarmsOf(caseId)).map((a) => [a.action, a.level])).toEqual([
      ['task.reminded', null],
      ['task.escalated', 1],
      ['task.escalated', 2],
    ]);
    expect(await env.client.workflow.getHandle(caseId).result()).toMatchObject({ status: 'closed' });
  });

  it('moves the deadline by an approved extension and re-plans every timer; caps extensions', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    await service.acknowledgeTask(caseId, dept('CG'), {});
    // 15 working days: due Monday three weeks on.
    let [task] = (await service.getCase(caseId)).tasks;
    expect(ms(task!.rectificationDueAt)).toBe(endOf(m, 21));

    await sleepUntil(m.plus({ days: 1 }));
    await service.requestExtension(caseId, dept('CG'), { workingDays: 5, reason: '需协调产权单位' });
    const tooMany = await refusal(service.decideExtension(caseId, office, { decision: 'approve', workingDays: 6 }));
    expect(tooMany.details[0]?.path).toBe('workingDays');
    const granted = await service.decideExtension(caseId, office, { decision: 'approve', workingDays: 3, comment: '同意延期 3 个工作日' });
    // Three working days after Monday the 21st: Thursday the 24th.
    expect(ms(granted.rectificationDueAt)).toBe(endOf(m, 24));
    expect(granted.extensionsGranted).toBe(1);
    // The new 18-day window: 50% on its 10th working day, 80% on the 16th, the last day, then 催办.
    expect(ms(granted.next?.at)).toBe(nineOn(m, 14));

    await sleepUntil(m.plus({ days: 26 }));
    expect((await alarmsOf(caseId)).map((a) => [a.action, a.label ?? a.level, a.at])).toEqual([
      ['task.reminded', '50%', nineOn(m, 14)],
      ['task.reminded', '80%', nineOn(m, 22)],
      ['task.reminded', '剩余 1 个工作日 / 1 working day left', nineOn(m, 24)],
      ['task.escalated', 1, nineOn(m, 25)],
    ]);
    const { events } = await service.getCase(caseId);
    expect(events.find((e) => e.action === 'task.extension_granted')?.payload).toMatchObject({
      requestedWorkingDays: 5,
      workingDays: 3,
      comment: '同意延期 3 个工作日',
    });
    [task] = (await service.getCase(caseId)).tasks;
    expect(task).toMatchObject({ extensionsGranted: 1, pendingExtension: null, escalationLevel: 1 });

    // A denial moves nothing; the policy's cap (2) refuses a third extension.
    await service.requestExtension(caseId, dept('CG'), { workingDays: 2, reason: '再延' });
    const denied = await service.decideExtension(caseId, office, { decision: 'deny', comment: '不予延期' });
    expect(ms(denied.rectificationDueAt)).toBe(endOf(m, 24));
    await service.requestExtension(caseId, dept('CG'), { workingDays: 1, reason: '最后一次' });
    await service.decideExtension(caseId, office, { decision: 'approve' });
    const capped = await refusal(service.requestExtension(caseId, dept('CG'), { workingDays: 1, reason: '还要' }));
    expect(capped.code).toBe('invalid_state');
    expect(capped.message).toBe(
      `任务 ${caseId}-T1 已延期 2 次，达到上限 / task ${caseId}-T1 has had 2 extensions, the most allowed`,
    );
    const byDept = await refusal(service.decideExtension(caseId, dept('CG'), { decision: 'approve' }));
    expect(byDept.code).toBe('forbidden');

    await service.submitRectification(caseId, dept('CG'), { report: '完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    await recordHistory(env.client, `${caseId}-T1`, 'task-extended');
    await recordHistory(env.client, `${caseId}-T1`, 'task-extended-serialised');
  });

  it('stops the clock while suspended and moves the deadlines by the working days it stood still', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
    const { caseId } = await service.openCase(caseRequest({ severity: 'serious' }), office);
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await sleepUntil(m.plus({ days: 1 }));
    const suspended = await service.suspendTask(caseId, office, { reason: '等待规划部门审批' });
    expect(suspended).toMatchObject({ suspension: { reason: '等待规划部门审批' }, next: null });
    const again = await refusal(service.suspendTask(caseId, office, { reason: 'x' }));
    expect(again.code).toBe('invalid_state');

    // The 50% reminder was due Monday 09:00, inside the suspension: it must not fire.
    await sleepUntil(m.plus({ days: 8, hours: 5 }));
    expect(await alarmsOf(caseId)).toEqual([]);
    const resumed = await service.resumeTask(caseId, office, { comment: '审批已通过' });
    // Stopped Tue, Wed, Thu, Fri and Mon: 5 working days; Wednesday's deadline moves to the next Wednesday.
    expect(ms(resumed.rectificationDueAt)).toBe(endOf(m, 16));
    const { events } = await service.getCase(caseId);
    expect(events.find((e) => e.action === 'task.resumed')?.payload).toMatchObject({ pausedWorkingDays: 5, comment: '审批已通过' });

    await sleepUntil(m.plus({ days: 18 }));
    expect((await alarmsOf(caseId)).map((a) => [a.label ?? a.level, a.at])).toEqual([
      ['50%', nineOn(m, 9)],
      ['80%', nineOn(m, 15)],
      ['剩余 1 个工作日 / 1 working day left', nineOn(m, 16)],
      [1, nineOn(m, 17)],
    ]);
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
  });

  it('transfers a task at a department’s request: the old task ends, the new department gets fresh deadlines', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
    const { caseId } = await service.openCase(caseRequest({ severity: 'major', cooperatingDepartments: ['SJ'] }), office);
    await service.requestTransfer(caseId, dept('CG'), { reason: '该路段属街道管辖', suggestedDepartment: 'JD' });
    await service.rejectTransfer(caseId, office, { comment: '先行处置' }, { department: 'CG' });
    await sleepUntil(m.plus({ days: 1 }));
    await service.requestTransfer(caseId, dept('CG'), { reason: '经核实确属街道', suggestedDepartment: 'JD' });

    const sameDept = await refusal(service.reassignTask(caseId, office, { taskId: `${caseId}-T1`, toDepartment: 'SJ', reason: 'x' }));
    expect(sameDept.details[0]?.path).toBe('toDepartment');
    const unknown = await refusal(service.reassignTask(caseId, office, { taskId: `${caseId}-T1`, toDepartment: 'NOPE', reason: 'x' }));
    expect(unknown.details[0]?.path).toBe('toDepartment');

    const reassignedAt = DateTime.fromMillis(await env.currentTimeMs(), { zone });
    const after = await service.reassignTask(caseId, office, { fromDepartment: 'CG', toDepartment: 'JD', reason: '同意转办' });
    expect(after.tasks.map((t) => [t.taskId.slice(-2), t.departmentCode, t.role])).toEqual([
      ['T1', 'CG', 'lead'],
      ['T2', 'SJ', 'cooperating'],
      ['T3', 'JD', 'lead'],
    ]);
    await sleepUntil(m.plus({ days: 1, hours: 1 }));
    const record = await service.getCase(caseId);
    const [t1, , t3] = record.tasks;
    expect(t1).toMatchObject({ status: 'transferred', transferredToTask: `${caseId}-T3`, next: null });
    // Fresh deadlines from the reassignment on Tuesday: acknowledge by Wednesday, rectify by Friday.
    expect(ms(t3!.ackDueAt)).toBe(endOf(reassignedAt.startOf('day'), 1));
    expect(ms(t3!.rectificationDueAt)).toBe(endOf(reassignedAt.startOf('day'), 3));
    expect(record.events.map((e) => `${e.action}@${e.taskId?.slice(-2) ?? ''}`)).toEqual([
      'case.opened@',
      'task.assigned@T1',
      'task.assigned@T2',
      'task.transfer_requested@T1',
      'task.transfer_rejected@T1',
      'task.transfer_requested@T1',
      'task.transferred@T1',
      'task.assigned@T3',
    ]);
    const late = await refusal(service.acknowledgeTask(caseId, dept('CG'), {}, { taskId: `${caseId}-T1` }));
    expect(late.code).toBe('invalid_state');

    // Past the days T1's rungs would have fallen on (its acknowledgement was due Tuesday): by Friday
    // noon the new task, not acknowledged either, is escalated and reminded; the transferred one never.
    await sleepUntil(m.plus({ days: 4, hours: 2 }));
    expect((await alarmsOf(caseId, `${caseId}-T3`)).map((a) => [a.action, a.deadline, a.level])).toEqual([
      ['task.escalated', 'acknowledgement', 1],
      ['task.escalated', 'acknowledgement', 2],
      ['task.reminded', 'rectification', null],
    ]);
    expect(await alarmsOf(caseId, `${caseId}-T1`)).toEqual([]);

    for (const code of ['JD', 'SJ']) {
      await service.acknowledgeTask(caseId, dept(code), {});
      await service.submitRectification(caseId, dept(code), { report: `${code} 完成`, evidence: [photo] });
      await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: code });
    }
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    // The transferred task's timers ended with it: no alarm for T1, ever.
    expect(await alarmsOf(caseId, `${caseId}-T1`)).toEqual([]);
    await recordHistory(env.client, caseId, 'case-reassigned');
    await recordHistory(env.client, caseId, 'case-reassigned-serialised');
  });

  it('reaches a running task with a changed policy at its next wake-up', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
    const { caseId } = await service.openCase(caseRequest({ severity: 'serious' }), office);
    await service.acknowledgeTask(caseId, dept('CG'), {});
    try {
      // From Tuesday: no reminders, and 催办 only at 2 working days overdue.
      await sleepUntil(m.plus({ days: 1 }));
      fs.writeFileSync(
        policyFile,
        JSON.stringify({ reminders: [], escalation: { rectification: [{ level: 1, workingDaysOverdue: 2 }] } }),
      );
      // The task slept until its 50% reminder (Monday); it wakes, re-plans and sends none.
      await sleepUntil(m.plus({ days: 12 }));
      expect((await alarmsOf(caseId)).map((a) => [a.action, a.level, a.at])).toEqual([['task.escalated', 1, nineOn(m, 11)]]);
    } finally {
      fs.rmSync(policyFile, { force: true });
    }
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
  });

  it('continues as new when its history grows long, keeping its state and recording every event once', async () => {
    const m = await quietMonday();
    await sleepUntil(m);
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
          assignedAt: m.toUTC().toISO()!,
          ackDueAt: new Date(ms(open!.ackDueAt)).toISOString(),
          rectificationDueAt: new Date(ms(open!.rectificationDueAt)).toISOString(),
          continueAsNewAfterEvents: 40,
        },
      ],
    });
    const firstRunId = handle.firstExecutionRunId;
    await eventually(() => service.getCase(caseId), (r) => r.tasks.some((t) => t.id === taskId));
    await service.acknowledgeTask(caseId, dept('SJ'), {}, { taskId });
    for (let i = 1; i <= 12; i++) {
      await service.reportProgress(caseId, dept('SJ'), { note: `进展 ${i}` }, { taskId });
    }
    await service.submitRectification(caseId, dept('SJ'), { report: '完成', evidence: [photo] }, { taskId });
    await service.verifyRectification(caseId, office, { decision: 'reject', comment: '返工' }, { taskId });
    const before = await env.client.workflow.getHandle(taskId).query(getTaskQuery);
    expect(before).toMatchObject({ status: 'rework', reworkCount: 1, submissionCount: 1 });

    const first = await env.client.workflow.getHandle(taskId, firstRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const latest = await env.client.workflow.getHandle(taskId).describe();
    expect(latest.runId).not.toBe(firstRunId);

    await service.submitRectification(caseId, dept('SJ'), { report: '再次完成', evidence: [photo] }, { taskId });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { taskId });
    expect(await env.client.workflow.getHandle(taskId).result()).toEqual({ taskId, status: 'accepted', evidence: [{ kind: 'url', url: photo.url, note: photo.note }] });

    const actions = (await service.getCase(caseId)).events.filter((e) => e.taskId === taskId).map((e) => e.action);
    expect(actions.filter((a) => a === 'task.progress_reported')).toHaveLength(12);
    expect(actions).toEqual([
      'task.acknowledged',
      ...Array<string>(12).fill('task.progress_reported'),
      'task.submitted',
      'task.rejected',
      'task.submitted',
      'task.accepted',
    ]);
    await recordHistory(env.client, taskId, 'task-continued-as-new', firstRunId);
    await service.withdrawCase(caseId, office, { reason: '测试结束' });
  });
});
