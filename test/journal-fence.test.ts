import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelActivities, type RecordEventsInput } from '../activities/read-model.activities';
import type { Alarm } from '../domain/alarm.plan';
import type { DomainEvent } from '../domain/event';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { decideTask, fireDueAlarms, newTask, type TaskState } from '../domain/task.machine';
import type { Db } from '../db/database';
import { releaseHeldNotices } from '../db/journal.repository';
import { createJournalConfirmer } from '../services/journal.confirm';
import { getTaskQuery, journalPositionQuery } from '../workflows/messages';
import { listCaseEvents } from '../db/event.repository';
import { tempDatabase } from './support/database';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

/**
 * Journal writes fenced by the attempt of the workflow task that made them (docs/reliability.md),
 * on a real database: what a later attempt writes replaces what a dead attempt wrote from the
 * same position on, a dead attempt's late write is dropped, the audit trail keeps what it voided,
 * and notices wait until their write is confirmed.
 */
describe('fenced journal writes', () => {
  let db: Db;
  let activities: ReturnType<typeof createReadModelActivities>;
  /** How often the notice dispatcher was woken since the last look (it sends notices and confirms writes). */
  let wakes = 0;
  const woken = () => {
    const n = wakes;
    wakes = 0;
    return n;
  };
  const caseId = 'DB-2026-000077';
  const taskId = `${caseId}-T1`;
  const key = (n: number) => `${taskId}#${n}`;
  const assignedAt = '2026-04-01T01:00:00.000Z';
  const task = newTask({
    taskId,
    caseId,
    departmentCode: 'CG',
    role: 'lead',
    assignedAt,
    ackDueAt: '2026-04-02T15:59:59.999Z',
    rectificationDueAt: '2026-04-20T15:59:59.999Z',
  });
  /** 催办 on the acknowledgement, due the morning after its deadline. */
  const rung: Alarm = {
    key: 'acknowledgement:1',
    kind: 'escalation',
    deadline: 'acknowledgement',
    level: 1,
    at: '2026-04-03T01:00:00.000Z',
    dueAt: task.ackDueAt!,
    label: '催办',
  };

  /** What a task workflow's attempt writes for `events` from position `from` (as workflows/task.workflow.ts does). */
  const write = (fence: number, from: number, state: TaskState, version: number, fired: ReturnType<typeof fireDueAlarms>['firings'] = [], events: readonly DomainEvent[] = fired.map((f) => f.event)): RecordEventsInput => ({
    events: events.map((event, i) => ({ key: key(from + i), caseId, event })),
    taskSnapshots: [{ state, version }],
    escalations: fired.flatMap((f, i) => (f.escalation ? [{ key: key(from + i), caseId, taskId, department: 'CG', record: f.escalation }] : [])),
    fence: { stream: taskId, from, fence },
  });
  const row = () => db.selectFrom('tasks').select(['status', 'ack_escalation_level', 'version', 'fence']).where('id', '=', taskId).executeTakeFirstOrThrow();
  /** The notices of the task's own events (its assignment's is the case's). */
  const notices = async () =>
    (await db.selectFrom('notices').select(['notice_key', 'status', 'held_by']).where('task_id', '=', taskId).orderBy('notice_key').execute()).filter((n) =>
      n.notice_key.startsWith(`${taskId}#`),
    );

  beforeAll(async () => {
    ({ db } = await tempDatabase(['CG']));
    activities = createReadModelActivities({
      db,
      wakeNotices: () => {
        wakes++;
        return Promise.resolve();
      },
    });
    const opened = openCase({
      caseId,
      details: caseDetailsSchema.parse({ title: '井盖缺失', category: '市政', severity: 'general', source: 'survey', leadDepartment: 'CG' }),
      actor: office,
      at: assignedAt,
    });
    // The case's own write (its stream is the case): the opening, and the task's row as version 0.
    await activities.recordEvents({
      events: opened.events.map((event, i) => ({ key: `${caseId}#${i + 1}`, caseId, event })),
      caseSnapshot: { state: opened.state, version: 1 },
      taskSnapshots: [{ state: task, version: 0 }],
      fence: { stream: caseId, from: 1, fence: 900 },
    });
    woken();
  });
  afterAll(() => db?.destroy());

  it('replaces what a dead attempt wrote with what the retried attempt decided, and keeps the replaced events on record', async () => {
    // Attempt A (its worker then dies before the server records the task): the rung fires.
    const fired = fireDueAlarms(task, [rung], rung.at);
    expect(await activities.recordEvents(write(1_000, 1, fired.state, 1, fired.firings))).toMatchObject({ appended: 1, notices: 1 });
    expect(await row()).toMatchObject({ ack_escalation_level: 1, version: 1 });
    // Its notice waits: the server has not recorded the workflow task that wrote it.
    expect(await notices()).toEqual([{ notice_key: key(1), status: 'held', held_by: taskId }]);
    expect(await db.selectFrom('escalations').select('escalation_key').where('task_id', '=', taskId).execute()).toHaveLength(1);

    // Attempt B handles the acknowledgement that arrived meanwhile first: the rung is no longer due.
    const ack = decideTask(task, { type: 'acknowledge', actor: dept('CG') }, '2026-04-03T01:00:05.000Z');
    expect(await activities.recordEvents(write(2_000, 1, ack.state, 1, [], ack.events))).toMatchObject({ appended: 1 });
    // Each write woke the dispatcher, the one without a notice too: its rounds confirm what was written.
    expect(woken()).toBe(2);

    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual(['case.opened', 'task.assigned', 'task.acknowledged']);
    // The same version as A's snapshot, but a later attempt: B's row stands.
    expect(await row()).toMatchObject({ status: 'acknowledged', ack_escalation_level: 0, version: 1, fence: 2_000 });
    expect(await db.selectFrom('escalations').select('escalation_key').where('task_id', '=', taskId).execute()).toEqual([]);
    expect(await notices()).toEqual([]);
    const voided = await db.selectFrom('voided_events').selectAll().where('case_id', '=', caseId).execute();
    expect(voided.map((v) => [v.event_key, v.action, v.fence, v.voided_by_fence])).toEqual([[key(1), 'task.escalated', 1_000, 2_000]]);
  });

  it('drops a late write of the dead attempt whole', async () => {
    const late = decideTask({ ...task, status: 'acknowledged' }, { type: 'reportProgress', actor: dept('CG'), note: '迟到的写入', evidence: [] }, '2026-04-03T01:00:06.000Z');
    expect(await activities.recordEvents(write(1_000, 2, late.state, 2, [], late.events))).toEqual({ appended: 0, notices: 0, superseded: true });
    // Nothing written, nothing to confirm.
    expect(woken()).toBe(0);
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual(['case.opened', 'task.assigned', 'task.acknowledged']);
    expect(await row()).toMatchObject({ status: 'acknowledged', version: 1, fence: 2_000 });
  });

  it('writes a local activity run again in the same attempt once, and releases held notices when a later workflow task writes', async () => {
    const named = decideTask(
      { ...task, status: 'acknowledged', acknowledgedAt: '2026-04-03T01:00:05.000Z' },
      { type: 'assignResponsiblePerson', actor: dept('CG'), person: { id: 'p_000000000001', name: '张三', post: '科员' } },
      '2026-04-03T01:00:07.000Z',
    );
    const again = write(2_000, 2, named.state, 2, [], named.events);
    expect(await activities.recordEvents(again)).toMatchObject({ appended: 1, notices: 1 });
    expect(await activities.recordEvents(again)).toMatchObject({ appended: 0, notices: 0 });
    // The run again wrote nothing new: only the first woke the dispatcher.
    expect(woken()).toBe(1);
    expect(await notices()).toEqual([{ notice_key: key(2), status: 'held', held_by: taskId }]);
    // Released only once its position is on the record.
    expect(await releaseHeldNotices(db, taskId, 1)).toBe(0);
    expect(await db.selectFrom('journal_streams').select(['seq', 'confirmed']).where('stream', '=', taskId).executeTakeFirstOrThrow()).toEqual({ seq: 2, confirmed: 0 });
    // A later workflow task of the same workflow writes: the server recorded the one before.
    const progress = decideTask(named.state, { type: 'reportProgress', actor: dept('CG'), note: '已进场', evidence: [] }, '2026-04-03T02:00:00.000Z');
    expect(await activities.recordEvents(write(3_000, 3, progress.state, 3, [], progress.events))).toMatchObject({ appended: 1 });
    expect(await notices()).toEqual([{ notice_key: key(2), status: 'pending', held_by: null }]);
    expect(await db.selectFrom('journal_streams').select(['seq', 'confirmed']).where('stream', '=', taskId).executeTakeFirstOrThrow()).toEqual({ seq: 3, confirmed: 2 });
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.responsible_person_assigned',
      'task.progress_reported',
    ]);
    expect(woken()).toBe(1);
  });

  it('keeps the audit trail append-only except for what was voided', async () => {
    await expect(db.deleteFrom('events').where('event_key', '=', key(3)).execute()).rejects.toThrow(/append-only/);
    await expect(db.updateTable('events').set({ action: 'task.accepted' }).where('event_key', '=', key(3)).execute()).rejects.toThrow(/append-only/);
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toHaveLength(5);
  });

  it('lets a task’s own snapshot win over the row its case wrote, and never the other way, whatever the two clocks say', async () => {
    const other = `${caseId}-T2`;
    const t2 = { ...task, taskId: other };
    const ack = decideTask(t2, { type: 'acknowledge', actor: dept('CG') }, '2026-04-03T01:00:05.000Z');
    const t2Row = () => db.selectFrom('tasks').select(['status', 'version']).where('id', '=', other).executeTakeFirstOrThrow();
    // The case's clock ahead of the task's (two workflows, two shards): the task's version 1 still wins.
    await activities.recordEvents({ events: [], taskSnapshots: [{ state: t2, version: 0 }], fence: { stream: caseId, from: 3, fence: 9_000 } });
    await activities.recordEvents({ events: [], taskSnapshots: [{ state: ack.state, version: 1 }], fence: { stream: other, from: 1, fence: 5_000 } });
    expect(await t2Row()).toEqual({ status: 'acknowledged', version: 1 });
    // And a late version 0 from the case (a retried case write) does not roll it back.
    await activities.recordEvents({ events: [], taskSnapshots: [{ state: t2, version: 0 }], fence: { stream: caseId, from: 3, fence: 9_500 } });
    expect(await t2Row()).toEqual({ status: 'acknowledged', version: 1 });
    // Snapshots alone do not move a journal's position: no round is needed to confirm them.
    expect(woken()).toBe(0);
  });

  it('removes the row of a task that only a dead attempt of its case created, and keeps the others', async () => {
    const t3 = { ...task, taskId: `${caseId}-T3`, departmentCode: 'CG' };
    const ids = async () => (await db.selectFrom('tasks').select('id').where('case_id', '=', caseId).orderBy('id').execute()).map((r) => r.id);
    const event = decideTask(task, { type: 'acknowledge', actor: dept('CG') }, '2026-04-04T01:00:00.000Z').events[0]!;
    // A dead attempt of the case reassigns: an event and the new task's first row.
    await activities.recordEvents({ events: [{ key: `${caseId}#3`, caseId, event }], taskSnapshots: [{ state: t3, version: 0 }], fence: { stream: caseId, from: 3, fence: 9_600 } });
    expect(await ids()).toEqual([taskId, `${caseId}-T2`, `${caseId}-T3`]);
    // Its retry decides otherwise: no new task.
    await activities.recordEvents({ events: [{ key: `${caseId}#3`, caseId, event }], fence: { stream: caseId, from: 3, fence: 9_700 } });
    expect(await ids()).toEqual([taskId, `${caseId}-T2`]);
  });
});

