import { describe, expect, it } from 'vitest';
import { assess, assessmentRulesSchema, defaultAssessmentRules, rank, rulesInForce } from '../../domain/assessment';
import { bulletinNumber, composeDraft, decidedItems, hadWork, periodBefore, periodLabel, proposedItems, trendPeriods } from '../../domain/bulletin';
import type { BulletinDecision } from '../../domain/bulletin.types';
import type { DepartmentIndicators, Period } from '../../domain/indicator.types';
import { emptyIndicators, ratio } from '../../domain/indicators';

const period: Period = { from: '2026-06-08', to: '2026-06-14' };

/** Indicators with the counts a test names, the rest empty. */
function indicators(code: string, figures: {
  overdue?: Partial<Record<0 | 1 | 2 | 3 | 4, number>>;
  rungs?: Partial<Record<1 | 2 | 3 | 4, number>>;
  rejections?: number;
  acknowledged?: number;
  acknowledgedOnTime?: number;
  reopened?: number;
  onTime?: [number, number];
  ackOnTime?: [number, number];
  satisfied?: [number, number];
  assigned?: number;
}): DepartmentIndicators {
  const base = emptyIndicators(code, `部门${code}`, period);
  return {
    ...base,
    counts: {
      ...base.counts,
      tasksAssigned: figures.assigned ?? 1,
      rejections: figures.rejections ?? 0,
      acknowledged: figures.acknowledged ?? 0,
      acknowledgedOnTime: figures.acknowledgedOnTime ?? 0,
      reopened: figures.reopened ?? 0,
      rungsReached: { 1: 0, 2: 0, 3: 0, 4: 0, ...figures.rungs },
    },
    overdueByRung: { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, ...figures.overdue },
    onTimeClosureRate: figures.onTime ? ratio(...figures.onTime) : base.onTimeClosureRate,
    ackOnTimeRate: figures.ackOnTime ? ratio(...figures.ackOnTime) : base.ackOnTimeRate,
    hotline: { ...base.hotline, satisfactionRate: figures.satisfied ? ratio(...figures.satisfied) : base.hotline.satisfactionRate },
  };
}

