import { assess, type AssessmentRulesVersion, defaultAssessmentRules, rulesInForce } from '../domain/assessment';
import { DomainError } from '../domain/errors';
import type { DepartmentIndicators, Period } from '../domain/indicator.types';
import { daysIn, emptyIndicators, periodsOf, type ScorecardBucket } from '../domain/indicators';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import type { IndicatorService } from './indicator.service';

/** The longest range a scorecard covers, in calendar days (two years, a leap day included). */
export const maxScorecardDays = 731;
/** The most periods a scorecard's trend holds. */
export const maxScorecardBuckets = 104;
export const scorecardBuckets = ['week', 'month'] as const satisfies readonly ScorecardBucket[];

/**
 * Room for the assessment (考核) that scores the indicators: null until the assessment rules
 * exist; they fill it per department and period.
 */
export interface ScorecardAssessment {
  readonly score: number;
  /** Points off by reason. */
  readonly deductions: Readonly<Record<string, number>>;
}

/** One department's indicators for one period, with its assessment. */
export type ScorecardEntry = DepartmentIndicators & { readonly assessment: ScorecardAssessment | null };

/** A department's scorecard: the whole range, and the trend period by period. */
export interface DepartmentScorecard {
  readonly departmentCode: string;
  readonly departmentName: string;
  readonly total: ScorecardEntry;
  readonly trend: ScorecardEntry[];
}

export interface Scorecard {
  readonly from: string;
  readonly to: string;
  readonly by: ScorecardBucket;
  readonly periods: Period[];
  readonly departments: DepartmentScorecard[];
}

export interface ScorecardQuery {
  readonly from: string;
  readonly to: string;
  readonly by: ScorecardBucket;
  /** One department's, or every department's when absent. */
  readonly department?: string | undefined;
}

/** Who asks: the office sees every department; a department only its own. */
export type ScorecardViewer = { readonly role: 'office' } | { readonly role: 'department'; readonly department: string };

function refuse(path: string, message: string): never {
  throw new DomainError('invalid_input', message, [{ path, message }]);
}

/** The periods of a scorecard's trend, or the refusal of a range it cannot cover. */
export function scorecardPeriods(query: Pick<ScorecardQuery, 'from' | 'to' | 'by'>): Period[] {
  if (query.to < query.from) refuse('to', `止日 ${query.to} 早于起日 ${query.from} / to ${query.to} is before from ${query.from}`);
  if (daysIn(query) > maxScorecardDays) {
    refuse('to', `范围最长 ${maxScorecardDays} 天（两年） / the range covers at most ${maxScorecardDays} days (two years)`);
  }
  const periods = periodsOf(query, query.by);
  if (periods.length > maxScorecardBuckets) {
    refuse('by', `最多 ${maxScorecardBuckets} 个周期，当前 ${periods.length} 个 / at most ${maxScorecardBuckets} periods, this range has ${periods.length}`);
  }
  return periods;
}

/** Scorecards (考核记分卡): per department and period, with the trend over the periods of a range. */
export function createScorecardService(deps: {
  db: Db;
  indicators: IndicatorService;
  /** Every version of the assessment rules (services/bulletin.service.ts `listRules`); absent, no scores. */
  rules?: () => Promise<readonly AssessmentRulesVersion[]>;
}) {
  return {
    async scorecard(query: ScorecardQuery, viewer: ScorecardViewer): Promise<Scorecard> {
      const department = viewer.role === 'department' ? (query.department ?? viewer.department) : query.department;
      if (viewer.role === 'department' && department !== viewer.department) {
        throw new DomainError(
          'forbidden',
          `部门 ${viewer.department} 只能查看本部门的记分卡 / department ${viewer.department} may see only its own scorecard`,
          [{ path: 'department', message: 'not your department' }],
        );
      }
      const periods = scorecardPeriods(query);
      if (department !== undefined && !(await findDepartment(deps.db, department))) {
        throw new DomainError('not_found', `没有部门 ${department} / no department ${department}`, [{ path: 'department', message: 'no such department' }]);
      }
      const only = department === undefined ? undefined : new Set([department]);
      const [trend, total] = await deps.indicators.series([periods, [{ from: query.from, to: query.to }]], only);
      // Each period is scored by the rules in force on its first day (as its bulletin was).
      const versions = deps.rules ? await deps.rules() : null;
      const entry = (i: DepartmentIndicators): ScorecardEntry => {
        if (!versions) return { ...i, assessment: null };
        const { score, deductions } = assess(i, rulesInForce(versions, i.period.from)?.rules ?? defaultAssessmentRules);
        return { ...i, assessment: { score, deductions } };
      };
      return {
        from: query.from,
        to: query.to,
        by: query.by,
        periods,
        departments: total![0]!.map((whole) => ({
          departmentCode: whole.departmentCode,
          departmentName: whole.departmentName,
          total: entry(whole),
          trend: trend!.map((rows, i) =>
            entry(rows.find((r) => r.departmentCode === whole.departmentCode) ?? emptyIndicators(whole.departmentCode, whole.departmentName, periods[i]!)),
          ),
        })),
      };
    },
  };
}
export type ScorecardService = ReturnType<typeof createScorecardService>;
