/**
 * `npm start`: the embedded default on one machine. Starts a Temporal dev server with its state
 * under the data directory (unless TEMPORAL_ADDRESS names a server), migrates the SQLite read
 * model, runs the worker and the HTTP API until Ctrl-C, then stops everything in order. For
 * separate processes, see `duban worker` and `duban api` (worker/processes.ts).
 */
import { loadConfig } from '../config/config';
import { createLogger, installTemporalLogging } from '../config/logger';
import { runProcess } from './processes';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  installTemporalLogging(logger, config.logLevel, config.temporalMetricsAddress);
  await runProcess({ worker: true, api: true, embeddedServer: config.temporalAddress === undefined }, config, logger);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
