import type { DepartmentIndicators, Period } from './indicator.types';

/**
 * A bulletin (定期通报) as it is drafted, decided on by the office and published. What is public
 * is exactly this document: no complainant's data ever enters it (only case ids, the office's
 * titles, department names and figures).
 */

export type BulletinStatus = 'draft' | 'published' | 'superseded' | 'discarded';

/** One department's place in the period's ranking, with its assessment score. */
export interface RankingEntry {
  readonly rank: number;
  readonly departmentCode: string;
  readonly departmentName: string;
  /** The composite assessment score (考核得分) by the rules in force for the period. */
  readonly score: number;
  /** Points off by reason, e.g. { overdue_rung_2: 4, criticism: 2, rework: 1 }. */
  readonly deductions: Readonly<Record<string, number>>;
  readonly onTimeClosureRate: number | null;
}

/** What kind of item a bulletin lists. */
export type BulletinItemKind = 'criticism' | 'exposure' | 'notable_closure';

/** A case or task named in the bulletin: proposed by the draft or added by the office. */
export interface BulletinItem {
  readonly id: string;
  readonly kind: BulletinItemKind;
  readonly caseId: string;
  readonly taskId: string | null;
  readonly departmentCode: string;
  readonly departmentName: string;
  /** The office's title of the case (never the complainant's words). */
  readonly title: string;
  /** Why it is listed: the rung reached and the days overdue, or the office's reason. */
  readonly summary: string;
  /** proposed by the draft, or added by the office. */
  readonly origin: 'proposed' | 'added';
}

/** A removal or addition by the office, with its reason (kept with the draft, not published). */
export interface BulletinDecision {
  readonly action: 'remove' | 'add';
  readonly itemId: string;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
}

/** One point of a trend: a past period's on-time closure rate for a department (or all). */
export interface TrendPoint {
  readonly period: Period;
  readonly label: string;
  readonly onTimeClosureRate: number | null;
}

/** Figures for the whole office in the period. */
export interface BulletinSummary {
  readonly casesOpened: number;
  readonly casesClosed: number;
  readonly tasksAssigned: number;
  readonly tasksClosed: number;
  readonly tasksClosedOnTime: number;
  readonly overdueAtEnd: number;
  readonly onTimeClosureRate: number | null;
}

/** The public content of a bulletin. */
export interface BulletinDocument {
  /** e.g. 2026年第47期 once published; null while a draft. */
  readonly number: string | null;
  readonly sequence: number | null;
  readonly version: number;
  readonly title: string;
  readonly period: Period;
  readonly summary: BulletinSummary;
  readonly ranking: readonly RankingEntry[];
  readonly indicators: readonly DepartmentIndicators[];
  /** 通报批评, 曝光 and notable closures, as decided by the office. */
  readonly items: readonly BulletinItem[];
  /** 按期结案率 over the last periods, oldest first (the last is this period). */
  readonly trend: readonly TrendPoint[];
  readonly publishedAt: string | null;
  /** Set on a correction: why this version replaces the previous one. */
  readonly correctionReason: string | null;
}
