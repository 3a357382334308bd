/**
 * What a duban process runs: the worker, the HTTP API, or both (`npm start`, which also starts the
 * embedded Temporal server unless TEMPORAL_ADDRESS names a cluster). `duban worker` and
 * `duban api` run one role each, as many of each as the load needs, against one cluster.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { apiLimits, buildApi } from '../api/server';
import type { Config } from '../config/config';
import { describeDatabase, migrateToLatest, openDatabase } from '../db/database';
import { provisionTemporalBinaries } from '../scripts/binaries';
import { backupData, type DataLocations } from '../services/backup.service';
import { bulletinScheduleId, ensureBulletinSchedule, removeBulletinSchedule } from '../services/bulletin.schedule';
import { createMailChannel, type MailChannel } from '../services/mail.channel';
import { createMetricsRegistry, flagGauge, readModelMetrics, RequestMetrics } from '../services/metrics.service';
import { coalescedWaker, noticeWaker } from '../services/notice.wake';
import { loadSecretKey } from '../services/secret-key';
import { startApiProcesses } from './api-processes';
import { controlSocketPath, serveControl } from './control';
import { type DevServer, startDevServer, temporalDatabaseFile } from './dev-server';
import { type ReadinessCheck, startOpsServer } from './ops-server';
import { ensureSearchAttributes } from './search-attributes';
import { configuredTemporalAddress, temporalConnectionOptions } from './temporal-connection';
import { createDubanWorker } from './worker';
import { createWorkerRunner, type WorkerRunner } from './worker-runner';

/** Which parts this process runs. */
export interface ProcessRoles {
  readonly worker: boolean;
  readonly api: boolean;
  /** Start the embedded Temporal dev server under the data directory (only without TEMPORAL_ADDRESS). */
  readonly embeddedServer: boolean;
  /**
   * This process is API process `index` of `count` forked by another (DUBAN_API_PROCESSES > 1):
   * it takes its share of the public's rate limits, only the first removes unreferenced uploads,
   * and the forking process serves the operations endpoint.
   */
  readonly apiShare?: { readonly index: number; readonly count: number };
}

/** What an embedded installation's backup holds, where this configuration keeps it. */
export function dataLocations(config: Readonly<Config>): DataLocations {
  return {
    dataDir: config.dataDir,
    databaseFile: config.databaseUrl,
    temporalFile: temporalDatabaseFile(config.dataDir),
    evidenceDir: config.evidenceDir,
    files: {
      'secret.key': path.join(config.dataDir, 'secret.key'),
      'policy.json': config.policyFile,
      'calendar.json': config.calendarFile,
    },
  };
}

