import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';

export interface DevServerOptions {
  /** The Temporal CLI binary. */
  readonly cli: string;
  /** Its SQLite state lives here as temporal.sqlite, so that cases survive a restart. */
  readonly dataDir: string;
  readonly port: number;
  readonly uiPort: number;
  readonly namespace: string;
  readonly logger: Logger;
  /** How long to wait for the frontend to answer. */
  readonly startTimeoutMs?: number;
  /**
   * SQLite's synchronous level for the server's file, in WAL mode: `full` (the default) makes
   * every acknowledged write survive a power loss; `normal` survives a crash of the process only.
   */
  readonly sqliteSync?: 'full' | 'normal';
}

export interface DevServer {
  readonly address: string;
  readonly uiUrl: string;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period) and waits for it to exit. */
  stop(): Promise<void>;
}

const serverLevels: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'error',
};

/** A JSON log line of the dev server as level, message and fields; undefined for plain text. */
function parseServerLogLine(
  line: string,
): { level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> } | undefined {
  try {
    const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
    if (typeof msg !== 'string') return undefined;
    return { level: serverLevels[String(level).toUpperCase()] ?? 'info', msg, fields };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/**
 * A dev server left running by a duban process that died without stopping it holds the port
 * and the database: stop it before starting a new one.
 */
async function stopOrphan(pidFile: string, logger: Logger): Promise<void> {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    logger.warn({ pid }, 'stopping a Temporal dev server left running by an earlier start');
    process.kill(-pid, 'SIGTERM');
    if (!(await waitForExit(pid, 10_000))) process.kill(-pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
  fs.rmSync(pidFile, { force: true });
}

async function waitUntilServing(address: string, namespace: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Temporal dev server exited during start (code ${child.exitCode ?? child.signalCode})`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal dev server did not answer on ${address} within ${timeoutMs} ms: ${String(lastError)}`);
}

/** The embedded server's SQLite file in `dataDir` (what a backup copies). */
export function temporalDatabaseFile(dataDir: string): string {
  return path.join(dataDir, 'temporal.sqlite');
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 with its state in `<dataDir>/temporal.sqlite`.
 * It runs in its own process group so that a Ctrl-C reaches duban first, which stops the worker
 * before the server.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { logger } = options;
  fs.mkdirSync(options.dataDir, { recursive: true });
  const pidFile = path.join(options.dataDir, 'temporal-dev-server.pid');
  await stopOrphan(pidFile, logger);

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    temporalDatabaseFile(options.dataDir),
    // Write-ahead logging: readers and the writer no longer block each other, and a commit is one
    // append (docs/architecture.md, "The embedded Temporal server"). A file made in the rollback
    // journal mode is converted when it is opened; the mode is kept in the file.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    `synchronous=${(options.sqliteSync ?? 'full').toUpperCase()}`,
    '--log-format',
    'json',
    '--log-level',
    'warn',
  ];
  if (options.namespace !== 'default') args.push('--namespace', options.namespace);
  const child = spawn(options.cli, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${options.cli}`);
  fs.writeFileSync(pidFile, String(child.pid));
  const serverLog = logger.child({ component: 'temporal-dev-server' });
  let stopping = false;
  const forward = (stream: NodeJS.ReadableStream | null, fallback: 'info' | 'warn') => {
    if (!stream) return;
    readline.createInterface({ input: stream }).on('line', (line) => {
      if (!line.trim()) return;
      const entry = parseServerLogLine(line);
      // While it shuts down, the server complains that it cannot reach itself: not news.
      const level = stopping ? 'debug' : (entry?.level ?? fallback);
      if (entry) serverLog[level](entry.fields, entry.msg);
      else serverLog[level](line.trim());
    });
  };
  forward(child.stdout, 'info');
  forward(child.stderr, 'warn');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const address = `127.0.0.1:${options.port}`;
  const stop = async (): Promise<void> => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(pidFile, { force: true });
  };
  try {
    await waitUntilServing(address, options.namespace, child, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  logger.info({ address, ui: `http://127.0.0.1:${options.uiPort}` }, 'Temporal dev server ready');
  return { address, uiUrl: `http://127.0.0.1:${options.uiPort}`, stop };
}
