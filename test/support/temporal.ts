import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { type ActivityDeps, createActivities } from '../../activities';
import type { Db } from '../../db/database';
import { ensureSearchAttributes } from '../../worker/search-attributes';
import { type CaseService, createCaseService } from '../../services/case.service';
import { tempDatabase } from './database';

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
  taskQueue = `test-${randomUUID()}`,
): Promise<{ worker: Worker; taskQueue: string }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundle') },
    activities: createActivities({ db, timeZone: 'Asia/Shanghai', ...deps }),
  });
  return { worker, taskQueue };
}

/** A worker on the time-skipping server over a fresh SQLite file, with the case service on top. */
export interface WorkflowStack {
  readonly env: TestWorkflowEnvironment;
  readonly db: Db;
  readonly dir: string;
  readonly taskQueue: string;
  readonly service: CaseService;
  close(): Promise<void>;
}

/** Starts a {@link WorkflowStack} with `departments` added; `deps` reach the worker's activities. */
export async function startWorkflowStack(
  options: {
    departments?: string[];
    deps?: (dir: string, context: { env: TestWorkflowEnvironment; taskQueue: string }) => Partial<ActivityDeps>;
  } = {},
): Promise<WorkflowStack> {
  const env = await startTimeSkipping();
  const { db, dir } = await tempDatabase(options.departments ?? ['CG', 'JD', 'SJ']);
  const taskQueue = `test-${randomUUID()}`;
  const given = options.deps?.(dir, { env, taskQueue });
  // Notices wait for their journal writes to be on the server's record, as in `duban worker`.
  const deps = given?.notices && !given.notices.client ? { ...given, notices: { ...given.notices, client: env.client } } : given;
  const { worker } = await createTestWorker(env, db, deps, taskQueue);
  const running = worker.run();
  const service = createCaseService({ client: env.client, db, taskQueue, timeZone: 'Asia/Shanghai' });
  return {
    env,
    db,
    dir,
    taskQueue,
    service,
    async close() {
      worker.shutdown();
      await running;
      await db.destroy();
      await env.teardown();
    },
  };
}
