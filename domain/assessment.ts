import { z } from 'zod';
import type { DepartmentIndicators } from './indicator.types';
import type { RankingEntry } from './bulletin.types';

/**
 * Assessment points (考核扣分): the office's rules for scoring departments per period from their
 * indicators, and the ranking they give. Rules are versioned (db: assessment_rules): a period is
 * scored by the version in force on its first day, so a past period keeps its score when the rules
 * change later.
 */

const points = z.number().min(0).max(100);
const weight = z.number().min(0).max(1);

export const assessmentRulesSchema = z
  .object({
    /** The points a department starts each period with. */
    baseScore: z.number().min(1).max(1000).default(100),
    /** Points off per occurrence in the period. */
    pointsOff: z
      .object({
        /** Per live task overdue at the end of the period, by the highest rung it had reached (0: none yet). */
        overdueByRung: z
          .object({ 0: points.default(0), 1: points.default(0.5), 2: points.default(1), 3: points.default(2), 4: points.default(3) })
          .strict()
          .default({ 0: 0, 1: 0.5, 2: 1, 3: 2, 4: 3 }),
        /** Per task that reached 通报批评 (rung 3) in the period. */
        criticism: points.default(2),
        /** Per task that reached 约谈 (rung 4) in the period. */
        interview: points.default(3),
        /** Per rejection (返工) in the period. */
        rework: points.default(0.5),
        /** Per acknowledgement after its deadline in the period. */
        lateAcknowledgement: points.default(0.2),
        /** Per case reopened (重办) after an upheld 不满意 in the period. */
        reopened: points.default(1),
      })
      .strict()
      .default({
        overdueByRung: { 0: 0, 1: 0.5, 2: 1, 3: 2, 4: 3 },
        criticism: 2,
        interview: 3,
        rework: 0.5,
        lateAcknowledgement: 0.2,
        reopened: 1,
      }),
    /**
     * Weights of the composite score's parts, each part on a 0–100 scale: the points left of the
     * base, and rates as percentages. A rate with nothing to rate (no denominator) is left out and
     * the other weights count in proportion.
     */
    weights: z
      .object({
        points: weight.default(0.6),
        onTimeClosureRate: weight.default(0.2),
        ackOnTimeRate: weight.default(0.1),
        satisfactionRate: weight.default(0.1),
      })
      .strict()
      .default({ points: 0.6, onTimeClosureRate: 0.2, ackOnTimeRate: 0.1, satisfactionRate: 0.1 })
      .refine((w) => w.points + w.onTimeClosureRate + w.ackOnTimeRate + w.satisfactionRate > 0, {
        message: '权重不能全为 0 / the weights cannot all be 0',
      }),
  })
  .strict();
export type AssessmentRules = z.infer<typeof assessmentRulesSchema>;

/** The rules with every default. */
export const defaultAssessmentRules: AssessmentRules = assessmentRulesSchema.parse({});

