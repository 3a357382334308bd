/**
 * The worker process of the memory scenario (bench/memory.ts), started with `fork` so that its
 * memory is its own: duban's worker (createDubanWorker over the prebuilt bundle, as `npm start`
 * runs it, without the API) or the baseline's (the sleeping baseline workflow, also prebuilt).
 * Answers `measure` messages with its memory and the SDK worker's status.
 */
import fs from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { openDatabase } from '../db/database';
import { createDubanWorker } from '../worker/worker';

/** What the parent sends in the environment. */
export interface MemoryWorkerEnv {
  BENCH_MEMORY_KIND: 'duban' | 'baseline';
  BENCH_MEMORY_ADDRESS: string;
  BENCH_MEMORY_TASK_QUEUE: string;
  BENCH_MEMORY_MAX_CACHED: string;
  BENCH_MEMORY_BUNDLE: string;
  /** duban only: the read model the activities write. */
  BENCH_MEMORY_DATABASE?: string;
  BENCH_MEMORY_POLICY_FILE?: string;
  BENCH_MEMORY_CALENDAR_FILE?: string;
}

/** The answer to `measure`. */
export interface MemorySample {
  readonly rssBytes: number;
  /** The main thread's heap only: the workflows live in the SDK's workflow thread, counted in RSS. */
  readonly mainHeapUsedBytes: number;
  readonly externalBytes: number;
  readonly peakRssBytes: number;
  readonly status: ReturnType<Worker['getStatus']>;
}

function peakRssBytes(): number {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) * 1024;
  } catch {
    return Number.NaN;
  }
}

async function main(): Promise<void> {
  const env = process.env as unknown as MemoryWorkerEnv;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: env.BENCH_MEMORY_ADDRESS });
  const maxCachedWorkflows = Number(env.BENCH_MEMORY_MAX_CACHED);
  const db = env.BENCH_MEMORY_DATABASE ? openDatabase(env.BENCH_MEMORY_DATABASE) : null;
  const worker =
    env.BENCH_MEMORY_KIND === 'duban'
      ? await createDubanWorker({
          connection,
          namespace: 'default',
          taskQueue: env.BENCH_MEMORY_TASK_QUEUE,
          workflowBundle: env.BENCH_MEMORY_BUNDLE,
          db: db!,
          timeZone: 'Asia/Shanghai',
          policyFile: env.BENCH_MEMORY_POLICY_FILE,
          calendarFile: env.BENCH_MEMORY_CALENDAR_FILE,
          maxCachedWorkflows,
        })
      : await Worker.create({
          connection,
          namespace: 'default',
          taskQueue: env.BENCH_MEMORY_TASK_QUEUE,
          workflowBundle: { codePath: env.BENCH_MEMORY_BUNDLE },
          activities: { noop: (): Promise<void> => Promise.resolve(), fired: (): Promise<void> => Promise.resolve() },
          maxCachedWorkflows,
        });
  process.on('message', (message) => {
    if (message === 'measure') {
      const usage = process.memoryUsage();
      const sample: MemorySample = {
        rssBytes: usage.rss,
        mainHeapUsedBytes: usage.heapUsed,
        externalBytes: usage.external,
        peakRssBytes: peakRssBytes(),
        status: worker.getStatus(),
      };
      process.send?.(sample);
    } else if (message === 'stop') {
      worker.shutdown();
    }
  });
  const running = worker.run();
  process.send?.('ready');
  await running;
  await connection.close();
  await db?.destroy();
  process.disconnect?.();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
