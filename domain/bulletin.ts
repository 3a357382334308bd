import { DateTime } from 'luxon';
import { z } from 'zod';
import { type Assessment, type AssessmentRules, assess, rank } from './assessment';
import type {
  BulletinDecision,
  BulletinDocument,
  BulletinItem,
  BulletinItemKind,
  BulletinSummary,
  TrendPoint,
} from './bulletin.types';
import { DomainError } from './errors';
import type { DepartmentIndicators, Period } from './indicator.types';
import { text } from './text';

/** Which span a scheduled bulletin covers. */
export type BulletinPeriodKind = 'week' | 'month';

/**
 * The last complete period before `instant` in `zone`: the Monday-to-Sunday week, or the calendar
 * month, that ended before the day `instant` falls on.
 */
export function periodBefore(instant: Date, zone: string, kind: BulletinPeriodKind): Period {
  const day = DateTime.fromJSDate(instant, { zone }).startOf('day');
  const start = kind === 'week' ? day.startOf('week').minus({ weeks: 1 }) : day.startOf('month').minus({ months: 1 });
  const end = kind === 'week' ? start.plus({ days: 6 }) : start.endOf('month');
  return { from: start.toISODate()!, to: end.toISODate()! };
}

/**
 * The `count` periods ending with `period`, oldest first: calendar months when `period` is one,
 * else spans of the same number of days going back.
 */
export function trendPeriods(period: Period, count: number): Period[] {
  const from = DateTime.fromISO(period.from, { zone: 'UTC' });
  const to = DateTime.fromISO(period.to, { zone: 'UTC' });
  const wholeMonth = from.day === 1 && to.hasSame(from, 'month') && to.day === from.daysInMonth;
  const days = Math.round(to.diff(from, 'days').days) + 1;
  const periods: Period[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = wholeMonth ? from.minus({ months: i }) : from.minus({ days: days * i });
    const end = wholeMonth ? start.endOf('month') : start.plus({ days: days - 1 });
    periods.push({ from: start.toISODate()!, to: end.toISODate()! });
  }
  return periods;
}

/** A period as a short label: 2026-06 for a month, 06-08~06-14 otherwise. */
export function periodLabel(period: Period): string {
  const from = DateTime.fromISO(period.from, { zone: 'UTC' });
  const to = DateTime.fromISO(period.to, { zone: 'UTC' });
  if (from.day === 1 && to.hasSame(from, 'month') && to.day === from.daysInMonth) return from.toFormat('yyyy-MM');
  return `${from.toFormat('MM-dd')}~${to.toFormat('MM-dd')}`;
}

/** A period given by the office: valid dates, from ≤ to, at most a year. */
export const periodSchema = z
  .object({ from: z.iso.date(), to: z.iso.date() })
  .strict()
  .refine((p) => p.from >= '2000-01-01', { message: '起始日期不能早于 2000-01-01 / from is 2000-01-01 or later', path: ['from'] })
  .refine((p) => p.to <= '2100-12-31', { message: '结束日期不能晚于 2100-12-31 / to is 2100-12-31 or earlier', path: ['to'] })
  .refine((p) => p.from <= p.to, { message: '起始日期不能晚于结束日期 / from must not be after to', path: ['to'] })
  .refine((p) => DateTime.fromISO(p.to).diff(DateTime.fromISO(p.from), 'days').days <= 366, {
    message: '期间不能超过一年 / a period spans at most a year',
    path: ['to'],
  });

/** Did a department have anything to be measured by in the period? Departments without are not ranked. */
export function hadWork(ind: DepartmentIndicators): boolean {
  const c = ind.counts;
  const overdue = Object.values(ind.overdueByRung).reduce((a, b) => a + b, 0);
  return c.tasksAssigned + c.acknowledged + c.submissions + c.closed + c.rejections + overdue > 0;
}

