import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../../domain/calendar';
import type { DepartmentIndicators } from '../../domain/indicator.types';
import {
  computeIndicatorSeries,
  computeIndicators,
  type IndicatorCase,
  type IndicatorEvent,
  nearestRank,
  periodsOf,
} from '../../domain/indicators';

// Every expected figure below is worked out by hand in the comments beside it; none comes from
// the code under test. Times are Asia/Shanghai (UTC+8), written as local 'YYYY-MM-DD HH:mm'.

/** 2026 as the State Council arranged it around the Spring Festival: 15–23 Feb off, Sat 14 and 28 Feb worked (调休). */
const calendar = new WorkingCalendar('Asia/Shanghai', {
  holidays: new Set(['2026-02-15', '2026-02-16', '2026-02-17', '2026-02-18', '2026-02-19', '2026-02-20', '2026-02-21', '2026-02-22', '2026-02-23']),
  workdays: new Set(['2026-02-14', '2026-02-28']),
  coveredYears: new Set([2026]),
});

const local = (t: string): string => DateTime.fromFormat(t, 'yyyy-MM-dd HH:mm', { zone: 'Asia/Shanghai' }).toUTC().toISO()!;
/** The end of a local day: how deadlines are stored. */
const eod = (d: string): string => DateTime.fromISO(d, { zone: 'Asia/Shanghai' }).endOf('day').toUTC().toISO()!;

const departments = [
  { code: 'CG', name: '城管局' },
  { code: 'JD', name: '街道' },
  { code: 'SJ', name: '市场监管局' },
];

interface Fixture {
  case: IndicatorCase;
  events: IndicatorEvent[];
}

/** A case and its events, written as the workflows write them; each event `[task, action, local time, payload]`. */
function fixture(id: string, source: string, lead: string, events: [string | null, string, string, Record<string, unknown>?][]): Fixture {
  return {
    case: { id, source, leadDepartment: lead },
    events: events.map(([task, action, at, payload]) => ({ taskId: task ? `${id}-${task}` : null, action, at: local(at), payload: payload ?? {} })),
  };
}
const assigned = (department: string, ack: string | null, rect: string | null, extra: Record<string, unknown> = {}) => ({
  department,
  role: 'lead',
  ackDueAt: ack === null ? null : eod(ack),
  rectificationDueAt: rect === null ? null : eod(rect),
  ...extra,
});

const march = { from: '2026-03-01', to: '2026-03-31' };
const april = { from: '2026-04-01', to: '2026-04-30' };

