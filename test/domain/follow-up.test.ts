import { describe, expect, it } from 'vitest';
import { type CaseState, openCase, recordTaskFinished } from '../../domain/case.machine';
import { caseDetailsSchema, complainantActor } from '../../domain/case.schema';
import type { DomainError } from '../../domain/errors';
import { answerCase, checkRating, expireFollowUp, rateCase, reopenCase, startFollowUp } from '../../domain/follow-up';
import { defaultPolicy, policySchema } from '../../domain/policy';
import { caseRequest, office } from '../support/fixtures';

const at = '2026-12-07T02:00:00.000Z';
const due = '2026-12-14T15:59:59.999Z';

function closedComplaintCase(): CaseState {
  const details = caseDetailsSchema.parse({ ...caseRequest({ source: 'complaint' }), evidence: [], complaintCode: 'TS-AAAAA-00001' });
  const { state } = openCase({ caseId: 'DB-2026-000001', details, actor: office, at });
  return startFollowUp(recordTaskFinished(state, 'DB-2026-000001-T1', 'accepted', at).state);
}

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as DomainError).code;
  }
  return 'accepted';
};

describe('follow-up rules', () => {
  it('has policy defaults of 5 working days and 2 reopenings, strictly', () => {
    expect(defaultPolicy.followUp).toEqual({ windowWorkingDays: 5, maxReopens: 2 });
    expect(policySchema.safeParse({ followUp: { windowWorkingDays: 5, extra: 1 } }).success).toBe(false);
    expect(policySchema.safeParse({ followUp: { windowWorkingDays: 0 } }).success).toBe(false);
  });

  it('takes a rating up to the end of the window, not after, and expires only an unrated answer', () => {
    const answered = answerCase(closedComplaintCase(), { actor: office, answer: '已处理', evidence: [] }, [], at, { followUpDueAt: due, maxReopens: 1 }).state;
    expect(code(() => checkRating(answered, due))).toBe('accepted');
    expect(code(() => checkRating(answered, '2026-12-14T16:00:00.000Z'))).toBe('invalid_state');
    expect(expireFollowUp(answered, due).events.map((e) => [e.action, e.payload])).toEqual([['case.follow_up_expired', { followUpDueAt: due }]]);
    const rated = rateCase(answered, { actor: complainantActor, rating: 'satisfied' }, at).state;
    expect(expireFollowUp(rated, due).events).toEqual([]);
  });

  it('reopens as open with a new lead task, and refuses beyond the reopenings allowed', () => {
    const answered = answerCase(closedComplaintCase(), { actor: office, answer: '已处理', evidence: [] }, [], at, { followUpDueAt: due, maxReopens: 1 }).state;
    const dissatisfied = rateCase(answered, { actor: complainantActor, rating: 'dissatisfied', reason: '没修好' }, at).state;
    const task = { taskId: 'DB-2026-000001-T2', department: 'CG', ackDueAt: due, rectificationDueAt: due };
    const reopened = reopenCase(dissatisfied, { actor: office, decision: 'uphold', reason: '重办' }, at, task).state;
    expect([reopened.status, reopened.closedAt, reopened.followUp?.reopens, reopened.tasks.at(-1)?.outcome]).toEqual(['open', null, 1, null]);
    const round2 = startFollowUp(recordTaskFinished(reopened, 'DB-2026-000001-T2', 'accepted', at).state);
    const again = rateCase(
      answerCase(round2, { actor: office, answer: '再处理', evidence: [] }, [], at, { followUpDueAt: due, maxReopens: 1 }).state,
      { actor: complainantActor, rating: 'dissatisfied', reason: '还是不行' },
      at,
    ).state;
    expect(code(() => reopenCase(again, { actor: office, decision: 'uphold', reason: '再重办' }, at, { ...task, taskId: 'DB-2026-000001-T3' }))).toBe(
      'invalid_state',
    );
  });
});
