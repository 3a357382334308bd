import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { type ActivityDeps, createActivities } from '../../activities';
import type { Db } from '../../db/database';
import { ensureSearchAttributes } from '../../worker/search-attributes';

/** A time-skipping Temporal test server from the provisioned Java launcher, search attributes registered. */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServer') } },
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** A worker on a task queue of its own, running duban's workflows against `db`. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  db: Db,
  deps: Partial<ActivityDeps> = {},
): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `test-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundle') },
    activities: createActivities({ db, timeZone: 'Asia/Shanghai', ...deps }),
  });
  return { worker, taskQueue };
}
