import { z } from 'zod';
import type { CaseState } from './case.machine';
import { type Actor, departmentCodeSchema, type Evidence, systemActor } from './case.schema';
import { DomainError } from './errors';
import type { DomainEvent } from './event';
import { text } from './text';

/** 回访: 满意 / 基本满意 / 不满意. */
export const ratings = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export type Rating = (typeof ratings)[number];

/**
 * Where the follow-up of a closed complaint case stands: awaiting the office's answer (答复), the
 * complainant's rating, the office's decision on a 不满意; reopened (重办) until the case closes
 * again; or ended (rated, dismissed, expired).
 */
export const followUpStatuses = [
  'awaiting_answer',
  'awaiting_rating',
  'awaiting_decision',
  'reopened',
  'rated',
  'dismissed',
  'expired',
] as const;
export type FollowUpStatus = (typeof followUpStatuses)[number];

export interface FollowUpAnswer {
  readonly text: string;
  /** The after-photos the office shows the complainant, among the accepted submissions' evidence. */
  readonly evidence: readonly Evidence[];
  readonly at: string;
  readonly by: Actor;
}

export interface FollowUpState {
  /** The answer round: 1, and one more after each reopening. */
  readonly round: number;
  readonly status: FollowUpStatus;
  /** 重办 so far, and the most the policy allowed when the answer was given. */
  readonly reopens: number;
  readonly maxReopens: number;
  readonly answer: FollowUpAnswer | null;
  readonly followUpDueAt: string | null;
  readonly rating: { readonly rating: Rating; readonly reason: string | null; readonly at: string } | null;
  readonly decision: {
    readonly decision: 'uphold' | 'dismiss';
    readonly comment: string;
    readonly at: string;
    readonly by: Actor;
  } | null;
}

const sha256Reference = z
  .string()
  .regex(/^(sha256:)?[0-9a-f]{64}$/, '须为 sha256:<hex> 文件引用 / a file reference sha256:<hex>')
  .transform((ref) => ref.replace(/^sha256:/, ''));

/** 答复 as the office sends it: the text, and which after-photos of the accepted rectifications to show. */
export const answerInputSchema = z
  .object({
    answer: text(5000, { missing: '答复须有内容 / an answer needs its text' }),
    evidence: z
      .array(sha256Reference)
      .max(20)
      .default([])
      // A photo named twice (with and without its prefix, say) is shown once.
      .transform((refs) => [...new Set(refs)])
      .describe('after-photos to show, as sha256:<hex> references of files in the accepted submissions of this case'),
  })
  .strict();
export type AnswerInput = z.infer<typeof answerInputSchema>;

/** 回访 as the complainant sends it: a 不满意 says why. */
export const rateInputSchema = z.discriminatedUnion('rating', [
  z.object({ rating: z.literal('satisfied'), reason: text(2000).optional() }).strict(),
  z.object({ rating: z.literal('basically_satisfied'), reason: text(2000).optional() }).strict(),
  z
    .object({
      rating: z.literal('dissatisfied'),
      reason: text(2000, { missing: '不满意须说明理由 / a dissatisfied rating needs a reason' }),
    })
    .strict(),
]);
export type RateInput = z.infer<typeof rateInputSchema>;

/** The office on a 不满意: uphold (重办, a new task for `department`, the lead by default) or dismiss. */
export const followUpDecisionInputSchema = z.discriminatedUnion('decision', [
  z
    .object({
      decision: z.literal('uphold'),
      reason: text(2000, { missing: '重办须说明理由 / reopening needs a reason' }),
      department: departmentCodeSchema.optional(),
    })
    .strict(),
  z
    .object({
      decision: z.literal('dismiss'),
      reason: text(2000, { missing: '不予采纳须说明理由 / dismissing needs a reason' }),
    })
    .strict(),
]);
export type FollowUpDecisionInput = z.infer<typeof followUpDecisionInputSchema>;

const refuse = (state: CaseState, message: string): DomainError =>
  new DomainError('invalid_state', `案件 ${state.caseId}：${message}`);

