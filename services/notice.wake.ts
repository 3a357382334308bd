import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { everythingConfirmed } from '../db/journal.repository';

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
 * How far the server has recorded a workflow's journal writes (docs/reliability.md): the fence
 * below which its writes were made by workflow tasks the server has completed. A write made by the
 * workflow task still pending (running, or failed and waiting for its next attempt) has a fence at
 * or above the time that task was first scheduled; every earlier one is below. A closed workflow,
 * or one with no workflow task pending, has all its writes recorded; so has one that is gone.
 */
export function journalConfirmation(client: Client): (workflowId: string) => Promise<number> {
  return async (workflowId) => {
    let description;
    try {
      description = await client.workflow.getHandle(workflowId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return everythingConfirmed;
      throw error;
    }
    if (description.status.name !== 'RUNNING') return everythingConfirmed;
    const pending = description.raw.pendingWorkflowTask;
    if (!pending) return everythingConfirmed;
    // The first attempt's scheduled time (a server that leaves it unset gives the current attempt's).
    const times = [optionalTsToMs(pending.originalScheduledTime), optionalTsToMs(pending.scheduledTime)].filter((t): t is number => t !== undefined && t > 0);
    return times.length > 0 ? Math.min(...times) : 0;
  };
}