// The fixtures (March 2026: Mon 2 Mar … Tue 31 Mar, no holiday).
const cases: Fixture[] = [
  // A, CG: acknowledged on time, one rework (返工), accepted on the deadline's day.
  fixture('A', 'inspection', 'CG', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('CG', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-02 10:00'],
    ['T1', 'task.submitted', '2026-03-10 10:00'],
    ['T1', 'task.rejected', '2026-03-11 10:00'],
    ['T1', 'task.submitted', '2026-03-12 10:00'],
    ['T1', 'task.accepted', '2026-03-13 16:00'],
  ]),
  // B, CG: acknowledged a day late (rung 1 on the acknowledgement), extended before its deadline,
  // submitted by the extended deadline and accepted after it (the office's turn: still on time).
  fixture('B', 'inspection', 'CG', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('CG', '2026-03-03', '2026-03-06')],
    ['T1', 'task.escalated', '2026-03-04 00:00', { deadline: 'acknowledgement', level: 1 }],
    ['T1', 'task.acknowledged', '2026-03-04 09:00'],
    ['T1', 'task.extension_requested', '2026-03-04 10:00', { workingDays: 3 }],
    ['T1', 'task.extension_granted', '2026-03-05 10:00', { workingDays: 3, from: eod('2026-03-06'), rectificationDueAt: eod('2026-03-11') }],
    ['T1', 'task.submitted', '2026-03-11 10:00'],
    ['T1', 'task.accepted', '2026-03-16 10:00'],
  ]),
  // C, CG: rectification overdue, rungs 1 and 2 reached in March, accepted only in April.
  fixture('C', 'inspection', 'CG', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('CG', '2026-03-03', '2026-03-09')],
    ['T1', 'task.acknowledged', '2026-03-02 11:00'],
    ['T1', 'task.escalated', '2026-03-10 00:00', { deadline: 'rectification', level: 1 }],
    ['T1', 'task.escalated', '2026-03-12 00:00', { deadline: 'rectification', level: 2 }],
    ['T1', 'task.submitted', '2026-04-01 10:00'],
    ['T1', 'task.accepted', '2026-04-02 10:00'],
  ]),
  // D: JD's task transferred (转办) to CG before its acknowledgement fell due; CG's new task is
  // acknowledged on time and submitted; its deadline passes while the office reviews.
  fixture('D', 'inspection', 'JD', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('JD', '2026-03-03', '2026-03-13')],
    ['T1', 'task.transferred', '2026-03-03 10:00', { toDepartment: 'CG', toTaskId: 'D-T2' }],
    ['T2', 'task.assigned', '2026-03-03 10:00', assigned('CG', '2026-03-04', '2026-03-17', { transferredFrom: 'D-T1' })],
    ['T2', 'task.acknowledged', '2026-03-04 15:00'],
    ['T2', 'task.submitted', '2026-03-16 10:00'],
  ]),
  // E, SJ: suspended (挂起) for three working days (5, 6, 9 Mar); the resume moves the deadline
  // from 6 to 11 Mar; accepted on 11 Mar.
  fixture('E', 'inspection', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-06')],
    ['T1', 'task.acknowledged', '2026-03-03 09:00'],
    ['T1', 'task.suspended', '2026-03-05 10:00', { reason: '等待鉴定' }],
    ['T1', 'task.resumed', '2026-03-10 10:00', { pausedWorkingDays: 3, ackDueAt: eod('2026-03-03'), rectificationDueAt: eod('2026-03-11') }],
    ['T1', 'task.submitted', '2026-03-11 09:00'],
    ['T1', 'task.accepted', '2026-03-11 15:00'],
  ]),
  // F, SJ: withdrawn (撤销) before its rectification deadline.
  fixture('F', 'inspection', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-04')],
    ['T1', 'task.acknowledged', '2026-03-02 09:30'],
    ['T1', 'task.withdrawn', '2026-03-04 12:00', { reason: '重复' }],
    [null, 'case.withdrawn', '2026-03-04 12:00'],
  ]),
  // G, JD: a case from before deadlines existed (no deadlines at all).
  fixture('G', 'inspection', 'JD', [
    ['T1', 'task.assigned', '2026-03-02 09:00', { department: 'JD', role: 'lead' }],
    ['T1', 'task.acknowledged', '2026-03-02 10:00'],
    ['T1', 'task.submitted', '2026-03-03 10:00'],
    ['T1', 'task.accepted', '2026-03-04 10:00'],
  ]),
  // H, hotline: JD answers, the complainant is dissatisfied, the office upholds it and reopens the
  // case (重办) with a new task for CG, which acknowledges late; the second answer goes unrated.
  fixture('H', 'hotline', 'JD', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('JD', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-03 17:00'],
    ['T1', 'task.submitted', '2026-03-04 10:00'],
    ['T1', 'task.accepted', '2026-03-05 10:00'],
    [null, 'case.closed', '2026-03-05 10:00'],
    [null, 'case.answered', '2026-03-06 10:00', { followUpDueAt: eod('2026-03-13') }],
    [null, 'case.rated', '2026-03-09 10:00', { rating: 'dissatisfied', reason: '没修好' }],
    [null, 'case.reopened', '2026-03-10 10:00', { taskId: 'H-T2', department: 'CG', ackDueAt: eod('2026-03-11'), rectificationDueAt: eod('2026-03-20') }],
    ['T2', 'task.acknowledged', '2026-03-12 09:00'],
    ['T2', 'task.submitted', '2026-03-18 10:00'],
    ['T2', 'task.accepted', '2026-03-19 10:00'],
    [null, 'case.answered', '2026-03-20 10:00', { followUpDueAt: eod('2026-03-27') }],
    [null, 'case.follow_up_expired', '2026-03-28 00:00', { followUpDueAt: eod('2026-03-27') }],
  ]),
  // I, J, K, L: complaints to SJ, each acknowledged on 2 Mar (on time).
  fixture('I', 'complaint', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-02 12:00'],
    ['T1', 'task.submitted', '2026-03-05 10:00'],
    ['T1', 'task.accepted', '2026-03-06 10:00'],
    [null, 'case.answered', '2026-03-06 11:00'],
    [null, 'case.rated', '2026-03-09 10:00', { rating: 'basically_satisfied' }],
  ]),
  fixture('J', 'complaint', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-02 12:00'],
    ['T1', 'task.submitted', '2026-03-06 10:00'],
    ['T1', 'task.accepted', '2026-03-09 10:00'],
    [null, 'case.answered', '2026-03-09 11:00'],
    [null, 'case.rated', '2026-03-10 10:00', { rating: 'dissatisfied', reason: '态度' }],
    [null, 'case.rating_dismissed', '2026-03-12 10:00', { comment: '已按规定办理' }],
  ]),
  fixture('K', 'complaint', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-02 12:00'],
    ['T1', 'task.submitted', '2026-03-04 10:00'],
    ['T1', 'task.accepted', '2026-03-05 10:00'],
    [null, 'case.answered', '2026-03-05 11:00'],
    [null, 'case.rated', '2026-03-06 10:00', { rating: 'satisfied' }],
  ]),
  // L: late (rung 1 on 14 Mar), accepted 20 Mar; rated 不满意 on 30 Mar, reopened only on 3 Apr.
  fixture('L', 'complaint', 'SJ', [
    ['T1', 'task.assigned', '2026-03-02 09:00', assigned('SJ', '2026-03-03', '2026-03-13')],
    ['T1', 'task.acknowledged', '2026-03-02 12:00'],
    ['T1', 'task.escalated', '2026-03-14 00:00', { deadline: 'rectification', level: 1 }],
    ['T1', 'task.submitted', '2026-03-19 10:00'],
    ['T1', 'task.accepted', '2026-03-20 10:00'],
    [null, 'case.answered', '2026-03-20 11:00'],
    [null, 'case.rated', '2026-03-30 10:00', { rating: 'dissatisfied', reason: '仍有问题' }],
    [null, 'case.reopened', '2026-04-03 10:00', { taskId: 'L-T2', department: 'SJ', ackDueAt: eod('2026-04-07'), rectificationDueAt: eod('2026-04-20') }],
  ]),
];

