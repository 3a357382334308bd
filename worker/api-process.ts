/**
 * One of several API processes (DUBAN_API_PROCESSES > 1), forked through node:cluster by the
 * process that runs the API role (worker/processes.ts): the same configuration, the API only. It
 * reads and writes the same read model and sends commands to the same Temporal server
 * (TEMPORAL_ADDRESS, set by the process that forks it).
 */
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { runProcess } from './processes';

async function main(): Promise<void> {
  const config = loadConfig();
  const index = Number(process.env.DUBAN_API_PROCESS_INDEX ?? 0);
  const count = Number(process.env.DUBAN_API_PROCESS_COUNT ?? 1);
  const logger = createLogger(config.logLevel).child({ apiProcess: index });
  if (config.temporalAddress === undefined) throw new Error('an API process needs TEMPORAL_ADDRESS (set by the process that forks it)');
  // Stopped by the process that forked it (or with it, by Ctrl-C): the API closes gracefully, and
  // the process is gone within ten seconds whatever still holds it (the bench found forked API
  // processes alive minutes after their graceful stop, their parent waiting for them).
  const deadline = () => setTimeout(() => process.exit(0), 10_000).unref();
  process.once('SIGTERM', deadline);
  process.once('SIGINT', deadline);
  await runProcess({ worker: false, api: true, embeddedServer: false, apiShare: { index, count } }, config, logger);
  // The channel to the parent would keep the process alive on its own.
  if (process.connected) process.disconnect();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
