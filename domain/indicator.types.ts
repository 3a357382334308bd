/**
 * The shapes of the indicators (docs/indicators.md), shared by their computation
 * (domain/indicators.ts), the scorecards, the assessment and the bulletins.
 */

/** A period of office-zone calendar dates, both ends included (YYYY-MM-DD). */
export interface Period {
  readonly from: string;
  readonly to: string;
}

/** A rate with what it is made of; `value` is null when the denominator is 0 (nothing to rate). */
export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
  /** numerator / denominator in [0, 1], or null. */
  readonly value: number | null;
}

/** Escalation rungs 1–4 (催办, 督办, 通报批评, 约谈) and a count for each. */
export type RungCounts = Readonly<Record<1 | 2 | 3 | 4, number>>;

/** The raw counts the rates are made of, for one department and period. */
export interface IndicatorCounts {
  /** Tasks assigned to the department in the period (transfers in count; see docs/indicators.md). */
  readonly tasksAssigned: number;
  /** Acknowledgements in the period, and those by their deadline. */
  readonly acknowledged: number;
  readonly acknowledgedOnTime: number;
  /** Tasks accepted (closed) in the period, and those accepted by their (extended) deadline. */
  readonly closed: number;
  readonly closedOnTime: number;
  readonly submissions: number;
  /** 返工: rejections by the office in the period. */
  readonly rejections: number;
  readonly extensionsGranted: number;
  /** Tasks that reached each rung in the period (a task counts once per rung). */
  readonly rungsReached: RungCounts;
  /** 重办: cases reopened in the period after an upheld 不满意, counted against the lead department. */
  readonly reopened: number;
}

/** The hotline's three rates for tasks of cases from public complaints. */
export interface HotlineIndicators {
  /** 响应率 */
  readonly responseRate: Ratio;
  /** 解决率 */
  readonly resolutionRate: Ratio;
  /** 满意率 */
  readonly satisfactionRate: Ratio;
}

/** One department's indicators for one period, computed from the audit trail. */
export interface DepartmentIndicators {
  readonly departmentCode: string;
  readonly departmentName: string;
  readonly period: Period;
  readonly counts: IndicatorCounts;
  /** 签收及时率 */
  readonly ackOnTimeRate: Ratio;
  /** 结案率 */
  readonly closureRate: Ratio;
  /** 按期结案率 */
  readonly onTimeClosureRate: Ratio;
  /** 返工率 */
  readonly reworkRate: Ratio;
  /** 延期率 */
  readonly extensionRate: Ratio;
  /** Live tasks overdue at the end of the period, by the highest rung each had reached (0: none yet). */
  readonly overdueByRung: Readonly<Record<0 | 1 | 2 | 3 | 4, number>>;
  /** Working days from assignment to acceptance of the tasks closed in the period. */
  readonly workingDaysToClose: { readonly count: number; readonly mean: number | null; readonly p90: number | null };
  readonly hotline: HotlineIndicators;
}
