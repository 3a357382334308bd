import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import path from 'node:path';

/** API processes forked beside the worker (DUBAN_API_PROCESSES > 1). */
export interface ApiProcesses {
  /** Resolves when every process listens; rejects if one exits first. */
  readonly ready: Promise<void>;
  /** Stops them all (each closes its server, letting requests in progress finish) and waits. */
  stop(): Promise<void>;
}

export interface ApiProcessLog {
  info(attributes: Record<string, unknown>, message: string): void;
  warn(attributes: Record<string, unknown>, message: string): void;
}

/**
 * Forks `count` API processes (worker/api-process.ts) with `env` added to this process's
 * environment. node:cluster shares their port: connections go round-robin to them, so reads use
 * every core. A process that exits unexpectedly is forked again after a second. The process with
 * index 0 does the API's background work (removing uploads no case refers to).
 */
export function startApiProcesses(options: { count: number; env: Record<string, string>; log: ApiProcessLog }): ApiProcesses {
  cluster.setupPrimary({ exec: path.join(__dirname, 'api-process.js') });
  const live = new Map<number, ClusterWorker>();
  let stopping = false;

  const fork = (index: number): Promise<void> => {
    const child = cluster.fork({ ...options.env, DUBAN_API_PROCESS_INDEX: String(index), DUBAN_API_PROCESS_COUNT: String(options.count) });
    live.set(index, child);
    const listening = new Promise<void>((resolve, reject) => {
      child.once('listening', () => resolve());
      child.once('exit', (code, signal) => reject(new Error(`API process ${index} exited before it listened (${signal ?? code})`)));
    });
    child.on('exit', (code, signal) => {
      if (live.get(index) === child) live.delete(index);
      if (stopping) return;
      options.log.warn({ index, code, signal }, 'API process exited; forking it again');
      setTimeout(() => {
        if (!stopping) fork(index).catch(() => undefined);
      }, 1000).unref();
    });
    return listening;
  };

  const ready = Promise.all(Array.from({ length: options.count }, (_, index) => fork(index))).then(() =>
    options.log.info({ processes: options.count }, 'API processes listening'),
  );
  ready.catch(() => undefined);
  return {
    ready,
    async stop() {
      stopping = true;
      await Promise.all(
        [...live.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.isDead()) return resolve();
              child.once('exit', () => resolve());
              child.process.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
