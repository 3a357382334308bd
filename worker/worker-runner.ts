import type { Worker } from '@temporalio/worker';
import type { Logger } from 'pino';

/** Runs one worker at a time and can stop it for a while (a consistent backup) and start another. */
export interface WorkerRunner {
  /** Runs workers until `stop()` or a shutdown signal; resolves when the last one has stopped. */
  run(): Promise<void>;
  /**
   * Shuts the running worker down (no more polling; its workflow tasks complete or fail, so no
   * local activity of this process writes the read model any more), runs `fn` while none runs,
   * then lets `run()` start a new worker. One pause at a time; later ones wait their turn.
   */
  whilePaused<T>(fn: () => Promise<T>): Promise<T>;
  /** Stops the running worker, and starts no other. */
  stop(): void;
  /** Whether a worker polls right now (readiness). */
  readonly polling: boolean;
}

interface Pause {
  readonly stopped: () => void;
  readonly done: Promise<void>;
}

/** A {@link WorkerRunner} over `create`, which makes a new worker each time one is needed. */
export function createWorkerRunner(create: () => Promise<Worker>, logger: Logger): WorkerRunner {
  let current: Worker | undefined;
  let pause: Pause | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let stopping = false;

  const shutdown = (worker: Worker | undefined) => {
    if (worker?.getState() !== 'RUNNING') return;
    worker.shutdown();
  };

  const onSignal = () => {
    stopping = true;
    shutdown(current);
  };

  return {
    get polling() {
      return current?.getState() === 'RUNNING';
    },

    async run() {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        while (!stopping) {
          const worker = await create();
          current = worker;
          const running = worker.run();
          // A pause or a stop asked for while the worker was being made.
          if (pause || stopping) shutdown(worker);
          await running;
          current = undefined;
          const paused = pause;
          if (!paused) break; // shut down by a signal (the SDK's own handler) or by stop()
          paused.stopped();
          await paused.done;
          if (!stopping) logger.info('worker starting again after a pause');
        }
      } finally {
        // A pause asked for as the process stops finds no worker to wait for.
        pause?.stopped();
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    },

    whilePaused<T>(fn: () => Promise<T>): Promise<T> {
      const turn = queue.then(async () => {
        if (stopping) throw new Error('the worker is stopping');
        let stopped!: () => void;
        const hasStopped = new Promise<void>((resolve) => (stopped = resolve));
        let finish!: () => void;
        const done = new Promise<void>((resolve) => (finish = resolve));
        pause = { stopped, done };
        try {
          logger.info('pausing the worker: draining its workflow tasks');
          shutdown(current);
          await hasStopped;
          return await fn();
        } finally {
          pause = undefined;
          finish();
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },

    stop() {
      stopping = true;
      shutdown(current);
    },
  };
}
