import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../db/database';
import { migrations } from '../db/migrations';
import { MigrationError } from '../db/migrations/runner';
import { projectRoot } from '../scripts/binaries';
import { dumpReadModel, processDatabase } from './support/database';

const root = projectRoot();
const names = Object.keys(migrations).sort();
const dirs: string[] = [];

/** A new empty read model: a SQLite file, or a PostgreSQL database when DUBAN_TEST_DATABASE is set. */
async function tempFile(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-migrate-'));
  dirs.push(dir);
  return (await processDatabase(dir)).url;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A migration of several statements of every kind; `failAt` makes the last one fail. */
const multiStatement = (failAt: 'end' | 'never') => ({
  async up(db: Kysely<unknown>) {
    await sql`CREATE TABLE circulars (id TEXT PRIMARY KEY, title TEXT NOT NULL)`.execute(db);
    await sql`ALTER TABLE cases ADD COLUMN bulletin_id TEXT`.execute(db);
    await sql`CREATE INDEX cases_bulletin ON cases(bulletin_id)`.execute(db);
    await sql`INSERT INTO circulars VALUES ('B-2026-01', '第一期通报')`.execute(db);
    await sql`INSERT INTO departments (code, name, active, created_at, updated_at)
      VALUES ('XX', '新部门', 1, '2026-11-25T00:00:00.000Z', '2026-11-25T00:00:00.000Z')`.execute(db);
    if (failAt === 'end') await sql`INSERT INTO no_such_table VALUES (1)`.execute(db);
  },
});

describe('migrations run atomically', () => {
  it('leaves the database exactly as before a migration that fails half-way, and applies it once fixed', async () => {
    const file = await tempFile();
    const db = openDatabase(file);
    try {
      expect((await migrateToLatest(db)).applied).toEqual(names);
      await sql`INSERT INTO departments (code, name, active, created_at, updated_at)
        VALUES ('CG', '区城管局', 1, '2026-11-25T00:00:00.000Z', '2026-11-25T00:00:00.000Z')`.execute(db);
      const before = await dumpReadModel(file);

      const error = await migrateToLatest(db, { ...migrations, '2099-01-01-circulars': multiStatement('end') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).migration).toBe('2099-01-01-circulars');
      expect((error as Error).message).toMatch(/2099-01-01-circulars failed.*no_such_table/);
      expect(await dumpReadModel(file)).toBe(before);

      // The next start (the same migration, fixed) applies it.
      expect((await migrateToLatest(db, { ...migrations, '2099-01-01-circulars': multiStatement('never') })).applied).toEqual([
        '2099-01-01-circulars',
      ]);
      const { rows } = await sql<{ title: string }>`SELECT title FROM circulars`.execute(db);
      expect(rows).toEqual([{ title: '第一期通报' }]);
      expect((await migrateToLatest(db, { ...migrations, '2099-01-01-circulars': multiStatement('never') })).applied).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a database migrated by a newer version, and one missing an earlier migration, changing nothing', async () => {
    const file = await tempFile();
    const db = openDatabase(file);
    try {
      await migrateToLatest(db);
      const before = await dumpReadModel(file);
      const older = Object.fromEntries(names.slice(0, -1).map((n) => [n, migrations[n]!]));
      await expect(migrateToLatest(db, older)).rejects.toThrow(`unknown migrations: ${names.at(-1)}`);
      const withEarlier = { ...migrations, '2000-01-01-early': multiStatement('never') };
      await expect(migrateToLatest(db, withEarlier)).rejects.toThrow(`migration 2000-01-01-early is missing before the applied ${names[0]}`);
      expect(await dumpReadModel(file)).toBe(before);
    } finally {
      await db.destroy();
    }
  });
});

/**
 * A child process that loads the built migration code (dist/, as `npm start` and the CLI run
 * it), says "ready", and on a line on stdin opens and migrates the file with the real migrations
 * plus one of its own: "slow" counts its runs in a table and holds the lock a while; "crash" does
 * part of its work, says "half-way" and waits to be killed.
 */
const childScript = `
const path = require('node:path');
const { sql } = require('kysely');
const { openDatabase, migrateToLatest } = require(path.join(process.cwd(), 'dist/db/database.js'));
const { migrations } = require(path.join(process.cwd(), 'dist/db/migrations/index.js'));
const [file, mode] = process.argv.slice(1);
const extra = {
  slow: { async up(db) {
    await sql\`CREATE TABLE IF NOT EXISTS migration_runs (pid INTEGER NOT NULL)\`.execute(db);
    await sql\`INSERT INTO migration_runs VALUES (\${process.pid})\`.execute(db);
    await new Promise((r) => setTimeout(r, 400));
  } },
  crash: { async up(db) {
    await sql\`CREATE TABLE circulars (id TEXT PRIMARY KEY)\`.execute(db);
    await sql\`ALTER TABLE cases ADD COLUMN bulletin_id TEXT\`.execute(db);
    await sql\`INSERT INTO circulars VALUES ('B-1')\`.execute(db);
    process.stdout.write('half-way\\n');
    await new Promise(() => {});
  } },
}[mode];
process.stdout.write('ready\\n');
process.stdin.once('data', () => {
  // Opened on "go" too: a new file's switch to WAL is part of the race.
  const db = openDatabase(file);
  migrateToLatest(db, { ...migrations, ['2099-01-01-' + mode]: extra }).then(
    (outcome) => { process.stdout.write(JSON.stringify(outcome.applied) + '\\n'); return db.destroy(); },
    (error) => { process.stderr.write(String(error && error.stack || error) + '\\n'); process.exitCode = 1; },
  );
});
`;

interface Child {
  process: ChildProcess;
  /** Resolves when stdout has printed `text`. */
  said(text: string): Promise<void>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startChild(file: string, mode: 'slow' | 'crash'): Child {
  if (!fs.existsSync(path.join(root, 'dist', 'db', 'database.js'))) throw new Error('run `npm run build` first: the child processes use dist/');
  const child = spawn(process.execPath, ['-e', childScript, file, mode], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    process: child,
    said: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then(() => reject(new Error(`child exited before saying ${text}: ${stderr}`)));
      }),
    exited,
  };
}

describe('migrations across processes', () => {
  it('two processes migrating one new file at once both succeed, every migration applied once', async () => {
    const file = await tempFile();
    const children = [startChild(file, 'slow'), startChild(file, 'slow')];
    await Promise.all(children.map((c) => c.said('ready')));
    for (const c of children) c.process.stdin!.end('go\n');
    const results = await Promise.all(children.map((c) => c.exited));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const applied = results.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as string[]);
    const all = [...names, '2099-01-01-slow'];
    // Between them they applied everything, neither the same migration as the other.
    expect([...applied[0]!, ...applied[1]!].sort()).toEqual(all);
    const db = openDatabase(file);
    try {
      const recorded = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
      expect(recorded.rows.map((r) => r.name)).toEqual(all);
      const runs = await sql<{ n: number }>`SELECT count(*) AS n FROM migration_runs`.execute(db);
      expect(runs.rows[0]!.n).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('a process killed inside a migration leaves the database as it was; the next start applies it', async () => {
    const file = await tempFile();
    const db = openDatabase(file);
    try {
      await migrateToLatest(db);
      const before = await dumpReadModel(file);
      const child = startChild(file, 'crash');
      await child.said('ready');
      child.process.stdin!.end('go\n');
      await child.said('half-way');
      child.process.kill('SIGKILL');
      await child.exited;

      expect(await dumpReadModel(file)).toBe(before);
      const fixed = {
        async up(db: Kysely<unknown>) {
          await sql`CREATE TABLE circulars (id TEXT PRIMARY KEY)`.execute(db);
          await sql`ALTER TABLE cases ADD COLUMN bulletin_id TEXT`.execute(db);
        },
      };
      expect((await migrateToLatest(db, { ...migrations, '2099-01-01-crash': fixed })).applied).toEqual(['2099-01-01-crash']);
    } finally {
      await db.destroy();
    }
  });
});