/** Sum of a rate's parts over departments, as a rate of the whole. */
function pooled(indicators: readonly DepartmentIndicators[], pick: (i: DepartmentIndicators) => { numerator: number; denominator: number }): number | null {
  let n = 0;
  let d = 0;
  for (const i of indicators) {
    n += pick(i).numerator;
    d += pick(i).denominator;
  }
  return d === 0 ? null : n / d;
}

/** A rung-3-or-higher escalation in the period: a candidate for 通报批评. */
export interface CriticismCandidate {
  readonly caseId: string;
  readonly taskId: string;
  readonly departmentCode: string;
  readonly departmentName: string;
  readonly title: string;
  readonly level: number;
  readonly deadline: string;
  /** The deadline missed (ISO instant) and when the rung was reached. */
  readonly dueAt: string;
  readonly at: string;
}

/** A case closed in the period that is worth naming (it had been escalated, or was major). */
export interface ClosureCandidate {
  readonly caseId: string;
  readonly departmentCode: string;
  readonly departmentName: string;
  readonly title: string;
  readonly closedAt: string;
  readonly escalationLevel: number;
  readonly severity: string;
}

export interface DraftInput {
  readonly period: Period;
  readonly zone: string;
  readonly indicators: readonly DepartmentIndicators[];
  /** Indicators of each trend period, oldest first, the last being `period`'s. */
  readonly trend: ReadonlyArray<{ period: Period; indicators: readonly DepartmentIndicators[] }>;
  readonly rules: AssessmentRules;
  readonly criticisms: readonly CriticismCandidate[];
  readonly closures: readonly ClosureCandidate[];
  readonly casesOpened: number;
  readonly casesClosed: number;
}

const rungNames: Record<number, string> = { 3: '通报批评', 4: '约谈' };

/** The items a draft proposes: each task at rung 3 or above once (its highest rung), then notable closures. */
export function proposedItems(input: Pick<DraftInput, 'criticisms' | 'closures' | 'zone'>): BulletinItem[] {
  const byTask = new Map<string, CriticismCandidate>();
  for (const c of input.criticisms) {
    const seen = byTask.get(c.taskId);
    if (!seen || c.level > seen.level) byTask.set(c.taskId, c);
  }
  const criticism = [...byTask.values()]
    .sort((a, b) => a.departmentCode.localeCompare(b.departmentCode) || a.caseId.localeCompare(b.caseId))
    .map<BulletinItem>((c) => {
      const due = DateTime.fromISO(c.dueAt, { zone: input.zone }).toISODate();
      const what = c.deadline === 'acknowledgement' ? '签收 / acknowledgement' : '整改 / rectification';
      return {
        id: `criticism:${c.taskId}`,
        kind: 'criticism',
        caseId: c.caseId,
        taskId: c.taskId,
        departmentCode: c.departmentCode,
        departmentName: c.departmentName,
        title: c.title,
        summary: `${what} 期限 ${due} 逾期，已达第${c.level}级（${rungNames[c.level] ?? ''}） / overdue since ${due}, rung ${c.level} reached`,
        origin: 'proposed',
      };
    });
  const closures = [...input.closures]
    .sort((a, b) => b.escalationLevel - a.escalationLevel || a.closedAt.localeCompare(b.closedAt))
    .slice(0, 10)
    .map<BulletinItem>((c) => ({
      id: `notable_closure:${c.caseId}`,
      kind: 'notable_closure',
      caseId: c.caseId,
      taskId: null,
      departmentCode: c.departmentCode,
      departmentName: c.departmentName,
      title: c.title,
      summary:
        c.escalationLevel > 0
          ? `经第${c.escalationLevel}级督办后整改到位，${DateTime.fromISO(c.closedAt, { zone: input.zone }).toISODate()} 核查销号 / closed after rung ${c.escalationLevel}`
          : `重大问题整改到位，${DateTime.fromISO(c.closedAt, { zone: input.zone }).toISODate()} 核查销号 / major problem fixed and closed`,
      origin: 'proposed',
    }));
  return [...criticism, ...closures];
}