/** The follow-up that starts when a complaint case closes (round 1), or closes again after a reopening. */
export function startFollowUp(state: CaseState): CaseState {
  const previous = state.followUp ?? null;
  return {
    ...state,
    followUp: {
      round: previous ? previous.round + 1 : 1,
      status: 'awaiting_answer',
      reopens: previous?.reopens ?? 0,
      maxReopens: previous?.maxReopens ?? 0,
      answer: null,
      followUpDueAt: null,
      rating: null,
      decision: null,
    },
  };
}

function followUpOf(state: CaseState, wanted: FollowUpStatus, doing: string): FollowUpState {
  const followUp = state.followUp ?? null;
  if (!followUp) {
    throw refuse(
      state,
      state.details.complaintCode === undefined
        ? `不是投诉案件，没有回访 / case ${state.caseId} is not from a complaint: nothing to ${doing}`
        : `尚未结案，不能${doing === 'answer' ? '答复' : '回访'} / case ${state.caseId} is ${state.status}: cannot ${doing} before it closes`,
    );
  }
  if (followUp.status !== wanted) {
    throw refuse(state, `回访状态为 ${followUp.status}，不能 ${doing} / case ${state.caseId}'s follow-up is ${followUp.status}: cannot ${doing}`);
  }
  return followUp;
}

function officeOnly(actor: Actor, doing: string): void {
  if (actor.role !== 'office') throw new DomainError('forbidden', `只有督办机构可以${doing} / only the office may ${doing}`);
}

/**
 * Throws unless the office may answer now with `input`; answers the after-photos it chose, each
 * found among `available` (the evidence of the case's accepted submissions).
 */
export function checkAnswer(state: CaseState, actor: Actor, input: AnswerInput, available: readonly Evidence[]): Evidence[] {
  officeOnly(actor, 'answer');
  followUpOf(state, 'awaiting_answer', 'answer');
  const files = new Map(available.flatMap((e) => (e.kind === 'file' ? [[e.sha256, e] as const] : [])));
  const unknown = input.evidence.flatMap((sha256, i) => (files.has(sha256) ? [] : [i]));
  if (unknown.length > 0) {
    throw new DomainError(
      'invalid_input',
      `evidence: 只能选择本案已验收整改中的照片 / evidence: only photos of this case's accepted rectifications can be shown`,
      unknown.map((i) => ({ path: `evidence[${i}]`, message: 'not a file of an accepted submission of this case' })),
    );
  }
  return input.evidence.map((sha256) => files.get(sha256)!);
}

/** 答复: records the answer with the window's end; `maxReopens` is the policy's at this moment. */
export function answerCase(
  state: CaseState,
  command: { actor: Actor } & AnswerInput,
  available: readonly Evidence[],
  at: string,
  window: { followUpDueAt: string; maxReopens: number },
): { state: CaseState; events: DomainEvent[] } {
  const evidence = checkAnswer(state, command.actor, command, available);
  const followUp = state.followUp!;
  return {
    state: {
      ...state,
      followUp: {
        ...followUp,
        status: 'awaiting_rating',
        maxReopens: window.maxReopens,
        answer: { text: command.answer, evidence, at, by: command.actor },
        followUpDueAt: window.followUpDueAt,
      },
    },
    events: [
      {
        action: 'case.answered',
        actor: command.actor,
        at,
        taskId: null,
        payload: { answer: command.answer, evidence, followUpDueAt: window.followUpDueAt },
      },
    ],
  };
}

/** Throws unless the complainant may rate now (once, within the window). */
export function checkRating(state: CaseState, at: string): FollowUpState {
  const followUp = followUpOf(state, 'awaiting_rating', 'rate');
  if (followUp.followUpDueAt !== null && at > followUp.followUpDueAt) {
    throw refuse(state, `回访期已过 / the follow-up window ended at ${followUp.followUpDueAt}`);
  }
  return followUp;
}

/** 回访: satisfied and basically satisfied end the follow-up; dissatisfied awaits the office. */
export function rateCase(state: CaseState, command: { actor: Actor } & RateInput, at: string): { state: CaseState; events: DomainEvent[] } {
  const followUp = checkRating(state, at);
  const reason = command.reason ?? null;
  return {
    state: {
      ...state,
      followUp: {
        ...followUp,
        status: command.rating === 'dissatisfied' ? 'awaiting_decision' : 'rated',
        rating: { rating: command.rating, reason, at },
      },
    },
    events: [{ action: 'case.rated', actor: command.actor, at, taskId: null, payload: { rating: command.rating, reason } }],
  };
}

