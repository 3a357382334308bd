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

