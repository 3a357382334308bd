import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import type { Logger } from 'pino';
import { DomainError, type ErrorCode } from '../domain/errors';
import type { BackupManifest } from '../services/backup.service';

/**
 * The running process's control socket: a Unix socket in the data directory, reachable by whoever
 * may read the data directory anyway (owner only), through which `duban backup` asks the process
 * that runs the worker to take the backup (it alone can hold its worker still).
 */
export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'duban.sock');
}

/** A request on the control socket: one JSON line. */
export type ControlRequest = { readonly op: 'backup'; readonly to: string };

/** The answer: one JSON line. */
export type ControlResponse =
  | { readonly ok: true; readonly manifest: BackupManifest }
  | { readonly ok: false; readonly error: string; readonly code?: ErrorCode };

export interface ControlHandlers {
  backup(to: string): Promise<BackupManifest>;
}

/** Serves the control socket at `file` until closed. */
export async function serveControl(file: string, handlers: ControlHandlers, logger: Logger): Promise<{ close(): Promise<void> }> {
  // A socket file left by a process that died: nobody answers on it.
  if (fs.existsSync(file)) {
    if (await answers(file)) throw new Error(`another duban process serves ${file}`);
    fs.rmSync(file, { force: true });
  }
  const server = net.createServer((socket) => {
    const lines = readline.createInterface({ input: socket });
    lines.once('line', (line) => {
      lines.close();
      const reply = (response: ControlResponse) => socket.end(`${JSON.stringify(response)}\n`);
      let request: ControlRequest;
      try {
        request = JSON.parse(line) as ControlRequest;
      } catch {
        reply({ ok: false, error: 'malformed request' });
        return;
      }
      if (request.op !== 'backup' || typeof request.to !== 'string') {
        reply({ ok: false, error: `unknown request ${JSON.stringify(request.op)}` });
        return;
      }
      logger.info({ to: request.to }, 'backup asked for on the control socket');
      handlers.backup(request.to).then(
        (manifest) => reply({ ok: true, manifest }),
        (error: unknown) => {
          logger.warn({ err: error }, 'backup failed');
          reply({ ok: false, error: (error as Error).message, ...(error instanceof DomainError ? { code: error.code } : {}) });
        },
      );
    });
    socket.on('error', () => undefined);
  });
  const previous = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(file, { force: true });
      }),
  };
}

/** Whether a process answers on the control socket `file`. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(file);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Sends `request` to the process serving `file`; undefined when none does (no socket, or one left
 * by a process that died).
 */
export function requestControl(file: string, request: ControlRequest): Promise<ControlResponse | undefined> {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(file)) {
      resolve(undefined);
      return;
    }
    const socket = net.connect(file);
    let connected = false;
    let answer = '';
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.once('end', () => {
      try {
        resolve(JSON.parse(answer) as ControlResponse);
      } catch {
        reject(new Error(`the duban process gave no answer on ${file}`));
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && (error.code === 'ECONNREFUSED' || error.code === 'ENOENT')) resolve(undefined);
      else reject(error);
    });
  });
}
