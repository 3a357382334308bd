import type { Evidence } from '../domain/case.schema';
import type { FollowUpState, FollowUpStatus, Rating } from '../domain/follow-up';
import { snapshotSupersedes } from './case.repository';
import type { Executor } from './database';
import type { CaseFollowUpTable } from './schema';

/** The follow-up of a case as the office and the tracking page read it. */
export interface FollowUpView {
  caseId: string;
  round: number;
  status: FollowUpStatus;
  reopens: number;
  maxReopens: number;
  answer: { text: string; evidence: Evidence[]; at: string } | null;
  followUpDueAt: string | null;
  rating: { rating: Rating; reason: string | null; at: string } | null;
  decision: { decision: 'uphold' | 'dismiss'; comment: string; at: string } | null;
}

export function followUpStateToRow(caseId: string, state: FollowUpState, version: number, now: string): CaseFollowUpTable {
  return {
    case_id: caseId,
    round: state.round,
    status: state.status,
    reopens: state.reopens,
    max_reopens: state.maxReopens,
    answer: state.answer?.text ?? null,
    answer_evidence: JSON.stringify(state.answer?.evidence ?? []),
    answered_at: state.answer?.at ?? null,
    follow_up_due_at: state.followUpDueAt,
    rating: state.rating?.rating ?? null,
    rating_reason: state.rating?.reason ?? null,
    rated_at: state.rating?.at ?? null,
    decision: state.decision?.decision ?? null,
    decision_comment: state.decision?.comment ?? null,
    decided_at: state.decision?.at ?? null,
    version,
    updated_at: now,
  };
}

export function toFollowUpView(row: CaseFollowUpTable): FollowUpView {
  return {
    caseId: row.case_id,
    round: row.round,
    status: row.status as FollowUpStatus,
    reopens: row.reopens,
    maxReopens: row.max_reopens,
    answer:
      row.answer !== null && row.answered_at !== null
        ? { text: row.answer, evidence: JSON.parse(row.answer_evidence) as Evidence[], at: row.answered_at }
        : null,
    followUpDueAt: row.follow_up_due_at,
    rating: row.rating !== null && row.rated_at !== null ? { rating: row.rating as Rating, reason: row.rating_reason, at: row.rated_at } : null,
    decision:
      row.decision !== null && row.decided_at !== null
        ? { decision: row.decision as 'uphold' | 'dismiss', comment: row.decision_comment ?? '', at: row.decided_at }
        : null,
  };
}

/** Writes a case's follow-up unless a newer version of it is already stored (versions: the case row's). */
export async function saveFollowUpRow(db: Executor, row: CaseFollowUpTable): Promise<void> {
  const { case_id: _id, ...changes } = row;
  await db
    .insertInto('case_follow_ups')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('case_id')
        .doUpdateSet(changes)
        .where(snapshotSupersedes('case_follow_ups')),
    )
    .execute();
}

export async function findFollowUp(db: Executor, caseId: string): Promise<FollowUpView | undefined> {
  const row = await db.selectFrom('case_follow_ups').selectAll().where('case_id', '=', caseId).executeTakeFirst();
  return row && toFollowUpView(row);
}
