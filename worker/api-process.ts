/**
 * One of several API processes (DUBAN_API_PROCESSES > 1), forked by worker/main.ts through
 * node:cluster: the same configuration, the API only. The first process has migrated the read
 * model and runs the worker; this one reads and writes the same SQLite file (WAL) and sends
 * commands to the same Temporal server (TEMPORAL_ADDRESS, set by the first process).
 */
import { Client, Connection } from '@temporalio/client';
import { apiLimits, buildApi } from '../api/server';
import { loadConfig } from '../config/config';
import { createLogger } from '../config/logger';
import { openDatabase } from '../db/database';

async function main(): Promise<void> {
  const config = loadConfig();
  const index = Number(process.env.DUBAN_API_PROCESS_INDEX ?? 0);
  const count = Number(process.env.DUBAN_API_PROCESS_COUNT ?? 1);
  const logger = createLogger(config.logLevel).child({ apiProcess: index });
  if (config.temporalAddress === undefined) throw new Error('an API process needs TEMPORAL_ADDRESS (set by the process that forks it)');
  const db = openDatabase(config.databaseFile);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const api = await buildApi({
    db,
    client,
    taskQueue: config.taskQueue,
    timeZone: config.timeZone,
    dataDir: config.dataDir,
    logger,
    ...apiLimits(config),
    collectEvidence: index === 0,
    limitShares: count,
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'API process stopping');
    void api
      .close()
      .then(() => connection.close())
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await api.listen({ host: config.apiHost, port: config.apiPort });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
