/**
 * `npm start`: the embedded default on one machine. Starts a Temporal dev server with its state
 * under the data directory (unless TEMPORAL_ADDRESS names a server), migrates the SQLite read
 * model, runs the worker and the HTTP API until Ctrl-C, then stops everything in order.
 */
import { Client, Connection } from '@temporalio/client';
import { apiLimits, buildApi } from '../api/server';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../config/config';
import { createLogger, installTemporalLogging } from '../config/logger';
import { migrateToLatest, openDatabase } from '../db/database';
import { provisionTemporalBinaries } from '../scripts/binaries';
import { type DevServer, startDevServer } from './dev-server';
import { ensureSearchAttributes } from './search-attributes';
import { createMailChannel, type MailChannel } from '../services/mail.channel';
import { bulletinScheduleId, ensureBulletinSchedule, removeBulletinSchedule } from '../services/bulletin.schedule';
import { noticeWaker } from '../services/notice.wake';
import { loadSecretKey } from '../services/secret-key';
import { type ApiProcesses, startApiProcesses } from './api-processes';
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
      sqliteSync: config.devServerSqliteSync,
    });
    address = devServer.address;
  }

  const db = openDatabase(config.databaseFile);
  const connection = await NativeConnection.connect({ address });
  let mail: MailChannel | null = null;
  try {
    const migrations = await migrateToLatest(db);
    logger.info(
      { file: config.databaseFile, applied: migrations.applied },
      'read model ready',
    );
    const clientConnection = await Connection.connect({ address });
    const added = await ensureSearchAttributes(clientConnection, config.temporalNamespace);
    if (added.length > 0) logger.info({ added }, 'registered search attributes');
    const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
    // One process serves the API beside the worker, or several API processes of their own do.
    let api: Awaited<ReturnType<typeof buildApi>> | undefined;
    let apiProcesses: ApiProcesses | undefined;
    if (config.apiProcesses > 1) {
      const started = startApiProcesses({ count: config.apiProcesses, env: { TEMPORAL_ADDRESS: address }, log: logger });
      apiProcesses = started;
      await started.ready.catch(async (error: unknown) => {
        await started.stop();
        throw error;
      });
    } else {
      api = await buildApi({
        db,
        client,
        taskQueue: config.taskQueue,
        timeZone: config.timeZone,
        dataDir: config.dataDir,
        logger,
        ...apiLimits(config),
      });
      await api.listen({ host: config.apiHost, port: config.apiPort });
    }
    const url = `http://${config.apiHost}:${config.apiPort}`;
    // The API stops taking requests at once; the worker finishes what it holds.
    const closeApi = () => void (api?.close() ?? apiProcesses?.stop());
    process.once('SIGINT', closeApi);
    process.once('SIGTERM', closeApi);
    const wakeNotices = noticeWaker(client, config.taskQueue);
    const noticeLog = logger.child({ component: 'notices' });
    let secretKey: string | undefined;
    // One pooled SMTP connection for the worker's life, closed when it stops (an open one would
    // keep the process alive until the server's idle time-out).
    mail = config.smtp ? createMailChannel(config.smtp) : null;
    const worker = await createDubanWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      db,
      timeZone: config.timeZone,
      policyFile: config.policyFile,
      calendarFile: config.calendarFile,
      fileLogger: logger.child({ component: 'config-files' }),
      maxCachedWorkflows: config.maxCachedWorkflows,
      wakeNotices,
      notices: {
        mail,
        secretKey: () => (secretKey ??= loadSecretKey({ configured: config.secretKey, dataDir: config.dataDir })),
        publicUrl: config.publicUrl ?? url,
        log: { warn: (message: string, attributes?: Record<string, unknown>) => noticeLog.warn(attributes ?? {}, message) },
      },
    });
    if (!config.smtp) {
      logger.warn(
        'no SMTP server configured: e-mail notices wait in the outbox (duban outbox); set DUBAN_SMTP_HOST (and DUBAN_SMTP_PORT, DUBAN_SMTP_USER, DUBAN_SMTP_PASSWORD, DUBAN_MAIL_FROM) to send them; see docs/notifications.md',
      );
    }
    // 定期通报: the Schedule drafts a bulletin each period (the office decides and approves).
    try {
      if (config.bulletinSchedule) {
        const outcome = await ensureBulletinSchedule(client, { taskQueue: config.taskQueue, periodKind: config.bulletinPeriod, ...config.bulletinSchedule });
        logger.info({ schedule: bulletinScheduleId(config.taskQueue), ...config.bulletinSchedule, period: config.bulletinPeriod, outcome }, 'bulletin schedule ready');
      } else if (await removeBulletinSchedule(client, config.taskQueue)) {
        logger.info('bulletin schedule removed (DUBAN_BULLETIN_CRON=off)');
      }
    } catch (error) {
      logger.warn({ err: error }, 'bulletin schedule not set up; drafts can still be made with duban bulletin draft');
    }
    // The dispatcher runs as long as the task queue does; start it (or wake it) now.
    await wakeNotices().catch((error: unknown) => logger.warn({ err: error }, 'notice dispatcher not started yet'));
    process.removeListener('SIGINT', earlyStop);
    process.removeListener('SIGTERM', earlyStop);
    logger.info(
      { temporal: address, ui: devServer?.uiUrl, api: url, docs: `${url}/docs`, namespace: config.temporalNamespace, taskQueue: config.taskQueue },
      'duban worker running; Ctrl-C stops it',
    );
    await worker.run();
    await (api?.close() ?? apiProcesses?.stop());
    await clientConnection.close();
    logger.info('worker stopped');
  } finally {
    mail?.close();
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
