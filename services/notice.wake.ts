import type { Client } from '@temporalio/client';

/** The dispatcher's workflow type and id (workflows/notices.workflow.ts), named here for clients. */
const dispatcherType = 'noticeDispatcherWorkflow';

/** The dispatcher's workflow id: one per task queue, so that installations sharing a namespace keep apart. */
export function noticeDispatcherId(taskQueue: string): string {
  return `duban-notices-${taskQueue}`;
}
const wakeSignal = 'wakeNotices';

/**
 * Wakes the notice dispatcher of a task queue, starting it if it is not running: whoever writes
 * to the outbox (or retries a delivery) calls this once the write is committed.
 */
export function noticeWaker(client: Client, taskQueue: string): () => Promise<void> {
  return async () => {
    await client.workflow.signalWithStart(dispatcherType, {
      workflowId: noticeDispatcherId(taskQueue),
      taskQueue,
      signal: wakeSignal,
      signalArgs: [],
    });
  };
}

/**
 * A waker that signals at most once per `everyMs`: the first call in a quiet spell signals at once
 * (and is awaited); later calls within the spell are folded into one signal at its end. Every call
 * is thus followed, within `everyMs`, by a signal sent after it, which is all a wake needs (the
 * dispatcher round it starts sees what the caller wrote). A failed signal, the first's included,
 * is tried again a second later, three tries in all; after that, the dispatcher's own idle look
 * finds what it was for. Spells are timed by a monotonic clock (a step of the wall clock must
 * not hold wakes back).
 */
export function coalescedWaker(wake: () => Promise<void>, everyMs = 250, onError: (error: unknown) => void = () => undefined): () => Promise<void> {
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let scheduled: NodeJS.Timeout | undefined;
  const retryMs = 1_000;
  const failed = (error: unknown, triesLeft: number) => {
    onError(error);
    if (triesLeft > 0 && !scheduled) sendLater(retryMs, triesLeft);
  };
  const sendLater = (delayMs: number, triesLeft: number) => {
    scheduled = setTimeout(() => {
      // Sending from here on: a call from now on needs a signal of its own.
      scheduled = undefined;
      lastSentAt = performance.now();
      wake().catch((error: unknown) => failed(error, triesLeft - 1));
    }, delayMs);
    scheduled.unref();
  };
  return async () => {
    if (scheduled) return;
    const sinceLast = performance.now() - lastSentAt;
    if (sinceLast < everyMs) return sendLater(everyMs - sinceLast, 3);
    lastSentAt = performance.now();
    try {
      await wake();
    } catch (error) {
      failed(error, 2);
      throw error;
    }
  };
}