const byCode = (rows: DepartmentIndicators[]) => Object.fromEntries(rows.map((r) => [r.departmentCode, r]));
const upTo = (end: string) => cases.map((c) => ({ case: c.case, events: c.events.filter((e) => e.at <= end) }));

describe('indicators of March 2026 from hand-computed fixtures', () => {
  const rows = byCode(computeIndicators({ period: march, calendar, departments, cases }));

  it('CG: a late acknowledgement, a transfer in, a reopened task, an extension, an overdue task at rung 2', () => {
    const cg = rows.CG!;
    expect(cg.departmentName).toBe('城管局');
    expect(cg.period).toEqual(march);
    expect(cg.counts).toEqual({
      // A, B, C, D-T2 (transferred in), H-T2 (重办).
      tasksAssigned: 5,
      tasksActive: 5,
      // Acknowledged in March: A, B (late), C, D-T2, H-T2 (late) = 5; on time: A, C, D-T2 = 3.
      acknowledged: 5,
      acknowledgedOnTime: 3,
      // Judged: A, C, D-T2 on time; B missed 3 Mar, H-T2 missed 11 Mar = 5.
      ackDue: 5,
      // Accepted in March: A (13 Mar), B (16 Mar), H-T2 (19 Mar).
      closed: 3,
      // A by 13 Mar, B by its extended 11 Mar (submitted 11 Mar, the office accepted later), H-T2 by 20 Mar.
      closedOnTime: 3,
      // Those 3 + C missed 9 Mar; D-T2's deadline passed while submitted: not judged = 4.
      closureDue: 4,
      // C (acknowledged) and D-T2 (submitted) at 31 Mar.
      openAtEnd: 2,
      // A twice, B, D-T2, H-T2 = 5; A rejected once.
      submissions: 5,
      rejections: 1,
      extensionsGranted: 1,
      tasksExtended: 1,
      // Rung 1: B (acknowledgement), C (rectification) = 2; rung 2: C = 1.
      rungsReached: { 1: 2, 2: 1, 3: 0, 4: 0 },
      // H reopened to CG.
      reopened: 1,
    });
    expect(cg.ackOnTimeRate).toEqual({ numerator: 3, denominator: 5, value: 0.6 });
    // 结案率 = closed / (closed + open at end) = 3 / (3 + 2).
    expect(cg.closureRate).toEqual({ numerator: 3, denominator: 5, value: 0.6 });
    expect(cg.onTimeClosureRate).toEqual({ numerator: 3, denominator: 4, value: 0.75 });
    // 返工率 = 1 / 5.
    expect(cg.reworkRate).toEqual({ numerator: 1, denominator: 5, value: 0.2 });
    // 延期率 = tasks extended (B) / tasks active (5).
    expect(cg.extensionRate).toEqual({ numerator: 1, denominator: 5, value: 0.2 });
    // C: overdue since 9 Mar, highest rung 2; D-T2 is submitted (the office's turn): not overdue.
    expect(cg.overdueByRung).toEqual({ 0: 0, 1: 0, 2: 1, 3: 0, 4: 0 });
    // Working days after assignment up to acceptance: A 2→13 Mar = 3–6 (4) + 9–13 (5) = 9;
    // B 2→16 Mar = 9 + 16 Mar = 10; H-T2 10→19 Mar = 11–13 (3) + 16–19 (4) = 7.
    // mean = (9 + 10 + 7) / 3 = 26/3; p90 nearest rank: ⌈0.9·3⌉ = 3rd of [7, 9, 10] = 10.
    expect(cg.workingDaysToClose.count).toBe(3);
    expect(cg.workingDaysToClose.mean).toBeCloseTo(26 / 3, 10);
    expect(cg.workingDaysToClose.p90).toBe(10);
    // Hotline (case H only): H-T2 acknowledged late → 0/1; its second answer expired unrated → 视为满意.
    expect(cg.hotline.responseRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    expect(cg.hotline.followUps).toEqual({ concluded: 1, satisfied: 0, basicallySatisfied: 0, dissatisfied: 0, dismissed: 0, unrated: 1 });
    expect(cg.hotline.resolutionRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(cg.hotline.satisfactionRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
  });

  it('JD: the transferred task is not judged, the task without deadlines is closed but not rated, an upheld 不满意', () => {
    const jd = rows.JD!;
    expect(jd.counts).toEqual({
      // D-T1 (transferred away later), G, H-T1.
      tasksAssigned: 3,
      tasksActive: 3,
      // G and H-T1; only H-T1 had a deadline (3 Mar, met at 17:00).
      acknowledged: 2,
      acknowledgedOnTime: 1,
      // D-T1 left before its acknowledgement fell due; G has none: 1.
      ackDue: 1,
      closed: 2,
      closedOnTime: 1,
      closureDue: 1,
      openAtEnd: 0,
      submissions: 2,
      rejections: 0,
      extensionsGranted: 0,
      tasksExtended: 0,
      rungsReached: { 1: 0, 2: 0, 3: 0, 4: 0 },
      // H's reopening counts against CG, which got the new task.
      reopened: 0,
    });
    expect(jd.ackOnTimeRate.value).toBe(1);
    expect(jd.closureRate).toEqual({ numerator: 2, denominator: 2, value: 1 });
    expect(jd.onTimeClosureRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(jd.reworkRate).toEqual({ numerator: 0, denominator: 2, value: 0 });
    expect(jd.extensionRate).toEqual({ numerator: 0, denominator: 3, value: 0 });
    // G 2→4 Mar = 2; H-T1 2→5 Mar = 3; mean 2.5; p90 = ⌈0.9·2⌉ = 2nd of [2, 3] = 3.
    expect(jd.workingDaysToClose).toEqual({ count: 2, mean: 2.5, p90: 3 });
    // H-T1 acknowledged on time; the 不满意 on its answer was upheld (重办): not resolved, not satisfied.
    expect(jd.hotline.responseRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(jd.hotline.followUps).toEqual({ concluded: 1, satisfied: 0, basicallySatisfied: 0, dissatisfied: 1, dismissed: 0, unrated: 0 });
    expect(jd.hotline.resolutionRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    expect(jd.hotline.satisfactionRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
  });

  it('SJ: a suspended clock, a withdrawn task, a late closure, a dismissed 不满意 and one still undecided', () => {
    const sj = rows.SJ!;
    expect(sj.counts).toEqual({
      // E, F, I, J, K, L.
      tasksAssigned: 6,
      tasksActive: 6,
      acknowledged: 6,
      acknowledgedOnTime: 6,
      ackDue: 6,
      // E, I, J, K, L; F was withdrawn.
      closed: 5,
      // E by its moved deadline 11 Mar; I, J, K by 13 Mar; L missed 13 Mar.
      closedOnTime: 4,
      // F withdrawn before its deadline: not judged.
      closureDue: 5,
      openAtEnd: 0,
      submissions: 5,
      rejections: 0,
      extensionsGranted: 0,
      tasksExtended: 0,
      rungsReached: { 1: 1, 2: 0, 3: 0, 4: 0 },
      // L is reopened only in April.
      reopened: 0,
    });
    expect(sj.onTimeClosureRate).toEqual({ numerator: 4, denominator: 5, value: 0.8 });
    expect(sj.closureRate).toEqual({ numerator: 5, denominator: 5, value: 1 });
    // E 2→11 Mar = 3–6 (4) + 9–11 (3) = 7, less 3 suspended = 4; I 2→6 = 4; J 2→9 = 5; K 2→5 = 3;
    // L 2→20 = 4 + 5 + 5 = 14. Sum 30, mean 6; p90 = ⌈0.9·5⌉ = 5th of [3, 4, 4, 5, 14] = 14.
    expect(sj.workingDaysToClose).toEqual({ count: 5, mean: 6, p90: 14 });
    // I, J, K, L acknowledged on time (E and F are not from the public).
    expect(sj.hotline.responseRate).toEqual({ numerator: 4, denominator: 4, value: 1 });
    // K 满意, I 基本满意, J's 不满意 dismissed; L's 不满意 awaits the office at 31 Mar: not concluded.
    expect(sj.hotline.followUps).toEqual({ concluded: 3, satisfied: 1, basicallySatisfied: 1, dissatisfied: 0, dismissed: 1, unrated: 0 });
    // 解决率 = (3 − 0 upheld) / 3; 满意率 = (1 + 1 + 0 unrated) / (1 + 1 + 0 + 0), the dismissed one left out.
    expect(sj.hotline.resolutionRate).toEqual({ numerator: 3, denominator: 3, value: 1 });
    expect(sj.hotline.satisfactionRate).toEqual({ numerator: 2, denominator: 2, value: 1 });
  });

  it('gives the same figures for March whatever happened after it', () => {
    const atTheTime = computeIndicators({ period: march, calendar, departments, cases: upTo(local('2026-03-31 23:59')) });
    const later = computeIndicators({ period: march, calendar, departments, cases });
    expect(later).toEqual(atTheTime);
    // And as the first period of a series running on into April.
    const [inSeries, aprilRows] = computeIndicatorSeries({ periods: [march, april], calendar, departments, cases });
    expect(inSeries).toEqual(later);
    const apr = byCode(aprilRows!);
    // C accepted 2 Apr: closed in April, but judged late in March already (not judged again).
    expect([apr.CG!.counts.closed, apr.CG!.counts.closedOnTime, apr.CG!.counts.closureDue]).toEqual([1, 0, 0]);
    // C took 2 Mar → 2 Apr: 3–6 (4) + 9–13 (5) + 16–20 (5) + 23–27 (5) + 30, 31 Mar, 1, 2 Apr (4) = 23.
    expect(apr.CG!.workingDaysToClose).toEqual({ count: 1, mean: 23, p90: 23 });
    // D-T2 still submitted at 30 Apr; C done: open 1, nothing overdue.
    expect(apr.CG!.counts.openAtEnd).toBe(1);
    expect(apr.CG!.overdueByRung).toEqual({ 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 });
    // L reopened on 3 Apr: 重办 against SJ, a new task, the 不满意 upheld.
    expect([apr.SJ!.counts.reopened, apr.SJ!.counts.tasksAssigned, apr.SJ!.hotline.followUps.dissatisfied]).toEqual([1, 1, 1]);
    // L-T2 due 7 Apr, never acknowledged: missed; overdue at 30 Apr (its rectification due 20 Apr) at rung 0.
    expect([apr.SJ!.counts.ackDue, apr.SJ!.counts.acknowledgedOnTime]).toEqual([1, 0]);
    expect(apr.SJ!.overdueByRung[0]).toBe(1);
  });
});

describe('edges', () => {
  it('a transfer after a missed deadline leaves the miss with the department that held the task', () => {
    const c = fixture('X', 'inspection', 'JD', [
      ['T1', 'task.assigned', '2026-03-02 09:00', assigned('JD', '2026-03-03', '2026-03-13')],
      ['T1', 'task.escalated', '2026-03-04 00:00', { deadline: 'acknowledgement', level: 1 }],
      ['T1', 'task.transferred', '2026-03-05 10:00', { toDepartment: 'CG', toTaskId: 'X-T2' }],
      ['T2', 'task.assigned', '2026-03-05 10:00', assigned('CG', '2026-03-06', '2026-03-20', { transferredFrom: 'X-T1' })],
      ['T2', 'task.acknowledged', '2026-03-06 09:00'],
    ]);
    const rows = byCode(computeIndicators({ period: march, calendar, departments, cases: [c] }));
    // JD: judged late at 3 Mar, rung 1 reached, no longer open at the end.
    expect([rows.JD!.counts.ackDue, rows.JD!.counts.acknowledgedOnTime, rows.JD!.counts.rungsReached[1], rows.JD!.counts.openAtEnd]).toEqual([1, 0, 1, 0]);
    // CG: a new task on its own deadlines: on time, then overdue at 31 Mar (due 20 Mar) with no rung.
    expect([rows.CG!.counts.tasksAssigned, rows.CG!.counts.ackDue, rows.CG!.counts.acknowledgedOnTime]).toEqual([1, 1, 1]);
    expect(rows.CG!.overdueByRung).toEqual({ 0: 1, 1: 0, 2: 0, 3: 0, 4: 0 });
    expect(rows.JD!.overdueByRung).toEqual({ 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 });
  });

  it('an extension granted after the deadline passed does not undo the miss; a rung reached on both deadlines counts the task once', () => {
    const c = fixture('Y', 'inspection', 'CG', [
      ['T1', 'task.assigned', '2026-03-02 09:00', assigned('CG', '2026-03-03', '2026-03-06')],
      ['T1', 'task.escalated', '2026-03-04 00:00', { deadline: 'acknowledgement', level: 1 }],
      ['T1', 'task.acknowledged', '2026-03-04 10:00'],
      ['T1', 'task.extension_requested', '2026-03-05 10:00', { workingDays: 5 }],
      ['T1', 'task.escalated', '2026-03-07 00:00', { deadline: 'rectification', level: 1 }],
      ['T1', 'task.extension_granted', '2026-03-09 10:00', { workingDays: 5, rectificationDueAt: eod('2026-03-13') }],
      ['T1', 'task.submitted', '2026-03-12 10:00'],
      ['T1', 'task.accepted', '2026-03-12 15:00'],
    ]);
    const cg = byCode(computeIndicators({ period: march, calendar, departments, cases: [c] })).CG!;
    // Missed 6 Mar while acknowledged (owing work): late, though accepted by the extended 13 Mar.
    expect([cg.counts.closed, cg.counts.closedOnTime, cg.counts.closureDue]).toEqual([1, 0, 1]);
    expect(cg.counts.rungsReached).toEqual({ 1: 1, 2: 0, 3: 0, 4: 0 });
    expect(cg.extensionRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
  });

  it('counts working days across the Spring Festival with its make-up Saturday (调休)', () => {
    // Assigned Fri 13 Feb; working days after it up to Thu 26 Feb: Sat 14 Feb (调休, worked) = 1,
    // 15–23 Feb off = 0, Tue 24, Wed 25, Thu 26 = 3: 4 working days. Acknowledged Sat 14 Feb on
    // its deadline (1 working day after 13 Feb is the make-up Saturday).
    const c = fixture('Z', 'inspection', 'CG', [
      ['T1', 'task.assigned', '2026-02-13 09:00', assigned('CG', '2026-02-14', '2026-02-27')],
      ['T1', 'task.acknowledged', '2026-02-14 10:00'],
      ['T1', 'task.submitted', '2026-02-25 10:00'],
      ['T1', 'task.accepted', '2026-02-26 10:00'],
    ]);
    const cg = byCode(computeIndicators({ period: { from: '2026-02-01', to: '2026-02-28' }, calendar, departments, cases: [c] })).CG!;
    expect(cg.workingDaysToClose).toEqual({ count: 1, mean: 4, p90: 4 });
    expect(cg.ackOnTimeRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
  });

  it('lists every department, with nothing to rate as null', () => {
    const rows = computeIndicators({ period: march, calendar, departments, cases: [] });
    expect(rows.map((r) => r.departmentCode)).toEqual(['CG', 'JD', 'SJ']);
    expect(rows[0]!.ackOnTimeRate).toEqual({ numerator: 0, denominator: 0, value: null });
    expect(rows[0]!.workingDaysToClose).toEqual({ count: 0, mean: null, p90: null });
  });

  it('p90 is the nearest rank: the ⌈0.9·n⌉-th smallest', () => {
    // n = 10: the 9th of 1..10 = 9; n = 11: ⌈9.9⌉ = 10th = 10; n = 1: the only one.
    expect(nearestRank([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], 90)).toBe(9);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(nearestRank([42], 90)).toBe(42);
    expect(nearestRank([], 90)).toBeNull();
  });

  it('cuts a range into weeks (Monday to Sunday) and months in the office zone, clipped at both ends', () => {
    // Wed 25 Feb 2026 … Tue 10 Mar 2026.
    expect(periodsOf({ from: '2026-02-25', to: '2026-03-10' }, 'week')).toEqual([
      { from: '2026-02-25', to: '2026-03-01' },
      { from: '2026-03-02', to: '2026-03-08' },
      { from: '2026-03-09', to: '2026-03-10' },
    ]);
    expect(periodsOf({ from: '2026-01-15', to: '2026-03-10' }, 'month')).toEqual([
      { from: '2026-01-15', to: '2026-01-31' },
      { from: '2026-02-01', to: '2026-02-28' },
      { from: '2026-03-01', to: '2026-03-10' },
    ]);
  });
});