describe('assessment points (考核扣分)', () => {
  it('takes points off per occurrence and weighs the parts that have something to rate', () => {
    // Deductions by the default rules: 2 tasks overdue at rung 2 (2 × 1) + 1 at rung 3 (2) = 4;
    // one task reached 通报批评 (2) and one 约谈 (3); 3 rejections (3 × 0.5 = 1.5); 4 late
    // acknowledgements of 5 (4 × 0.2 = 0.8); one 重办 (1). Total 4 + 2 + 3 + 1.5 + 0.8 + 1 = 12.3.
    // Points 100 − 12.3 = 87.7. Parts: points 87.7 × 0.6, on time 3/4 = 75 × 0.2, ack 1/5 = 20 ×
    // 0.1; no satisfaction rate (0/0), so the weights count out of 0.9:
    // (52.62 + 15 + 2) / 0.9 = 77.3555… → 77.36.
    const result = assess(
      indicators('CG', {
        overdue: { 2: 2, 3: 1 },
        rungs: { 3: 1, 4: 1 },
        rejections: 3,
        acknowledged: 5,
        acknowledgedOnTime: 1,
        reopened: 1,
        onTime: [3, 4],
        ackOnTime: [1, 5],
      }),
      defaultAssessmentRules,
    );
    expect(result.points).toBe(87.7);
    expect(result.score).toBe(77.36);
    expect(result.deductions).toEqual({
      overdue_rung_2: 2,
      overdue_rung_3: 2,
      criticism: 2,
      interview: 3,
      rework: 1.5,
      late_acknowledgement: 0.8,
      reopened: 1,
    });
  });

  it('never goes below zero points, and follows the office’s own weights and base', () => {
    const rules = assessmentRulesSchema.parse({ baseScore: 10, pointsOff: { rework: 4 }, weights: { points: 1, onTimeClosureRate: 0, ackOnTimeRate: 0, satisfactionRate: 0 } });
    // 3 rejections × 4 = 12 off a base of 10: 0 points, score 0.
    expect(assess(indicators('CG', { rejections: 3 }), rules)).toMatchObject({ points: 0, score: 0 });
    // 1 rejection: 6 of 10 points = 60 on the 0–100 scale.
    expect(assess(indicators('CG', { rejections: 1 }), rules)).toMatchObject({ points: 6, score: 60 });
  });

  it('refuses rules with all weights 0 or negative points, naming the field', () => {
    const zero = assessmentRulesSchema.safeParse({ weights: { points: 0, onTimeClosureRate: 0, ackOnTimeRate: 0, satisfactionRate: 0 } });
    expect(zero.success).toBe(false);
    const negative = assessmentRulesSchema.safeParse({ pointsOff: { rework: -1 } });
    expect(negative.success).toBe(false);
    expect(negative.error?.issues[0]?.path).toEqual(['pointsOff', 'rework']);
  });

  it('ranks by score, then on-time rate, then code; equal score and rate share a rank', () => {
    const rules = defaultAssessmentRules;
    const ranked = rank([
      assess(indicators('SJ', { rejections: 2, onTime: [1, 2] }), rules),
      assess(indicators('JD', { onTime: [2, 2] }), rules),
      assess(indicators('CG', { onTime: [2, 2] }), rules),
      assess(indicators('ZZ', { rejections: 2, onTime: [1, 2] }), rules),
    ]);
    // CG and JD: 100 points, 100% → (60 + 20) / 0.8 = 100. SJ and ZZ: 99 points, 50% →
    // (59.4 + 10) / 0.8 = 86.75.
    expect(ranked.map((r) => [r.rank, r.departmentCode, r.score])).toEqual([
      [1, 'CG', 100],
      [1, 'JD', 100],
      [3, 'SJ', 86.75],
      [3, 'ZZ', 86.75],
    ]);
  });

  it('scores a period by the version in force on its first day', () => {
    const versions = [
      { version: 1, effectiveFrom: '2026-01-01' },
      { version: 2, effectiveFrom: '2026-07-01' },
      { version: 3, effectiveFrom: '2026-07-01' },
    ];
    expect(rulesInForce(versions, '2025-12-31')).toBeNull();
    expect(rulesInForce(versions, '2026-06-30')?.version).toBe(1);
    expect(rulesInForce(versions, '2026-07-01')?.version).toBe(3);
  });
});

