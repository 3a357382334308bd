import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelActivities, type RecordEventsInput } from '../activities/read-model.activities';
import type { Alarm } from '../domain/alarm.plan';
import type { DomainEvent } from '../domain/event';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { decideTask, fireDueAlarms, newTask, type TaskState } from '../domain/task.machine';
import type { Db } from '../db/database';
import { releaseHeldNotices } from '../db/journal.repository';
import { listCaseEvents } from '../db/event.repository';
import { tempDatabase } from './support/database';
import { dept, office } from './support/fixtures';

/**
 * Journal writes fenced by the attempt of the workflow task that made them (docs/reliability.md),
 * on a real database: what a later attempt writes replaces what a dead attempt wrote from the
 * same position on, a dead attempt's late write is dropped, the audit trail keeps what it voided,
 * and notices wait until their write is confirmed.
 */
describe('fenced journal writes', () => {
  let db: Db;
  let activities: ReturnType<typeof createReadModelActivities>;
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
    activities = createReadModelActivities({ db });
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
    expect(await notices()).toEqual([{ notice_key: key(2), status: 'held', held_by: taskId }]);
    // Only a bound above the write's fence releases it.
    expect(await releaseHeldNotices(db, taskId, 2_000)).toBe(0);
    // A later workflow task of the same workflow writes: the server recorded the one before.
    const progress = decideTask(named.state, { type: 'reportProgress', actor: dept('CG'), note: '已进场', evidence: [] }, '2026-04-03T02:00:00.000Z');
    expect(await activities.recordEvents(write(3_000, 3, progress.state, 3, [], progress.events))).toMatchObject({ appended: 1 });
    expect(await notices()).toEqual([{ notice_key: key(2), status: 'pending', held_by: null }]);
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.responsible_person_assigned',
      'task.progress_reported',
    ]);
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
  });
});
