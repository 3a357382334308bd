/**
 * A realistic published bulletin, built by hand: four departments, criticisms, an exposure, a
 * notable closure, a trend of six weekly periods with one that had nothing to rate.
 */
import type { BulletinDocument, BulletinItem, RankingEntry, TrendPoint } from '../../domain/bulletin.types';
import type { DepartmentIndicators, Period, Ratio } from '../../domain/indicator.types';

export const period: Period = { from: '2026-11-16', to: '2026-11-22' };

export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, value: denominator === 0 ? null : numerator / denominator };
}

function indicators(code: string, name: string, figures: { assigned: number; ackOnTime: [number, number]; closed: [number, number]; onTime: [number, number]; rework: [number, number] }): DepartmentIndicators {
  return {
    departmentCode: code,
    departmentName: name,
    period,
    counts: {
      tasksAssigned: figures.assigned,
      tasksActive: figures.assigned + 1,
      acknowledged: figures.ackOnTime[1],
      acknowledgedOnTime: figures.ackOnTime[0],
      ackDue: figures.ackOnTime[1],
      closed: figures.onTime[1],
      closedOnTime: figures.onTime[0],
      closureDue: figures.onTime[1],
      openAtEnd: 1,
      submissions: figures.rework[1],
      rejections: figures.rework[0],
      extensionsGranted: 1,
      tasksExtended: 1,
      rungsReached: { 1: 2, 2: 1, 3: 0, 4: 0 },
      reopened: 0,
    },
    ackOnTimeRate: ratio(...figures.ackOnTime),
    closureRate: ratio(...figures.closed),
    onTimeClosureRate: ratio(...figures.onTime),
    reworkRate: ratio(...figures.rework),
    extensionRate: ratio(1, figures.assigned),
    overdueByRung: { 0: 1, 1: 1, 2: 0, 3: 0, 4: 0 },
    workingDaysToClose: { count: figures.onTime[1], mean: 6.25, p90: 11 },
    hotline: { responseRate: ratio(5, 5), resolutionRate: ratio(4, 5), satisfactionRate: ratio(0, 0),
      followUps: { concluded: 0, satisfied: 0, basicallySatisfied: 0, dissatisfied: 0, dismissed: 0, unrated: 0 },
    },
  };
}

export const departments = [
  { code: 'XHJD', name: '新华街道' },
  { code: 'QCGJ', name: '区城管局' },
  { code: 'QSJJ', name: '区市场监管局' },
  { code: 'DCJD', name: '东城街道' },
] as const;

const ranking: RankingEntry[] = [
  { rank: 1, departmentCode: 'XHJD', departmentName: '新华街道', score: 96.5, deductions: { rework: 1, overdue_rung_1: 2.5 }, onTimeClosureRate: 0.9 },
  { rank: 2, departmentCode: 'QCGJ', departmentName: '区城管局', score: 92, deductions: { overdue_rung_2: 4, criticism: 2, rework: 2 }, onTimeClosureRate: 7 / 9 },
  { rank: 3, departmentCode: 'QSJJ', departmentName: '区市场监管局', score: 88.25, deductions: { overdue_rung_2: 8, rework: 3.75 }, onTimeClosureRate: 0.6 },
  { rank: 4, departmentCode: 'DCJD', departmentName: '东城街道', score: 79, deductions: { overdue_rung_3: 12, criticism: 6, reopened: 3 }, onTimeClosureRate: null },
];

const items: BulletinItem[] = [
  {
    id: 'bi_01',
    kind: 'criticism',
    caseId: 'DB-2026-000311',
    taskId: 'DB-2026-000311-T1',
    departmentCode: 'DCJD',
    departmentName: '东城街道',
    title: '东城农贸市场周边占道经营反复出现',
    summary: '逾期 6 个工作日，已升级至通报批评',
    origin: 'proposed',
  },
  {
    id: 'bi_02',
    kind: 'criticism',
    caseId: 'DB-2026-000287',
    taskId: 'DB-2026-000287-T2',
    departmentCode: 'QSJJ',
    departmentName: '区市场监管局',
    title: '学府路餐饮店油烟直排',
    summary: '两次返工仍未整改到位',
    origin: 'added',
  },
  {
    id: 'bi_03',
    kind: 'exposure',
    caseId: 'DB-2026-000298',
    taskId: null,
    departmentCode: 'DCJD',
    departmentName: '东城街道',
    title: '建设路公益广告牌破损未修复',
    summary: '群众多次投诉，现场核查仍未修复',
    origin: 'added',
  },
  {
    id: 'bi_04',
    kind: 'notable_closure',
    caseId: 'DB-2026-000275',
    taskId: 'DB-2026-000275-T1',
    departmentCode: 'XHJD',
    departmentName: '新华街道',
    title: '新华小区楼道杂物堆放清理',
    summary: '签收当日清理完毕，建立长效巡查机制',
    origin: 'proposed',
  },
];

/** Six weekly periods ending with this one; the third had nothing to rate. */
export const trend: TrendPoint[] = [
  { period: { from: '2026-10-12', to: '2026-10-18' }, label: '第42期', onTimeClosureRate: 0.71 },
  { period: { from: '2026-10-19', to: '2026-10-25' }, label: '第43期', onTimeClosureRate: 0.75 },
  { period: { from: '2026-10-26', to: '2026-11-01' }, label: '第44期', onTimeClosureRate: null },
  { period: { from: '2026-11-02', to: '2026-11-08' }, label: '第45期', onTimeClosureRate: 0.8 },
  { period: { from: '2026-11-09', to: '2026-11-15' }, label: '第46期', onTimeClosureRate: 0.78 },
  { period, label: '第47期', onTimeClosureRate: 23 / 30 },
];

/** Published at 01:30 on 25 November in Shanghai, which is still the 24th in UTC. */
export function bulletinFixture(overrides: Partial<BulletinDocument> = {}): BulletinDocument {
  return {
    number: '2026年第47期',
    sequence: 47,
    version: 1,
    title: '全区创建文明城市问题整改情况通报',
    period,
    summary: { casesOpened: 24, casesClosed: 19, tasksAssigned: 31, tasksClosed: 30, tasksClosedOnTime: 23, overdueAtEnd: 4, onTimeClosureRate: 23 / 30 },
    ranking,
    indicators: [
      indicators('XHJD', '新华街道', { assigned: 8, ackOnTime: [8, 8], closed: [10, 10], onTime: [9, 10], rework: [1, 10] }),
      indicators('QCGJ', '区城管局', { assigned: 9, ackOnTime: [8, 9], closed: [9, 9], onTime: [7, 9], rework: [2, 11] }),
      indicators('QSJJ', '区市场监管局', { assigned: 7, ackOnTime: [6, 7], closed: [5, 7], onTime: [3, 5], rework: [3, 8] }),
      indicators('DCJD', '东城街道', { assigned: 7, ackOnTime: [5, 7], closed: [0, 7], onTime: [0, 0], rework: [0, 0] }),
    ],
    items,
    trend,
    publishedAt: '2026-11-24T17:30:00.000Z',
    correctionReason: null,
    ...overrides,
  };
}