/** The assessments of a period's departments that had work, by `rules`. */
export function assessAll(indicators: readonly DepartmentIndicators[], rules: AssessmentRules): Assessment[] {
  return indicators.filter(hadWork).map((i) => assess(i, rules));
}

/** The document of a new draft: figures, ranking, trend and the proposed items (no number yet). */
export function composeDraft(input: DraftInput): { document: BulletinDocument; proposed: BulletinItem[] } {
  const proposed = proposedItems(input);
  const summary: BulletinSummary = {
    casesOpened: input.casesOpened,
    casesClosed: input.casesClosed,
    tasksAssigned: sum(input.indicators, (i) => i.counts.tasksAssigned),
    tasksClosed: sum(input.indicators, (i) => i.counts.closed),
    tasksClosedOnTime: sum(input.indicators, (i) => i.counts.closedOnTime),
    overdueAtEnd: sum(input.indicators, (i) => Object.values(i.overdueByRung).reduce((a, b) => a + b, 0)),
    onTimeClosureRate: pooled(input.indicators, (i) => i.onTimeClosureRate),
  };
  const trend: TrendPoint[] = input.trend.map((t) => ({
    period: t.period,
    label: periodLabel(t.period),
    onTimeClosureRate: pooled(t.indicators, (i) => i.onTimeClosureRate),
  }));
  const document: BulletinDocument = {
    number: null,
    sequence: null,
    version: 1,
    title: `督办工作情况通报（${input.period.from} 至 ${input.period.to}）`,
    period: input.period,
    summary,
    ranking: rank(assessAll(input.indicators, input.rules)),
    indicators: input.indicators.filter(hadWork),
    items: proposed,
    trend,
    publishedAt: null,
    correctionReason: null,
  };
  return { document, proposed };
}

const sum = (list: readonly DepartmentIndicators[], pick: (i: DepartmentIndicators) => number): number =>
  list.reduce((a, i) => a + pick(i), 0);

/** What the office may add to a draft: a case (and task) of a kind, with its reason. */
export const bulletinAdditionSchema = z
  .object({
    kind: z.enum(['criticism', 'exposure', 'notable_closure'] satisfies BulletinItemKind[]),
    caseId: z.string().regex(/^DB-\d{4}-\d{6}$/, '案件编号如 DB-2026-000123 / a case id such as DB-2026-000123'),
    taskId: z.string().max(40).nullable().default(null),
    /** The text the public reads about it. */
    summary: text(500),
    reason: text(500),
  })
  .strict();
export type BulletinAddition = z.infer<typeof bulletinAdditionSchema>;

export const bulletinRemovalSchema = z.object({ itemId: z.string().min(1).max(80), reason: text(500) }).strict();

/** A decision as stored with its draft: an addition carries the item it added. */
export type StoredDecision = BulletinDecision & { readonly item?: BulletinItem };

/**
 * The items of a draft after the office's decisions, replayed in order over the proposals: a
 * removal takes the item out, an addition puts its item in (after the others; an item removed and
 * added again is the office's addition). Every decision stays on record; each item appears once.
 */
export function decidedItems(proposed: readonly BulletinItem[], decisions: readonly StoredDecision[]): BulletinItem[] {
  const items = new Map<string, BulletinItem>(proposed.map((item) => [item.id, item]));
  for (const decision of decisions) {
    items.delete(decision.itemId);
    if (decision.action === 'add' && decision.item) items.set(decision.itemId, decision.item);
  }
  return [...items.values()];
}

/** Throws unless `itemId` is an item of the draft that is still in it. */
export function checkRemoval(items: readonly BulletinItem[], itemId: string): void {
  if (!items.some((i) => i.id === itemId)) {
    throw new DomainError('invalid_state', `通报中没有条目 ${itemId} / the bulletin has no item ${itemId}`, [
      { path: 'itemId', message: 'not an item of this bulletin' },
    ]);
  }
}

/** 2026年第47期 */
export function bulletinNumber(year: number, sequence: number): string {
  return `${year}年第${sequence}期`;
}