describe('bulletin periods and drafts', () => {
  it('covers the last complete week or month before the schedule fires, in the office zone', () => {
    // Monday 2026-06-15 09:00 in Shanghai is 01:00 UTC: the week before is 06-08..06-14.
    expect(periodBefore(new Date('2026-06-15T01:00:00Z'), 'Asia/Shanghai', 'week')).toEqual({ from: '2026-06-08', to: '2026-06-14' });
    // Sunday 2026-06-14 23:30 UTC is already Monday 07:30 in Shanghai.
    expect(periodBefore(new Date('2026-06-14T23:30:00Z'), 'Asia/Shanghai', 'week')).toEqual({ from: '2026-06-08', to: '2026-06-14' });
    // ... but still Sunday in UTC: the week before that.
    expect(periodBefore(new Date('2026-06-14T23:30:00Z'), 'UTC', 'week')).toEqual({ from: '2026-06-01', to: '2026-06-07' });
    expect(periodBefore(new Date('2026-03-01T02:00:00Z'), 'Asia/Shanghai', 'month')).toEqual({ from: '2026-02-01', to: '2026-02-28' });
  });

  it('goes back period by period for the trend: weeks, or calendar months', () => {
    expect(trendPeriods(period, 3)).toEqual([
      { from: '2026-05-25', to: '2026-05-31' },
      { from: '2026-06-01', to: '2026-06-07' },
      period,
    ]);
    expect(trendPeriods({ from: '2026-03-01', to: '2026-03-31' }, 2)).toEqual([
      { from: '2026-02-01', to: '2026-02-28' },
      { from: '2026-03-01', to: '2026-03-31' },
    ]);
    expect(periodLabel({ from: '2026-03-01', to: '2026-03-31' })).toBe('2026-03');
    expect(periodLabel(period)).toBe('06-08~06-14');
  });

  const criticism = (taskId: string, level: number, department = 'JD') => ({
    caseId: taskId.slice(0, 14),
    taskId,
    departmentCode: department,
    departmentName: `部门${department}`,
    title: `案件 ${taskId}`,
    level,
    deadline: 'rectification',
    dueAt: '2026-06-04T15:59:59.999Z',
    at: '2026-06-10T01:00:00.000Z',
  });

  it('proposes each task at rung 3 or above once, at its highest rung', () => {
    const items = proposedItems({
      zone: 'Asia/Shanghai',
      criticisms: [criticism('DB-2026-000002-T1', 3), criticism('DB-2026-000002-T1', 4), criticism('DB-2026-000001-T1', 3, 'CG')],
      closures: [],
    });
    expect(items.map((i) => [i.id, i.departmentCode])).toEqual([
      ['criticism:DB-2026-000001-T1', 'CG'],
      ['criticism:DB-2026-000002-T1', 'JD'],
    ]);
    expect(items[1]!.summary).toContain('第4级（约谈）');
    expect(items[1]!.summary).toContain('2026-06-04');
  });

  it('keeps the office’s decisions: removed items go, added ones follow the proposals', () => {
    const proposed = proposedItems({ zone: 'Asia/Shanghai', criticisms: [criticism('DB-2026-000001-T1', 3), criticism('DB-2026-000002-T1', 3)], closures: [] });
    const added = { ...proposed[0]!, id: 'exposure:DB-2026-000009', kind: 'exposure' as const, origin: 'added' as const };
    const decisions: BulletinDecision[] = [{ action: 'remove', itemId: 'criticism:DB-2026-000001-T1', reason: '已说明情况', by: 'office', at: '2026-06-15T02:00:00.000Z' }];
    expect(decidedItems(proposed, [...decisions, { action: 'add', itemId: added.id, reason: '典型', by: 'office', at: '2026-06-15T02:01:00.000Z', item: added }]).map((i) => i.id)).toEqual([
      'criticism:DB-2026-000002-T1',
      'exposure:DB-2026-000009',
    ]);
    // Removed and added again: once, as the office's addition, after the others.
    const readded = { ...proposed[0]!, origin: 'added' as const, summary: '补充说明后重新列入' };
    const replayed = decidedItems(proposed, [...decisions, { action: 'add', itemId: readded.id, reason: '复核属实', by: 'office', at: '2026-06-15T03:00:00.000Z', item: readded }]);
    expect(replayed.map((i) => [i.id, i.origin])).toEqual([
      ['criticism:DB-2026-000002-T1', 'proposed'],
      ['criticism:DB-2026-000001-T1', 'added'],
    ]);
  });

  it('ranks only departments that had work, and pools the trend’s rates over departments', () => {
    const idle = emptyIndicators('XX', '无任务部门', period);
    expect(hadWork(idle)).toBe(false);
    const busy = [indicators('CG', { onTime: [1, 2] }), indicators('JD', { onTime: [2, 2] })];
    const { document } = composeDraft({
      period,
      zone: 'Asia/Shanghai',
      indicators: [...busy, idle],
      trend: [
        { period: { from: '2026-06-01', to: '2026-06-07' }, indicators: [indicators('CG', { onTime: [0, 1] })] },
        { period, indicators: [...busy, idle] },
      ],
      rules: defaultAssessmentRules,
      criticisms: [],
      closures: [],
      casesOpened: 2,
      casesClosed: 1,
    });
    expect(document.ranking.map((r) => r.departmentCode)).toEqual(['JD', 'CG']);
    expect(document.indicators.map((i) => i.departmentCode)).toEqual(['CG', 'JD']);
    // (1 + 2) on time of (2 + 2) due: 75%; the week before 0 of 1.
    expect(document.summary.onTimeClosureRate).toBe(0.75);
    expect(document.trend.map((t) => t.onTimeClosureRate)).toEqual([0, 0.75]);
    expect(document.number).toBeNull();
    expect(bulletinNumber(2026, 47)).toBe('2026年第47期');
  });
});
