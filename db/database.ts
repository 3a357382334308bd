import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, SqliteDialect, type SqliteDatabase, sql, type Transaction } from 'kysely';
import { migrations as allMigrations } from './migrations';
import { type MigrationOutcome, runMigrations } from './migrations/runner';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** The database or a transaction on it: what a repository function runs its statements on. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Opens the SQLite read model at `file` in WAL mode (readers never block the writer) with
 * synchronous=FULL, so that a committed event survives a crash of the machine as well.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Several processes (worker, API, CLI) share the file: wait for a lock rather than fail, from
  // the first statement on (switching a new file to WAL takes a lock too).
  const sqlite = new SQLite(file, { timeout: 10_000 });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

/**
 * The connection as kysely sees it, keeping each prepared statement for its SQL text: kysely
 * prepares every query it runs, and preparing costs about as much as running a list's page.
 * Safe because kysely runs one statement at a time on the connection (a stream holds it until
 * its end), and SQLite re-prepares a kept statement itself after a schema change.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        // Bounded: texts that vary (lists of values) must not grow it without end.
        if (statements.size >= 1000) statements.clear();
        statement = sqlite.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * Applies every pending migration, each in one transaction under SQLite's write lock, so that a
 * crash leaves no half-applied migration and processes starting together apply each once
 * (db/migrations/runner.ts). Throws a MigrationError naming the failing migration.
 */
export async function migrateToLatest(
  db: Db,
  migrations: Readonly<Record<string, Migration>> = allMigrations,
): Promise<MigrationOutcome> {
  const outcome = await runMigrations(db as Kysely<unknown>, migrations);
  // Table statistics let the planner pick the index that fits a list's filters; bounded work.
  await sql`PRAGMA analysis_limit = 1000`.execute(db);
  await sql`PRAGMA optimize = 0x10002`.execute(db);
  return outcome;
}
