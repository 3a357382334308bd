import { proxyActivities } from '@temporalio/workflow';
import type { DeadlineActivities } from '../activities/deadline.activities';
import type { ReadModelActivities } from '../activities/read-model.activities';

const options = {
  // Database work and calendar arithmetic take milliseconds; after this long the worker is gone.
  startToCloseTimeout: '10 seconds',
  // No attempt limit: an event must reach the read model, however long the database is away.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
} as const;

/** The read-model writer. */
export const readModel = proxyActivities<ReadModelActivities>(options);
/** Deadline arithmetic on the working calendar and the policy in force. */
export const deadlines = proxyActivities<DeadlineActivities>(options);
