import { condition, continueAsNew, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { NoticeActivities } from '../activities/notice.activities';

/** Wakes the notice dispatcher: something was written to the outbox (or a delivery retried). */
export const wakeNoticesSignal = defineSignal('wakeNotices');

const { dispatchNotices } = proxyActivities<NoticeActivities>({
  // A round sends at most a batch, each send bounded by its channel's time-outs.
  startToCloseTimeout: '15 minutes',
  // A round heartbeats every few seconds: a worker that dies mid-round is noticed within this.
  heartbeatTimeout: '30 seconds',
  // A round is cheap and safe to run again: after a few worker deaths in a row the next try is
  // still at most half a minute away (the fault run saw the outbox stand still for minutes at 5).
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Even with nothing due, look again this often: a wake-up lost with a crashed worker is found. */
const defaultIdleCheckMs = 10 * 60_000;

export interface NoticeDispatcherInput {
  /** How long to sleep with nothing due before looking again (default ten minutes). */
  readonly idleCheckMs?: number;
}

/**
 * The notice dispatcher (one per task queue): runs a round of dispatching whenever the outbox is
 * written to (a signal) or something falls due (a durable timer), never polling in a loop.
 * Deliveries keep their own state in the database, so a round that dies is simply run again.
 */
export async function noticeDispatcherWorkflow(input: NoticeDispatcherInput = {}): Promise<void> {
  const idleCheckMs = input.idleCheckMs ?? defaultIdleCheckMs;
  let woken = false;
  setHandler(wakeNoticesSignal, () => {
    woken = true;
  });
  for (let round = 0; round < 500; round++) {
    woken = false;
    const { more, nextAt } = await dispatchNotices(new Date().toISOString());
    if (more) continue;
    const wait = nextAt === null ? idleCheckMs : Math.min(idleCheckMs, Math.max(0, Date.parse(nextAt) - Date.now()));
    // Due at once (or already past): a short breath, never a hot loop.
    await condition(() => woken, Math.max(250, wait));
  }
  // A bounded history: start afresh, carrying nothing (the state is in the database).
  await continueAsNew<typeof noticeDispatcherWorkflow>(input);
}
