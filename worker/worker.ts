import fs from 'node:fs';
import { type NativeConnection, Worker } from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities';
import { workflowBundlePath, workflowBundlerOptions } from '../scripts/bundle-workflows';

export interface DubanWorkerOptions extends ActivityDeps {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  /** A prebuilt workflow bundle; by default dist/workflow-bundle.js, else bundled at start. */
  readonly workflowBundle?: string;
  /** Workflows kept in memory between tasks; the SDK's default (by heap size) when unset. */
  readonly maxCachedWorkflows?: number;
  /**
   * How long a shutdown lets running activities finish before cancelling them; the SDK's default
   * (none) when unset. Local activities cancelled mid-write would fail their workflow task.
   */
  readonly shutdownGraceMs?: number;
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
      : { workflowsPath: require.resolve('../workflows'), bundlerOptions: workflowBundlerOptions() }),
    activities: createActivities(options),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.shutdownGraceMs !== undefined ? { shutdownGraceTime: options.shutdownGraceMs } : {}),
  });
}
