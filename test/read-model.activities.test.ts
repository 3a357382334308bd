import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelActivities } from '../activities/read-model.activities';
import { openCase } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import { decideTask, newTask } from '../domain/task.machine';
import type { Db } from '../db/database';
import { listCaseTasks, findCase } from '../db/case.repository';
import { listCaseEvents } from '../db/event.repository';
import { tempDatabase } from './support/database';
import { dept, office } from './support/fixtures';

describe('read model activities on a real database', () => {
  let db: Db;
  let activities: ReturnType<typeof createReadModelActivities>;
  const caseId = 'DB-2026-000042';
  const opened = openCase({
    caseId,
    details: caseDetailsSchema.parse({ title: '路灯不亮', category: '市政', severity: 'general', source: 'survey', leadDepartment: 'CG' }),
    actor: office,
    at: '2026-04-01T01:00:00.000Z',
  });
  const task = newTask({ taskId: `${caseId}-T1`, caseId, departmentCode: 'CG', role: 'lead', assignedAt: '2026-04-01T01:00:00.000Z' });
  const openInput = {
    events: opened.events.map((event, i) => ({ key: `${caseId}#${i + 1}`, caseId, event })),
    caseSnapshot: { state: opened.state, version: 2 },
    taskSnapshots: [{ state: task, version: 0 }],
  };

  beforeAll(async () => {
    ({ db } = await tempDatabase(['CG']));
    activities = createReadModelActivities({ db });
  });
  afterAll(() => db?.destroy());

  it('writes a retried activity once, its notices too', async () => {
    // The assignment asks the department to act: one notice in the outbox, written with it.
    expect(await activities.recordEvents(openInput)).toEqual({ appended: 2, notices: 1 });
    expect(await activities.recordEvents(openInput)).toEqual({ appended: 0, notices: 0 });
    const notices = await db.selectFrom('notices').selectAll().execute();
    expect(notices.map((n) => [n.notice_key, n.kind, n.department_code, n.task_id, n.status])).toEqual([
      [`${caseId}#2`, 'assignment', 'CG', `${caseId}-T1`, 'pending'],
    ]);
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual(['case.opened', 'task.assigned']);
    expect((await findCase(db, caseId))?.status).toBe('open');
  });

  it('never lets a late, older snapshot roll a task back', async () => {
    const ack = decideTask(task, { type: 'acknowledge', actor: dept('CG') }, '2026-04-01T02:00:00.000Z');
    const progress = decideTask(ack.state, { type: 'reportProgress', actor: dept('CG'), note: '处理中', evidence: [] }, '2026-04-01T03:00:00.000Z');
    const key = (n: number) => `${caseId}-T1#${n}`;
    // The second write lands first, as a slow retry of the first would let it.
    await activities.recordEvents({ events: [{ key: key(2), caseId, event: progress.events[0]! }], taskSnapshots: [{ state: progress.state, version: 2 }] });
    const stale = { ...ack.state, status: 'assigned' as const };
    await activities.recordEvents({ events: [{ key: key(1), caseId, event: ack.events[0]! }], taskSnapshots: [{ state: stale, version: 1 }] });
    const [row] = await listCaseTasks(db, caseId);
    expect(row?.status).toBe('acknowledged');
    expect((await listCaseEvents(db, caseId)).map((e) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.progress_reported',
    ]);
  });

  it('counts every task in the case row when the tasks of one case are written at once', async () => {
    // Task workflows of one case write side by side; each write recomputes the case's highest rung.
    const other = 'DB-2026-000043';
    await activities.recordEvents({ events: [], caseSnapshot: { state: { ...opened.state, caseId: other }, version: 2 } });
    const tasks = [1, 2, 3, 4, 5, 6].map((n) => newTask({ taskId: `${other}-T${n}`, caseId: other, departmentCode: 'CG', role: 'cooperating', assignedAt: '2026-04-01T01:00:00.000Z' }));
    await Promise.all(tasks.map((t) => activities.recordEvents({ events: [], taskSnapshots: [{ state: t, version: 0 }] })));
    for (let round = 1; round <= 3; round++) {
      await Promise.all(
        tasks.map((t, i) =>
          activities.recordEvents({
            events: [],
            taskSnapshots: [{ state: { ...t, escalationLevel: i === round ? 4 : round }, version: round }],
          }),
        ),
      );
      expect((await findCase(db, other))?.escalationLevel, `round ${round}`).toBe(4);
    }
  });

  it('keeps the audit trail append-only', async () => {
    await expect(sql`UPDATE events SET action = 'x'`.execute(db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM events`.execute(db)).rejects.toThrow(/append-only/);
    expect(await listCaseEvents(db, caseId)).toHaveLength(4);
  });
});