/** Throws unless the office may decide on the 不满意 now (an upholding within the policy's reopenings). */
export function checkFollowUpDecision(state: CaseState, actor: Actor, input: FollowUpDecisionInput): FollowUpState {
  officeOnly(actor, 'decide a follow-up');
  const followUp = followUpOf(state, 'awaiting_decision', 'decide');
  if (input.decision === 'uphold' && followUp.reopens >= followUp.maxReopens) {
    throw new DomainError(
      'invalid_state',
      `案件 ${state.caseId} 已重办 ${followUp.reopens} 次，达到上限 ${followUp.maxReopens} / case ${state.caseId} was reopened ${followUp.reopens} times, the most the policy allows (${followUp.maxReopens})`,
      [{ path: 'decision', message: `at most ${followUp.maxReopens} reopenings` }],
    );
  }
  return followUp;
}

/** 不予采纳: the 不满意 stands on record, the follow-up ends. */
export function dismissRating(
  state: CaseState,
  command: { actor: Actor } & FollowUpDecisionInput,
  at: string,
): { state: CaseState; events: DomainEvent[] } {
  const followUp = checkFollowUpDecision(state, command.actor, command);
  return {
    state: {
      ...state,
      followUp: { ...followUp, status: 'dismissed', decision: { decision: 'dismiss', comment: command.reason, at, by: command.actor } },
    },
    events: [{ action: 'case.rating_dismissed', actor: command.actor, at, taskId: null, payload: { comment: command.reason } }],
  };
}

/**
 * 重办: the case is open again with a new task (`task`, with its fresh deadlines) for the
 * department named, the lead by default.
 */
export function reopenCase(
  state: CaseState,
  command: { actor: Actor } & FollowUpDecisionInput,
  at: string,
  task: { taskId: string; department: string; ackDueAt: string | null; rectificationDueAt: string | null },
): { state: CaseState; events: DomainEvent[] } {
  const followUp = checkFollowUpDecision(state, command.actor, command);
  return {
    state: {
      ...state,
      status: 'open',
      closedAt: null,
      tasks: [...state.tasks, { taskId: task.taskId, departmentCode: task.department, role: 'lead', outcome: null }],
      followUp: {
        ...followUp,
        status: 'reopened',
        reopens: followUp.reopens + 1,
        decision: { decision: 'uphold', comment: command.reason, at, by: command.actor },
      },
    },
    events: [
      {
        action: 'case.reopened',
        actor: command.actor,
        at,
        taskId: null,
        payload: {
          reason: command.reason,
          taskId: task.taskId,
          department: task.department,
          ackDueAt: task.ackDueAt,
          rectificationDueAt: task.rectificationDueAt,
        },
      },
      {
        action: 'task.assigned',
        actor: command.actor,
        at,
        taskId: task.taskId,
        payload: { department: task.department, role: 'lead', ackDueAt: task.ackDueAt, rectificationDueAt: task.rectificationDueAt, reason: command.reason },
      },
    ],
  };
}

/** No rating by the window's end: the follow-up ends (counted as docs/indicators.md says). */
export function expireFollowUp(state: CaseState, at: string): { state: CaseState; events: DomainEvent[] } {
  const followUp = state.followUp;
  if (!followUp || followUp.status !== 'awaiting_rating') return { state, events: [] };
  return {
    state: { ...state, followUp: { ...followUp, status: 'expired' } },
    events: [
      { action: 'case.follow_up_expired', actor: systemActor, at, taskId: null, payload: { followUpDueAt: followUp.followUpDueAt } },
    ],
  };
}

/** Whether the follow-up has ended: nothing more can happen to the case. */
export function isFollowUpOver(followUp: FollowUpState | null | undefined): boolean {
  return followUp?.status === 'rated' || followUp?.status === 'dismissed' || followUp?.status === 'expired';
}
