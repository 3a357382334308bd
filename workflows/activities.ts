import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { DeadlineActivities } from '../activities/deadline.activities';
import type { ReadModelActivities } from '../activities/read-model.activities';

const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;
/** How duban's workflows run their (non-local) activities. */
export const activityOptions = {
  // Database work and calendar arithmetic take milliseconds; after this long the worker is gone.
  startToCloseTimeout: '10 seconds',
  // No attempt limit: an event must reach the read model, however long the database is away.
  retry,
} as const;

const remoteReadModel = proxyActivities<ReadModelActivities>(activityOptions);
const localReadModel = proxyLocalActivities<ReadModelActivities>({ startToCloseTimeout: '10 seconds', retry });

/**
 * The read-model writer. Its writes are idempotent, so it runs as a local activity in the worker:
 * one workflow task per change instead of a round trip through the server's activity queue, and
 * if the worker dies mid-write the write simply runs again. Runs started before keep their
 * scheduled activities. `known` says a later patch that implies this one is in force (no marker then).
 */
export function readModel(known = false): ReadModelActivities {
  return known || patched('local-read-model') ? localReadModel : remoteReadModel;
}

const remoteDeadlines = proxyActivities<DeadlineActivities>(activityOptions);
const localDeadlines = proxyLocalActivities<DeadlineActivities>({ startToCloseTimeout: '10 seconds', retry });

/**
 * Deadline arithmetic on the working calendar and the policy in force. It only reads, so it runs
 * as a local activity in the worker, without a round trip through the server (a timer that wakes
 * a task re-plans at once); runs started before that change keep their scheduled activities.
 * `known` says a later patch that implies this one is in force (no marker then).
 */
export function deadlines(known = false): DeadlineActivities {
  return known || patched('local-deadline-activities') ? localDeadlines : remoteDeadlines;
}
