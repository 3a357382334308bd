import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { inject } from 'vitest';
import { projectRoot } from '../../scripts/binaries';
import { type DevServer, startDevServer } from '../../worker/dev-server';

const root = projectRoot();

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `duban` CLI (bin/duban.js) with `env`, feeding `input` on stdin. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(root, 'bin', 'duban.js'), ...args],
      { env: { ...process.env, ...env }, cwd: root, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** Runs the CLI and returns stdout, failing with its stderr when it exits non-zero. */
export async function cli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  const result = await runCli(args, env, input);
  if (result.code !== 0) throw new Error(`duban ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Starts the built worker (`node dist/worker/main.js`); resolves once it polls its task queue. */
export function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'dist', 'worker', 'main.js')], {
      env: { ...process.env, ...env },
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${log}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes('duban worker running')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${log}`));
    });
  });
}

/** Starts `duban <role>` (the built CLI); resolves once its log says it runs. */
export function startDuban(role: 'worker' | 'api', env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const ready = role === 'worker' ? 'duban worker running' : 'duban API running';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'duban.js'), role], {
      env: { ...process.env, ...env },
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const onExit = (code: number | null) => reject(new Error(`duban ${role} exited with ${code}:\n${log}`));
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes(ready)) {
        child.removeListener('exit', onExit);
        resolve(child);
      }
    });
    child.once('exit', onExit);
  });
}

/** Kills `child` with `signal` and waits until it has gone. */
export function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/**
 * Starts a Temporal dev server (the provisioned CLI) on 127.0.0.1:`port`, its state under
 * `<dir>/temporal`, serving `namespace` (created there besides `default`), silent; the caller
 * stops it.
 */
export function startTestDevServer(dir: string, port: number, namespace = 'default'): Promise<DevServer> {
  return freePort().then((uiPort) =>
    startDevServer({
      cli: inject('temporalCli'),
      dataDir: path.join(dir, 'temporal'),
      port,
      uiPort,
      namespace,
      logger: pino({ level: 'silent' }),
    }),
  );
}