/** A department's score for a period, with how it came about. */
export interface Assessment {
  readonly departmentCode: string;
  readonly departmentName: string;
  /** The composite score (考核得分), 0–100, rounded to 2 decimals. */
  readonly score: number;
  /** The points part: the base less every deduction, never below 0. */
  readonly points: number;
  /** Points off by reason (only reasons with points off). */
  readonly deductions: Readonly<Record<string, number>>;
  readonly onTimeClosureRate: number | null;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Scores one department's indicators by `rules`. */
export function assess(indicators: DepartmentIndicators, rules: AssessmentRules): Assessment {
  const off = rules.pointsOff;
  const lateAcks = indicators.counts.acknowledged - indicators.counts.acknowledgedOnTime;
  const raw: Record<string, number> = {
    overdue_rung_0: indicators.overdueByRung[0] * off.overdueByRung[0],
    overdue_rung_1: indicators.overdueByRung[1] * off.overdueByRung[1],
    overdue_rung_2: indicators.overdueByRung[2] * off.overdueByRung[2],
    overdue_rung_3: indicators.overdueByRung[3] * off.overdueByRung[3],
    overdue_rung_4: indicators.overdueByRung[4] * off.overdueByRung[4],
    criticism: indicators.counts.rungsReached[3] * off.criticism,
    interview: indicators.counts.rungsReached[4] * off.interview,
    rework: indicators.counts.rejections * off.rework,
    late_acknowledgement: Math.max(0, lateAcks) * off.lateAcknowledgement,
    reopened: indicators.counts.reopened * off.reopened,
  };
  const deductions = Object.fromEntries(Object.entries(raw).filter(([, v]) => v > 0).map(([k, v]) => [k, round2(v)]));
  const totalOff = Object.values(raw).reduce((a, b) => a + b, 0);
  const pointsLeft = Math.max(0, rules.baseScore - totalOff);

  const parts: Array<[number, number | null]> = [
    [rules.weights.points, (pointsLeft / rules.baseScore) * 100],
    [rules.weights.onTimeClosureRate, percent(indicators.onTimeClosureRate.value)],
    [rules.weights.ackOnTimeRate, percent(indicators.ackOnTimeRate.value)],
    [rules.weights.satisfactionRate, percent(indicators.hotline.satisfactionRate.value)],
  ];
  const counted = parts.filter(([w, v]) => w > 0 && v !== null) as Array<[number, number]>;
  const weightSum = counted.reduce((a, [w]) => a + w, 0);
  const score = weightSum === 0 ? 0 : counted.reduce((a, [w, v]) => a + w * v, 0) / weightSum;
  return {
    departmentCode: indicators.departmentCode,
    departmentName: indicators.departmentName,
    score: round2(score),
    points: round2(pointsLeft),
    deductions,
    onTimeClosureRate: indicators.onTimeClosureRate.value,
  };
}

const percent = (value: number | null): number | null => (value === null ? null : value * 100);

/**
 * The ranking of a period: best score first; ties broken by the on-time closure rate (none last),
 * then by department code; departments with the same score and rate share a rank (1, 2, 2, 4).
 */
export function rank(assessments: readonly Assessment[]): RankingEntry[] {
  const rate = (a: Assessment) => a.onTimeClosureRate ?? -1;
  const sorted = [...assessments].sort(
    (a, b) => b.score - a.score || rate(b) - rate(a) || (a.departmentCode < b.departmentCode ? -1 : a.departmentCode > b.departmentCode ? 1 : 0),
  );
  const entries: RankingEntry[] = [];
  sorted.forEach((a, i) => {
    const previous = sorted[i - 1];
    const tied = previous !== undefined && previous.score === a.score && rate(previous) === rate(a);
    const rankValue = tied ? entries[i - 1]!.rank : i + 1;
    entries.push({
      rank: rankValue,
      departmentCode: a.departmentCode,
      departmentName: a.departmentName,
      score: a.score,
      deductions: a.deductions,
      onTimeClosureRate: a.onTimeClosureRate,
    });
  });
  return entries;
}

/** A version of the rules as stored: in force from `effectiveFrom` (office-zone date) on. */
export interface AssessmentRulesVersion {
  readonly version: number;
  readonly effectiveFrom: string;
  readonly rules: AssessmentRules;
  readonly note: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

/**
 * The version in force on `date` (YYYY-MM-DD): the latest effective on or before it (of two for
 * the same day, the newer); null when none is (the defaults apply).
 */
export function rulesInForce<V extends { version: number; effectiveFrom: string }>(versions: readonly V[], date: string): V | null {
  let best: V | null = null;
  for (const v of versions) {
    if (v.effectiveFrom > date) continue;
    if (!best || v.effectiveFrom > best.effectiveFrom || (v.effectiveFrom === best.effectiveFrom && v.version > best.version)) best = v;
  }
  return best;
}
