/**
 * The fault run's processes: a small table (name, command, environment, how it says it is ready),
 * each started in its own process group so that a SIGKILL takes the whole of it, and restarted
 * the way a supervisor (systemd's Restart=always) would when it dies on its own. The harness kills
 * roles, not processes: `roles` says which process plays each, so separate worker and API
 * processes slot in by changing the table and that map only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

/** What the harness kills: each is played by one process of the table. */
export const roles = ['worker', 'api', 'temporal'] as const;
export type Role = (typeof roles)[number];

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** A line it writes (stdout or stderr) once it is ready, or a probe that answers true then. */
  readonly ready: RegExp | (() => Promise<boolean>);
}

/** A process that exited without the harness killing it. */
export interface UnexpectedExit {
  readonly name: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: number;
}

/** One SIGKILL the harness sent. */
export interface Kill {
  readonly role: Role;
  readonly process: string;
  readonly at: number;
  /** When it was ready again. */
  restartedAt: number | null;
  /** How long it stayed dead before its restart began, ms. */
  readonly pauseMs: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  killing: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts, kills and restarts the processes of `specs`. Each writes its output to
 * `<logDir>/<name>.log` (appended across restarts). A process that exits on its own is recorded
 * and started again after a second, for as long as the supervisor runs.
 */
export class Supervisor {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Map<string, Promise<void>>();
  /** Every child alive, ready or not. */
  private readonly children = new Set<ChildProcess>();
  private stopped = false;
  readonly unexpectedExits: UnexpectedExit[] = [];
  readonly kills: Kill[] = [];

  constructor(
    private readonly specs: readonly ProcessSpec[],
    private readonly roleMap: Readonly<Record<Role, string>>,
    private readonly logDir: string,
    private readonly startTimeoutMs = 120_000,
  ) {
    fs.mkdirSync(logDir, { recursive: true });
    for (const role of roles) {
      if (!specs.some((s) => s.name === roleMap[role])) throw new Error(`role ${role} names no process (${roleMap[role]})`);
    }
  }

  /** The process that plays `role`. */
  processOf(role: Role): string {
    return this.roleMap[role];
  }

  /** The roles a process plays (a kill of one is a kill of all of them). */
  rolesOf(name: string): Role[] {
    return roles.filter((r) => this.roleMap[r] === name);
  }

  private spec(name: string): ProcessSpec {
    const spec = this.specs.find((s) => s.name === name);
    if (!spec) throw new Error(`no process ${name}`);
    return spec;
  }

  /** Starts `name` and resolves once it is ready; retries a start that fails (its peer still down, say). */
  start(name: string): Promise<void> {
    const pending = this.starting.get(name);
    if (pending) return pending;
    const started = this.startUntilReady(name).finally(() => this.starting.delete(name));
    this.starting.set(name, started);
    return started;
  }

  private async startUntilReady(name: string): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      if (this.stopped) return;
      try {
        await this.startOnce(name);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${name} did not start within ${this.startTimeoutMs} ms: ${(error as Error).message}`);
        await sleep(Math.min(5_000, 500 * attempt));
      }
    }
  }

  private startOnce(name: string): Promise<void> {
    const spec = this.spec(name);
    const log = fs.createWriteStream(`${this.logDir}/${name}.log`, { flags: 'a' });
    log.write(`\n==== start ${new Date().toISOString()}\n`);
    const child = spawn(spec.command, [...spec.args], {
      env: { ...process.env, ...spec.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        this.children.delete(child);
        resolve();
      }),
    );
    const entry: Running = { child, exited, killing: false };
    return new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(error));
      let ready = false;
      const becomeReady = () => {
        if (ready) return;
        ready = true;
        this.running.set(name, entry);
        resolve();
      };
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        stream.pipe(log, { end: false });
        if (spec.ready instanceof RegExp) {
          const pattern = spec.ready;
          readline.createInterface({ input: stream }).on('line', (line) => {
            if (pattern.test(line)) becomeReady();
          });
        }
      }
      child.once('exit', (code, signal) => {
        log.end(`\n==== exit ${new Date().toISOString()} code ${code} signal ${signal}\n`);
        if (!ready) {
          reject(new Error(`${name} exited during start (code ${code}, signal ${signal})`));
          return;
        }
        if (this.running.get(name) === entry) this.running.delete(name);
        if (entry.killing || this.stopped) return;
        // Died on its own: recorded, and started again as a supervisor would.
        this.unexpectedExits.push({ name, code, signal, at: Date.now() });
        void sleep(1_000).then(() => (this.stopped ? undefined : this.start(name).catch(() => undefined)));
      });
      if (!(spec.ready instanceof RegExp)) {
        const probe = spec.ready;
        void (async () => {
          while (!ready && child.exitCode === null && child.signalCode === null) {
            if (await probe().catch(() => false)) becomeReady();
            else await sleep(250);
          }
        })();
      }
      setTimeout(() => {
        if (ready) return;
        reject(new Error(`${name} not ready within 60 s`));
        this.signal(child, 'SIGKILL');
      }, 60_000).unref();
    });
  }

  private signal(child: ChildProcess, signal: NodeJS.Signals): void {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  }

  /**
   * SIGKILLs the process playing `role` (its whole process group), waits `pauseMs`, starts it
   * again and resolves once it is ready. A process that is down already (dying on its own, or
   * being restarted) is waited for instead.
   */
  async kill(role: Role, pauseMs: number): Promise<Kill> {
    const name = this.roleMap[role];
    await this.starting.get(name)?.catch(() => undefined);
    const entry = this.running.get(name);
    const kill: Kill = { role, process: name, at: Date.now(), restartedAt: null, pauseMs };
    this.kills.push(kill);
    if (entry) {
      entry.killing = true;
      this.signal(entry.child, 'SIGKILL');
      await entry.exited;
    }
    await sleep(pauseMs);
    await this.start(name);
    kill.restartedAt = Date.now();
    return kill;
  }

  /** Whether every process is running (none dead, none starting). */
  allRunning(): boolean {
    return this.specs.every((s) => this.running.has(s.name)) && this.starting.size === 0;
  }

  /** SIGKILLs every process at once, synchronously: for a harness that is exiting on an error. */
  killAllNow(): void {
    this.stopped = true;
    for (const entry of this.running.values()) entry.killing = true;
    for (const child of this.children) this.signal(child, 'SIGKILL');
  }

  /** Stops every process: SIGTERM in the reverse order of the table, SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => undefined)));
    for (const spec of [...this.specs].reverse()) {
      const entry = this.running.get(spec.name);
      if (!entry) continue;
      entry.killing = true;
      this.signal(entry.child, 'SIGTERM');
      const timer = setTimeout(() => this.signal(entry.child, 'SIGKILL'), graceMs);
      await entry.exited;
      clearTimeout(timer);
    }
  }
}
