import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelActivities } from '../activities/read-model.activities';
import { WorkingCalendar } from '../domain/calendar';
import { type CaseState, openCase, reassignTask, recordTaskFinished } from '../domain/case.machine';
import { caseDetailsSchema, systemActor } from '../domain/case.schema';
import type { DomainEvent } from '../domain/event';
import { decideTask, newTask, type TaskState } from '../domain/task.machine';
import type { Db } from '../db/database';
import { createIndicatorService } from '../services/indicator.service';
import { createScorecardService } from '../services/scorecard.service';
import { officialCalendarData } from '../services/official-calendar';
import { tempDatabase } from './support/database';
import { dept, office } from './support/fixtures';

// Rows written as the workflows write them: the domain's decisions recorded through the read
// model's activity (events with their keys, snapshots with their versions). Expected figures are
// worked out by hand beside each assertion. Times are Asia/Shanghai (UTC+8).

const zone = 'Asia/Shanghai';
const calendar = new WorkingCalendar(zone, officialCalendarData());
const local = (t: string): string => DateTime.fromFormat(t, 'yyyy-MM-dd HH:mm', { zone }).toUTC().toISO()!;
const eod = (d: string): string => DateTime.fromISO(d, { zone }).endOf('day').toUTC().toISO()!;

describe('indicators and scorecards from a real SQLite read model', () => {
  let db: Db;
  let activities: ReturnType<typeof createReadModelActivities>;
  const sequences = new Map<string, number>();
  const cases = new Map<string, CaseState>();
  const tasks = new Map<string, TaskState>();

  /** Records `events` of `workflow` (a case or a task) with the snapshots they lead to, as the workflow would. */
  const record = async (workflow: string, caseId: string, events: readonly DomainEvent[], snapshot: { case?: CaseState; tasks?: TaskState[] } = {}) => {
    let n = sequences.get(workflow) ?? 0;
    const keyed = events.map((event) => ({ key: `${workflow}#${++n}`, caseId, event }));
    sequences.set(workflow, n);
    if (snapshot.case) cases.set(caseId, snapshot.case);
    for (const t of snapshot.tasks ?? []) tasks.set(t.taskId, t);
    await activities.recordEvents({
      events: keyed,
      ...(snapshot.case ? { caseSnapshot: { state: snapshot.case, version: n } } : {}),
      taskSnapshots: (snapshot.tasks ?? []).map((state) => ({ state, version: n })),
    });
  };

  /** Opens a case at `at` with deadlines on its tasks (as the case workflow adds them). */
  const open = async (caseId: string, source: string, lead: string, at: string, ack: string, rect: string) => {
    const opened = openCase({
      caseId,
      details: caseDetailsSchema.parse({ title: `案件 ${caseId}`, category: '市容秩序', severity: 'general', source, leadDepartment: lead }),
      actor: office,
      at: local(at),
    });
    const due = { ackDueAt: eod(ack), rectificationDueAt: eod(rect) };
    const task = newTask({ taskId: `${caseId}-T1`, caseId, departmentCode: lead, role: 'lead', assignedAt: local(at), ...due });
    const events = opened.events.map((e) => (e.action === 'task.assigned' ? { ...e, payload: { ...e.payload, ...due } } : e));
    await record(caseId, caseId, events, { case: opened.state, tasks: [task] });
  };

  /** A task's command at `at`, recorded by its workflow. */
  const act = async (taskId: string, command: Parameters<typeof decideTask>[1], at: string) => {
    const decision = decideTask(tasks.get(taskId)!, command, local(at));
    await record(taskId, decision.state.caseId, decision.events, { tasks: [decision.state] });
    return decision.state;
  };

  /** The case notes a task's end; closing when all are accepted. */
  const finished = async (caseId: string, taskId: string, at: string) => {
    const decision = recordTaskFinished(cases.get(caseId)!, taskId, tasks.get(taskId)!.status, local(at));
    await record(caseId, caseId, decision.events, { case: decision.state });
  };

  const caseEvent = async (caseId: string, action: DomainEvent['action'], at: string, payload: Record<string, unknown> = {}) =>
    record(caseId, caseId, [{ action, actor: action === 'case.rated' ? systemActor : office, at: local(at), taskId: null, payload }]);

  const escalate = async (taskId: string, deadline: string, level: number, at: string) =>
    record(taskId, tasks.get(taskId)!.caseId, [{ action: 'task.escalated', actor: systemActor, at: local(at), taskId, payload: { deadline, level } }]);

  const service = (pageSize?: number) =>
    createIndicatorService({ db, calendar: async () => calendar, ...(pageSize ? { pageSize } : {}) });

  beforeAll(async () => {
    ({ db } = await tempDatabase(['CG', 'JD']));
    activities = createReadModelActivities({ db });

    // DB-1, a complaint to CG: acknowledged on time, accepted 5 Mar, answered, rated 满意.
    await open('DB-2026-000001', 'complaint', 'CG', '2026-03-02 09:00', '2026-03-03', '2026-03-13');
    await act('DB-2026-000001-T1', { type: 'acknowledge', actor: dept('CG') }, '2026-03-02 10:00');
    await act('DB-2026-000001-T1', { type: 'submit', actor: dept('CG'), report: '已整改', evidence: [] }, '2026-03-04 10:00');
    await act('DB-2026-000001-T1', { type: 'verify', actor: office, decision: 'accept' }, '2026-03-05 10:00');
    await finished('DB-2026-000001', 'DB-2026-000001-T1', '2026-03-05 10:00');
    await caseEvent('DB-2026-000001', 'case.answered', '2026-03-05 11:00', { answer: '已处理', followUpDueAt: eod('2026-03-12') });
    await caseEvent('DB-2026-000001', 'case.rated', '2026-03-06 09:00', { rating: 'satisfied', reason: null });

    // DB-2, inspection to JD, reassigned (转办) to CG on 3 Mar before JD's acknowledgement fell due;
    // CG's new task (due 4 Mar) is acknowledged late on 5 Mar and rejected once.
    await open('DB-2026-000002', 'inspection', 'JD', '2026-03-02 09:00', '2026-03-03', '2026-03-13');
    const reassigned = reassignTask(cases.get('DB-2026-000002')!, { actor: office, taskId: 'DB-2026-000002-T1', toDepartment: 'CG', reason: '职责' }, local('2026-03-03 10:00'));
    const due2 = { ackDueAt: eod('2026-03-04'), rectificationDueAt: eod('2026-03-17') };
    const t2 = newTask({ taskId: reassigned.task.taskId, caseId: 'DB-2026-000002', departmentCode: 'CG', role: 'lead', assignedAt: local('2026-03-03 10:00'), ...due2 });
    await record('DB-2026-000002', 'DB-2026-000002', reassigned.events.map((e) => ({ ...e, payload: { ...e.payload, ...due2 } })), { case: reassigned.state, tasks: [t2] });
    await act('DB-2026-000002-T1', { type: 'transfer', actor: office, toDepartment: 'CG', toTaskId: t2.taskId, reason: '职责' }, '2026-03-03 10:00');
    await act(t2.taskId, { type: 'acknowledge', actor: dept('CG') }, '2026-03-05 09:00');
    await act(t2.taskId, { type: 'submit', actor: dept('CG'), report: '初报', evidence: [] }, '2026-03-09 10:00');
    await act(t2.taskId, { type: 'verify', actor: office, decision: 'reject', comment: '不到位' }, '2026-03-10 10:00');

    // DB-3, opened in February to CG, acknowledged, overdue since 13 Feb (rung 1 on 16 Feb), still open.
    await open('DB-2026-000003', 'inspection', 'CG', '2026-02-02 09:00', '2026-02-03', '2026-02-13');
    await act('DB-2026-000003-T1', { type: 'acknowledge', actor: dept('CG') }, '2026-02-02 10:00');
    await escalate('DB-2026-000003-T1', 'rectification', 1, '2026-02-16 09:00');

    // DB-4, closed in January: nothing of it counts in February or March.
    await open('DB-2026-000004', 'inspection', 'JD', '2026-01-05 09:00', '2026-01-06', '2026-01-16');
    await act('DB-2026-000004-T1', { type: 'acknowledge', actor: dept('JD') }, '2026-01-05 10:00');
    await act('DB-2026-000004-T1', { type: 'submit', actor: dept('JD'), report: '完成', evidence: [] }, '2026-01-07 10:00');
    await act('DB-2026-000004-T1', { type: 'verify', actor: office, decision: 'accept' }, '2026-01-08 10:00');
    await finished('DB-2026-000004', 'DB-2026-000004-T1', '2026-01-08 10:00');
  });
  afterAll(() => db?.destroy());

  const march = { from: '2026-03-01', to: '2026-03-31' };

  it('computes a period from the events the read model holds', async () => {
    const rows = await service().period(march);
    const cg = rows.find((r) => r.departmentCode === 'CG')!;
    const jd = rows.find((r) => r.departmentCode === 'JD')!;
    // CG: DB-1 T1 and DB-2 T2 assigned in March; DB-3 T1 live since February: 3 active.
    expect([cg.counts.tasksAssigned, cg.counts.tasksActive]).toEqual([2, 3]);
    // Acknowledgements judged: DB-1 on time, DB-2 T2 late (due 4 Mar, made 5 Mar) = 1 of 2.
    expect(cg.ackOnTimeRate).toEqual({ numerator: 1, denominator: 2, value: 0.5 });
    // Closed: DB-1; open at 31 Mar: DB-2 T2 (rework) and DB-3 T1: 结案率 1 / 3.
    expect(cg.closureRate).toEqual({ numerator: 1, denominator: 3, value: 1 / 3 });
    // Judged in March: DB-1 on time; DB-2 T2 missed 17 Mar in rework = 1 / 2 (DB-3 was judged in February).
    expect(cg.onTimeClosureRate).toEqual({ numerator: 1, denominator: 2, value: 0.5 });
    // Submissions DB-1, DB-2 T2 = 2; one rejection.
    expect(cg.reworkRate).toEqual({ numerator: 1, denominator: 2, value: 0.5 });
    // Overdue at 31 Mar: DB-3 T1 at rung 1, DB-2 T2 (due 17 Mar, in rework) at rung 0.
    expect(cg.overdueByRung).toEqual({ 0: 1, 1: 1, 2: 0, 3: 0, 4: 0 });
    // DB-1 took 2 → 5 Mar: 3, 4, 5 Mar = 3 working days.
    expect(cg.workingDaysToClose).toEqual({ count: 1, mean: 3, p90: 3 });
    // Hotline: DB-1 acknowledged on time, rated 满意.
    expect(cg.hotline.responseRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(cg.hotline.satisfactionRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    // JD: DB-2 T1 assigned and transferred before any deadline; DB-4 ended in January.
    expect([jd.counts.tasksAssigned, jd.counts.tasksActive, jd.counts.ackDue, jd.counts.closed, jd.counts.openAtEnd]).toEqual([1, 1, 0, 0, 0]);
  });

  it('reads the same figures page by page as all at once', async () => {
    expect(await service(1).period(march)).toEqual(await service().period(march));
  });

  it('gives March the same figures after April happened', async () => {
    const before = await service().period(march);
    await act('DB-2026-000003-T1', { type: 'submit', actor: dept('CG'), report: '终于完成', evidence: [] }, '2026-04-01 10:00');
    await act('DB-2026-000003-T1', { type: 'verify', actor: office, decision: 'accept' }, '2026-04-02 10:00');
    await finished('DB-2026-000003', 'DB-2026-000003-T1', '2026-04-02 10:00');
    await caseEvent('DB-2026-000001', 'case.reopened', '2026-04-03 10:00', { taskId: 'DB-2026-000001-T2', department: 'CG', ackDueAt: eod('2026-04-07'), rectificationDueAt: eod('2026-04-20') });
    expect(await service().period(march)).toEqual(before);
    const april = (await service().period({ from: '2026-04-01', to: '2026-04-30' })).find((r) => r.departmentCode === 'CG')!;
    // DB-3 closed 2 Apr (judged late in February, not again); DB-1 reopened (重办) to CG, whose new
    // task misses its 20 Apr deadline unacknowledged: the one closure judged in April.
    expect([april.counts.closed, april.counts.closedOnTime, april.counts.closureDue, april.counts.reopened]).toEqual([1, 0, 1, 1]);
    expect([april.counts.ackDue, april.counts.acknowledgedOnTime]).toEqual([1, 0]);
  });

  it('builds a scorecard: the trend by month and the whole range, one department only when asked', async () => {
    const scorecards = createScorecardService({ db, indicators: service() });
    const card = await scorecards.scorecard({ from: '2026-02-01', to: '2026-03-31', by: 'month', department: 'CG' }, { role: 'office' });
    expect(card.periods).toEqual([{ from: '2026-02-01', to: '2026-02-28' }, march]);
    expect(card.departments.map((d) => d.departmentCode)).toEqual(['CG']);
    const [cg] = card.departments;
    // February: DB-3 assigned, acknowledged on time, missed 13 Feb, overdue at rung 1 at 28 Feb.
    expect(cg!.trend[0]!.counts.tasksAssigned).toBe(1);
    expect(cg!.trend[0]!.onTimeClosureRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    expect(cg!.trend[0]!.overdueByRung[1]).toBe(1);
    expect(cg!.trend[1]!.ackOnTimeRate.value).toBe(0.5);
    // The whole range: 3 tasks assigned; closures judged DB-3 late, DB-1 on time, DB-2 T2 late = 1 / 3.
    expect(cg!.total.counts.tasksAssigned).toBe(3);
    expect(cg!.total.onTimeClosureRate).toEqual({ numerator: 1, denominator: 3, value: 1 / 3 });
    expect(cg!.total.assessment).toBeNull();
    // A department sees only its own; ranges are bounded.
    await expect(scorecards.scorecard({ from: '2026-03-01', to: '2026-03-31', by: 'month', department: 'CG' }, { role: 'department', department: 'JD' })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(scorecards.scorecard({ from: '2024-01-01', to: '2026-03-31', by: 'month' }, { role: 'office' })).rejects.toMatchObject({ code: 'invalid_input', details: [{ path: 'to' }] });
    await expect(scorecards.scorecard({ from: '2024-04-01', to: '2026-03-31', by: 'week' }, { role: 'office' })).rejects.toMatchObject({ code: 'invalid_input', details: [{ path: 'by' }] });
    await expect(scorecards.scorecard({ from: '2026-03-01', to: '2026-03-31', by: 'month', department: 'XX' }, { role: 'office' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
