import fs from 'node:fs';
import path from 'node:path';
import { createLogger, installTemporalLogging } from '../config/logger';
import { isPostgresUrl } from '../db/database';
import { DomainError } from '../domain/errors';
import { backupData, restoreData } from '../services/backup.service';
import { controlSocketPath, requestControl } from '../worker/control';
import { dataLocations, runProcess } from '../worker/processes';
import { type CliEnv, print } from './context';

/** Whether the process whose id is in `pidFile` is alive. */
function pidAlive(pidFile: string): boolean {
  if (!fs.existsSync(pidFile)) return false;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `duban worker` and `duban api`: one role per process, as many of each as the load needs against
 * one Temporal cluster and one read model (docs/operations.md); `duban backup` and
 * `duban restore`: the embedded default's data, consistently (docs/architecture.md).
 */
export function operationsCommands({ program, context }: CliEnv): void {
  const serve = (roles: { worker: boolean; api: boolean }) => async () => {
    const { config } = context();
    const logger = createLogger(config.logLevel);
    installTemporalLogging(logger, config.logLevel, roles.worker ? config.temporalMetricsAddress : undefined);
    await runProcess({ ...roles, embeddedServer: false }, config, logger);
  };
  program
    .command('worker')
    .description('run a worker (workflows and activities) against TEMPORAL_ADDRESS until SIGTERM')
    .action(serve({ worker: true, api: false }));
  program
    .command('api')
    .description('run the HTTP API (and web pages) against TEMPORAL_ADDRESS until SIGTERM')
    .action(serve({ worker: false, api: true }));

  program
    .command('backup')
    .description('consistent snapshot of the read model, the embedded Temporal file and the evidence (备份)')
    .requiredOption('--to <dir>', 'a new (or empty) directory for the backup')
    .action(async (o: { to: string }) => {
      const { config } = context();
      if (config.temporalAddress !== undefined) {
        throw new DomainError(
          'invalid_state',
          '备份只适用于内置 Temporal / duban backup covers the embedded default; with TEMPORAL_ADDRESS, back up the cluster’s database and the read model as docs/operations.md says',
        );
      }
      if (isPostgresUrl(config.databaseUrl)) {
        throw new DomainError(
          'invalid_state',
          '备份只适用于内置 SQLite 读模型 / duban backup covers the embedded default; a PostgreSQL read model is backed up with PostgreSQL’s own tools (docs/operations.md)',
        );
      }
      const to = path.resolve(o.to);
      // The running process holds its worker still while it copies; nothing running: copy as is.
      const answer = await requestControl(controlSocketPath(config.dataDir), { op: 'backup', to });
      if (answer && !answer.ok) {
        // A refusal keeps its code (and exit status) across the socket.
        if (answer.code) throw new DomainError(answer.code, answer.error);
        throw new Error(`备份失败 / backup failed: ${answer.error}`);
      }
      if (answer) {
        print({ backup: to, ...answer.manifest });
        return;
      }
      if (pidAlive(path.join(config.dataDir, 'temporal-dev-server.pid'))) {
        throw new DomainError(
          'invalid_state',
          '内置 Temporal 正在运行，但没有 duban 进程响应 / the embedded Temporal server runs but no duban process answers on its control socket; stop it, or run duban backup while npm start runs',
        );
      }
      print({ backup: to, ...(await backupData(dataLocations(config), to)) });
    });

  program
    .command('restore')
    .description('restore a backup into this (fresh) data directory (恢复); then npm start finishes the open cases')
    .requiredOption('--from <dir>', 'a directory written by duban backup')
    .action(async (o: { from: string }) => {
      const { config } = context();
      if (config.temporalAddress !== undefined) {
        throw new DomainError('invalid_state', '恢复只适用于内置 Temporal / duban restore is for the embedded default; unset TEMPORAL_ADDRESS');
      }
      if (isPostgresUrl(config.databaseUrl)) {
        throw new DomainError('invalid_state', '恢复只适用于内置 SQLite 读模型 / duban restore is for the embedded default; unset DATABASE_URL');
      }
      if (pidAlive(path.join(config.dataDir, 'temporal-dev-server.pid'))) {
        throw new DomainError('invalid_state', '目标数据目录正在使用 / a Temporal server runs on the target data directory; stop it first');
      }
      const manifest = await restoreData(o.from, dataLocations(config));
      print({ restored: path.resolve(o.from), into: config.dataDir, ...manifest });
    });
}
