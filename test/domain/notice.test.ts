import { describe, expect, it } from 'vitest';
import { isOfficeOnly, noticeFor } from '../../domain/notice';

describe('the follow-up’s notices', () => {
  it('asks the complainant to rate an answer, and the office to decide a 不满意, and nobody else to act', () => {
    expect(noticeFor({ action: 'case.answered', payload: { answer: '已处理', followUpDueAt: '2026-12-08T15:59:59.999Z' } })).toEqual({
      kind: 'answer',
      roles: ['complainant'],
      urgent: false,
    });
    expect(noticeFor({ action: 'case.rated', payload: { rating: 'dissatisfied', reason: '晚上又来了' } })).toEqual({
      kind: 'rating_dissatisfied',
      roles: ['office_clerk'],
      urgent: false,
    });
    expect(noticeFor({ action: 'case.rated', payload: { rating: 'satisfied', reason: null } })).toBeNull();
    expect(noticeFor({ action: 'case.rated', payload: { rating: 'basically_satisfied', reason: null } })).toBeNull();
    expect(noticeFor({ action: 'case.follow_up_expired', payload: { followUpDueAt: '2026-12-08T15:59:59.999Z' } })).toBeNull();
  });

  it('keeps the answer and a 不满意 from the departments, and nothing else', () => {
    expect(isOfficeOnly('answer')).toBe(true);
    expect(isOfficeOnly('rating_dissatisfied')).toBe(true);
    expect(isOfficeOnly('closure')).toBe(false);
    expect(isOfficeOnly('awaiting_verification')).toBe(false);
  });
});
