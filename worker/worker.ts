import fs from 'node:fs';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { createReadModelActivities } from '../activities/read-model.activities';
import type { Db } from '../db/database';
import { workflowBundlePath } from '../scripts/bundle-workflows';

export interface DubanWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly db: Db;
  /** A prebuilt workflow bundle; by default dist/workflow-bundle.js, else bundled at start. */
  readonly workflowBundle?: string;
}

/** The worker that runs duban's workflows and activities on one task queue. */
export async function createDubanWorker(options: DubanWorkerOptions): Promise<Worker> {
  const bundle = options.workflowBundle ?? workflowBundlePath();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(fs.existsSync(bundle)
      ? { workflowBundle: { codePath: bundle } }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createReadModelActivities({ db: options.db }),
  });
}
