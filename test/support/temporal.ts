import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { createReadModelActivities } from '../../activities/read-model.activities';
import type { Db } from '../../db/database';

/** A time-skipping Temporal test server from the provisioned Java launcher. */
export function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServer') } },
  });
}

/** A worker on a task queue of its own, running duban's workflows against `db`. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  db: Db,
): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundle') },
    activities: createReadModelActivities({ db }),
  });
  return { worker, taskQueue };
}
