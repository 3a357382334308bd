/**
 * `npm start`: the embedded default on one machine. Starts a Temporal dev server with its state
 * under the data directory (unless TEMPORAL_ADDRESS names a server), migrates the SQLite read
 * model, and runs the worker until Ctrl-C, then stops everything in order.
 */
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createLogger, installTemporalLogging } from '../config/logger';
import { migrateToLatest, openDatabase } from '../db/database';
import { provisionTemporalBinaries } from '../scripts/binaries';
import { type DevServer, startDevServer } from './dev-server';
import { ensureSearchAttributes } from './search-attributes';
import { createDubanWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  installTemporalLogging(logger, config.logLevel);

  let devServer: DevServer | undefined;
  let stopping = false;
  // Until the worker runs (it handles signals itself), a signal stops what has started so far.
  const earlyStop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping before the worker started');
    void (devServer?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', earlyStop);
  process.once('SIGTERM', earlyStop);

  let address = config.temporalAddress;
  if (address === undefined) {
    const binaries = provisionTemporalBinaries();
    devServer = await startDevServer({
      cli: binaries.temporalCli,
      dataDir: config.dataDir,
      port: config.devServerPort,
      uiPort: config.devServerUiPort,
      namespace: config.temporalNamespace,
      logger,
    });
    address = devServer.address;
  }

  const db = openDatabase(config.databaseFile);
  const connection = await NativeConnection.connect({ address });
  try {
    const migrations = await migrateToLatest(db);
    logger.info(
      { file: config.databaseFile, applied: migrations.results?.map((r) => r.migrationName) ?? [] },
      'read model ready',
    );
    const client = await Connection.connect({ address });
    try {
      const added = await ensureSearchAttributes(client, config.temporalNamespace);
      if (added.length > 0) logger.info({ added }, 'registered search attributes');
    } finally {
      await client.close();
    }
    const worker = await createDubanWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      db,
      timeZone: config.timeZone,
      policyFile: config.policyFile,
      calendarFile: config.calendarFile,
    });
    process.removeListener('SIGINT', earlyStop);
    process.removeListener('SIGTERM', earlyStop);
    logger.info(
      { temporal: address, ui: devServer?.uiUrl, namespace: config.temporalNamespace, taskQueue: config.taskQueue },
      'duban worker running; Ctrl-C stops it',
    );
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await db.destroy();
    await devServer?.stop();
    logger.info('stopped');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
