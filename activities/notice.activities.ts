import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
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

/** How long one round keeps taking batches while more is due at once. */
const roundBudgetMs = 60_000;

/** How often a running round tells the server it is alive (well inside its heartbeat time-out). */
const heartbeatEveryMs = 5_000;

/** The notice dispatcher as an activity: one round per call (see services/notice.dispatcher.ts). */
export function createNoticeActivities(deps: { dispatcher: NoticeDispatcher | null }) {
  return {
    /** One round at `at`, the dispatcher workflow's time. */
    async dispatchNotices(at?: string): Promise<DispatchRound> {
      if (!deps.dispatcher) return { sent: 0, failed: 0, more: false, nextAt: null };
      const info = activityInfo();
      // A round's claims are named after its activity and attempt: a later attempt of the same
      // activity runs only once the earlier one failed or timed out (its worker died), so it
      // takes over that attempt's claims at once rather than after the lease.
      const round = `${info.workflowExecution?.runId ?? info.activityRunId ?? 'standalone'}/${info.activityId}#`;
      const signal = cancellationSignal();
      // Alive while it runs, even during one slow send; a worker that dies stops heartbeating and
      // the server retries the round elsewhere after the heartbeat time-out.
      const beat = setInterval(() => heartbeat(), heartbeatEveryMs);
      try {
        // Batch after batch while there is more at once, up to a time budget: a full outbox is
        // emptied without a round trip through the server per batch, and the round still ends
        // often enough for the workflow to keep its history short and see its signals.
        const began = Date.now();
        let sent = 0;
        let failed = 0;
        for (;;) {
          // The workflow's time, moved on by what this round has taken, but never behind this
          // process's clock: a retried round runs now, not when its first attempt was scheduled.
          const clock = at ? new Date(Math.max(Date.parse(at) + (Date.now() - began), Date.now())).toISOString() : undefined;
          const result = await deps.dispatcher.dispatch({
            batch: 50,
            clock,
            deadline: began + roundBudgetMs,
            claimId: `${round}${info.attempt}`,
            deadClaimPrefix: info.attempt > 1 ? round : null,
            // A round whose attempt the server has given up on (cancelled, timed out) stops before
            // its next send, so that a zombie does not race the attempt that replaced it.
            progress: () => {
              if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the round was cancelled');
            },
          });
          sent += result.sent;
          failed += result.failed;
          if (!result.more || Date.now() - began >= roundBudgetMs) return { sent, failed, more: result.more, nextAt: result.nextAt };
        }
      } finally {
        clearInterval(beat);
      }
    },
  };
}
export type NoticeActivities = ReturnType<typeof createNoticeActivities>;