/**
 * What an attempt that died wrote, when its retry writes nothing (the update it handled was lost
 * with a restarted server): the confirmer (services/journal.confirm.ts) finds the read model ahead
 * of the server's record and has it repaired, by the workflow itself while it runs, or from its
 * final state once it has closed. The dead attempt's write is made here as it would have been: a
 * fenced write past the recorded position, under a fence between the last recorded write's and the
 * next workflow task's.
 */
describe('journal writes past the server’s record', () => {
  let stack: WorkflowStack;
  let confirm: () => Promise<boolean>;
  beforeAll(async () => {
    stack = await startWorkflowStack({ departments: ['CG'] });
    confirm = createJournalConfirmer({ db: stack.db, client: stack.env.client });
  });
  afterAll(() => stack?.close());

  /** A submission of `taskId` that its workflow never recorded, written as a dead attempt would. */
  const phantomSubmission = async (caseId: string, taskId: string) => {
    const { db, env } = stack;
    const position = await env.client.workflow.getHandle(taskId).query(journalPositionQuery);
    const stream = await db.selectFrom('journal_streams').selectAll().where('stream', '=', taskId).executeTakeFirstOrThrow();
    const state = await env.client.workflow.getHandle(taskId).query(getTaskQuery);
    // (A closed task's phantom is made as if from before its end: one that slipped past it.)
    const submitted = decideTask({ ...state, status: 'acknowledged' }, { type: 'submit', actor: dept('CG'), report: '已整改（未记录）', evidence: [{ kind: 'url', ...photo }] }, new Date().toISOString());
    await createReadModelActivities({ db }).recordEvents({
      events: submitted.events.map((event, i) => ({ key: `${taskId}#${position.sequence + 1 + i}`, caseId, event })),
      taskSnapshots: [{ state: submitted.state, version: position.writes + 1 }],
      fence: { stream: taskId, from: position.sequence + 1, fence: stream.fence + 1 },
    });
    return position;
  };
  const taskRow = (taskId: string) => stack.db.selectFrom('tasks').select(['status', 'submission_count']).where('id', '=', taskId).executeTakeFirstOrThrow();
  const actions = async (caseId: string) => (await listCaseEvents(stack.db, caseId)).map((e) => e.action).filter((a) => !a.startsWith('notice.'));
  const confirmAll = async () => {
    for (let i = 0; i < 100; i++) {
      if (!(await confirm())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('journal writes stayed unconfirmed');
  };

  it('has a running workflow write its state again, which voids what it never recorded', async () => {
    const { service, db } = stack;
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const taskId = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await confirmAll();
    const recorded = await phantomSubmission(caseId, taskId);
    expect(await taskRow(taskId)).toEqual({ status: 'submitted', submission_count: 1 });

    // The workflow is asked how far it recorded, finds the read model ahead with no task under
    // way, and is told to write its state again.
    await confirmAll();
    expect(await taskRow(taskId)).toEqual({ status: 'acknowledged', submission_count: 0 });
    expect(await actions(caseId)).toEqual(['case.opened', 'task.assigned', 'task.acknowledged']);
    const voided = await db.selectFrom('voided_events').select(['event_key', 'action']).where('case_id', '=', caseId).execute();
    expect(voided).toEqual([{ event_key: `${taskId}#${recorded.sequence + 1}`, action: 'task.submitted' }]);
    // Its notice (to the office's clerks) was held, and is gone with it.
    expect(await db.selectFrom('notices').select('notice_key').where('notice_key', '=', `${taskId}#${recorded.sequence + 1}`).execute()).toEqual([]);

    // And the task goes on: the real submission is written in the place the phantom had.
    await service.submitRectification(caseId, dept('CG'), { report: '已整改', evidence: [photo] });
    await confirmAll();
    expect(await taskRow(taskId)).toEqual({ status: 'submitted', submission_count: 1 });
    const events = await db.selectFrom('events').select(['event_key', 'payload']).where('event_key', '=', `${taskId}#${recorded.sequence + 1}`).executeTakeFirstOrThrow();
    expect(JSON.parse(events.payload)).toMatchObject({ report: '已整改' });
  });

  it('writes a closed workflow’s final state over what it never recorded', async () => {
    const { service, env } = stack;
    const { caseId } = await service.openCase(caseRequest({ severity: 'general' }), office);
    const taskId = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await service.withdrawCase(caseId, office, { reason: '重复立案' });
    await env.client.workflow.getHandle(caseId).result();
    await confirmAll();
    const before = await actions(caseId);
    // A write no attempt of the closed task ever recorded (it cannot come from the task itself, which
    // is closed; here it stands for one that slipped past the closing).
    await phantomSubmission(caseId, taskId);
    expect(await taskRow(taskId)).toMatchObject({ status: 'submitted' });
    await confirmAll();
    expect(await taskRow(taskId)).toEqual({ status: 'withdrawn', submission_count: 0 });
    expect(await actions(caseId)).toEqual(before);
  });
});