/** Runs `roles` until SIGINT or SIGTERM, then stops everything in order. */
export async function runProcess(roles: ProcessRoles, config: Readonly<Config>, logger: Logger): Promise<void> {
  let devServer: DevServer | undefined;
  let stopping = false;
  // Until the worker runs (it handles signals itself), a signal stops what has started so far.
  const earlyStop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping before the process was running');
    void (devServer?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', earlyStop);
  process.once('SIGTERM', earlyStop);

  let address = configuredTemporalAddress(config);
  if (roles.embeddedServer) {
    if (config.temporalAddress !== undefined) throw new Error('TEMPORAL_ADDRESS names a cluster: no embedded server to start');
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

  const connectionOptions = temporalConnectionOptions(config, address);
  const db = openDatabase(config.databaseUrl);
  const closing: (() => Promise<void> | void)[] = [];
  try {
    const migrations = await migrateToLatest(db);
    logger.info({ database: describeDatabase(config.databaseUrl), applied: migrations.applied }, 'read model ready');
    const clientConnection = await Connection.connect(connectionOptions);
    closing.unshift(() => clientConnection.close());
    const added = await ensureSearchAttributes(clientConnection, config.temporalNamespace);
    if (added.length > 0) logger.info({ added }, 'registered search attributes');
    const client = new Client({ connection: clientConnection, namespace: config.temporalNamespace });
    const apiUrl = `http://${config.apiHost}:${config.apiPort}`;
    const metrics = createMetricsRegistry();
    const readModel = readModelMetrics(metrics, db);
    const checks: Record<string, ReadinessCheck> = {
      database: async () => {
        await sql`SELECT 1`.execute(db);
        return { ok: true };
      },
      temporal: async () => {
        await clientConnection.workflowService.describeNamespace({ namespace: config.temporalNamespace });
        return { ok: true };
      },
    };

    let runner: WorkerRunner | undefined;
    if (roles.worker) {
      const nativeConnection = await NativeConnection.connect(connectionOptions);
      closing.push(() => nativeConnection.close());
      const mail: MailChannel | null = config.smtp ? createMailChannel(config.smtp) : null;
      // One pooled SMTP connection for the worker's life, closed when it stops (an open one would
      // keep the process alive until the server's idle time-out).
      if (mail) closing.push(() => mail.close());
      const noticeLog = logger.child({ component: 'notices' });
      // Every journal write wakes the dispatcher (to confirm it), so wakes are folded: at most four a second.
      const wakeNotices = coalescedWaker(noticeWaker(client, config.taskQueue), 250, (error) => noticeLog.warn({ err: error }, 'could not wake the notice dispatcher'));
      let secretKey: string | undefined;
      runner = createWorkerRunner(
        () =>
          createDubanWorker({
            connection: nativeConnection,
            namespace: config.temporalNamespace,
            taskQueue: config.taskQueue,
            db,
            timeZone: config.timeZone,
            policyFile: config.policyFile,
            calendarFile: config.calendarFile,
            fileLogger: logger.child({ component: 'config-files' }),
            maxCachedWorkflows: config.maxCachedWorkflows,
            // Twice a local activity's start-to-close: a read-model write under way when the worker
            // stops (Ctrl-C, or a backup's pause) finishes, and its workflow task completes, rather
            // than being cancelled (docs/architecture.md, "Backup and restore"). Bounds the pause.
            shutdownGraceMs: 20_000,
            wakeNotices,
            notices: {
              mail,
              secretKey: () => (secretKey ??= loadSecretKey({ configured: config.secretKey, dataDir: config.dataDir })),
              publicUrl: config.publicUrl ?? apiUrl,
              client,
              log: { warn: (message: string, attributes?: Record<string, unknown>) => noticeLog.warn(attributes ?? {}, message) },
            },
          }),
        logger,
      );
      const workerRunner = runner;
      checks.worker = () =>
        Promise.resolve(workerRunner.polling ? { ok: true } : { ok: false, reason: 'the worker is not polling (starting, paused for a backup, or stopping)' });
      flagGauge(metrics, 'duban_worker_polling', 'Whether this process’s worker polls its task queue.', () => workerRunner.polling);
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
    }

    let stopped: Promise<void>;
    if (roles.api && config.apiProcesses > 1 && !roles.apiShare) {
      // Several API processes of their own share the port (node:cluster), so reads use every core.
      const apiProcesses = startApiProcesses({ count: config.apiProcesses, env: { TEMPORAL_ADDRESS: address }, log: logger });
      await apiProcesses.ready.catch(async (error: unknown) => {
        await apiProcesses.stop();
        throw error;
      });
      closing.unshift(() => apiProcesses.stop());
      stopped = new Promise<void>((resolve) => {
        const closeApi = () => void apiProcesses.stop().then(resolve);
        process.once('SIGINT', closeApi);
        process.once('SIGTERM', closeApi);
      });
    } else if (roles.api) {
      const requests = new RequestMetrics(metrics);
      const api = await buildApi({
        db,
        client,
        taskQueue: config.taskQueue,
        timeZone: config.timeZone,
        dataDir: config.dataDir,
        evidenceDir: config.evidenceDir,
        logger,
        onResponse: (sample) => requests.record(sample),
        ...apiLimits(config),
        collectEvidence: (roles.apiShare?.index ?? 0) === 0,
        limitShares: roles.apiShare?.count ?? 1,
      });
      await api.listen({ host: config.apiHost, port: config.apiPort });
      // The API stops taking requests at once; the worker finishes what it holds.
      const apiClosed = new Promise<void>((resolve) => {
        const closeApi = () => void api.close().then(resolve);
        process.once('SIGINT', closeApi);
        process.once('SIGTERM', closeApi);
      });
      closing.unshift(() => api.close());
      stopped = apiClosed;
    } else {
      stopped = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }

    if (config.metricsAddress && !roles.apiShare) {
      const ops = await startOpsServer({
        address: config.metricsAddress,
        metrics: async () => {
          await readModel.refresh(new Date());
          return { contentType: metrics.contentType, text: await metrics.metrics() };
        },
        checks,
        logger,
      });
      closing.unshift(() => ops.close());
    }

    // A consistent backup of the embedded default needs the worker held still: only the process
    // that runs it can (docs/architecture.md, "Backup and restore").
    if (devServer && runner) {
      const workerRunner = runner;
      const socket = controlSocketPath(config.dataDir);
      try {
        const control = await serveControl(socket, { backup: (to) => backupData(dataLocations(config), to, { quiesce: (fn) => workerRunner.whilePaused(fn) }) }, logger);
        closing.unshift(() => control.close());
      } catch (error) {
        // Everything else works without it; only `duban backup` cannot reach this process.
        logger.warn({ err: error, socket }, 'control socket not served: duban backup will refuse while this process runs');
      }
    }

    process.removeListener('SIGINT', earlyStop);
    process.removeListener('SIGTERM', earlyStop);
    logger.info(
      {
        temporal: address,
        ui: devServer?.uiUrl,
        ...(roles.api ? { api: apiUrl, docs: `${apiUrl}/docs` } : {}),
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        roles: [roles.worker && 'worker', roles.api && 'api'].filter(Boolean),
      },
      roles.worker ? 'duban worker running; Ctrl-C stops it' : 'duban API running; Ctrl-C stops it',
    );
    if (runner) {
      await runner.run();
      logger.info('worker stopped');
    } else {
      await stopped;
    }
  } finally {
    for (const close of closing) await close();
    await db.destroy();
    await devServer?.stop();
    logger.info('stopped');
  }
}
