import { heartbeat } from '@temporalio/activity';
import type { NoticeDispatcher } from '../services/notice.dispatcher';

/** What one round of the dispatcher did, and when it has something to do next. */
export interface DispatchRound {
  readonly sent: number;
  readonly failed: number;
  /** A full batch was taken: go again at once. */
  readonly more: boolean;
  /** When the next notice or delivery falls due; null when nothing waits. */
  readonly nextAt: string | null;
}

/** The notice dispatcher as an activity: one round per call (see services/notice.dispatcher.ts). */
export function createNoticeActivities(deps: { dispatcher: NoticeDispatcher | null }) {
  return {
    /** One round at `at`, the dispatcher workflow's time. */
    async dispatchNotices(at?: string): Promise<DispatchRound> {
      if (!deps.dispatcher) return { sent: 0, failed: 0, more: false, nextAt: null };
      const round = await deps.dispatcher.dispatch(20, () => heartbeat(), at);
      return { sent: round.sent, failed: round.failed, more: round.more, nextAt: round.nextAt };
    },
  };
}
export type NoticeActivities = ReturnType<typeof createNoticeActivities>;
