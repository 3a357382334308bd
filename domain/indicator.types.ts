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
  /** Tasks of the department live at some time in the period (assigned by its end, not finished before its start). */
  readonly tasksActive: number;
  /** Acknowledgements in the period, and those by their deadline (the numerator of 签收及时率). */
  readonly acknowledged: number;
  readonly acknowledgedOnTime: number;
  /**
   * Acknowledgements judged in the period (the denominator of 签收及时率): made by their deadline in
   * it, or whose deadline passed in it unacknowledged. Each task is judged once.
   */
  readonly ackDue: number;
  /** Tasks accepted (closed) in the period, and those accepted by their (extended) deadline. */
  readonly closed: number;
  readonly closedOnTime: number;
  /** Rectifications judged in the period (the denominator of 按期结案率): accepted on time in it, or deadline missed in it. */
  readonly closureDue: number;
  /** Tasks of the department still live (not accepted, withdrawn or transferred) at the period's end. */
  readonly openAtEnd: number;
  readonly submissions: number;
  /** 返工: rejections by the office in the period. */
  readonly rejections: number;
  readonly extensionsGranted: number;
  /** Tasks granted at least one extension in the period (the numerator of 延期率). */
  readonly tasksExtended: number;
  /** Tasks that reached each rung in the period (a task counts once per rung). */
  readonly rungsReached: RungCounts;
  /** 重办: cases reopened in the period after an upheld 不满意, counted against the department the new task went to. */
  readonly reopened: number;
}

/**
 * Follow-ups (回访) of cases from the public concluded in the period, by outcome; each answer's
 * follow-up concludes once: with a rating of 满意 or 基本满意, with the office's decision on a
 * 不满意 (upheld: reopened, 重办; or dismissed), or with the window expiring unrated.
 */
export interface FollowUpCounts {
  readonly concluded: number;
  readonly satisfied: number;
  readonly basicallySatisfied: number;
  /** 不满意 upheld by the office (the case was reopened). */
  readonly dissatisfied: number;
  /** 不满意 the office dismissed (甄别不予支持): resolved, left out of 满意率. */
  readonly dismissed: number;
  /** The window expired without a rating: counted as satisfied (视为满意), reported here. */
  readonly unrated: number;
}

/** The hotline's three rates for tasks of cases from public complaints. */
export interface HotlineIndicators {
  /** 响应率 */
  readonly responseRate: Ratio;
  /** 解决率 */
  readonly resolutionRate: Ratio;
  /** 满意率 */
  readonly satisfactionRate: Ratio;
  /** What 解决率 and 满意率 are made of. */
  readonly followUps: FollowUpCounts;
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
