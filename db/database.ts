import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, type Migration, PostgresDialect, type PostgresPool, type PostgresPoolClient, SqliteDialect, type SqliteDatabase, type SqliteStatement, sql, type Transaction } from 'kysely';
import { Client as PgClient, Pool, type PoolClient, types } from 'pg';
import { dialectOf } from './dialect';
import { migrations as allMigrations } from './migrations';
import { type MigrationOutcome, runMigrations } from './migrations/runner';
import type { Database } from './schema';

export type Db = Kysely<Database>;

/** The database or a transaction on it: what a repository function runs its statements on. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`) rather than a SQLite file. */
export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/** `url` fit for a log: a PostgreSQL URL without its password. */
export function describeDatabase(url: string): string {
  if (!isPostgresUrl(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * Opens the read model: PostgreSQL for a `postgres://` URL, otherwise the SQLite file at `url`
 * (a path, or a `sqlite:` / `file:` URL). Repositories and migrations work on either.
 */
export function openDatabase(url: string): Db {
  return isPostgresUrl(url) ? openPostgres(url) : openSqlite(url.replace(/^(sqlite|file):(\/\/)?/, ''));
}

/**
 * The SQLite file in WAL mode (readers never block the writer) with synchronous=FULL, so that a
 * committed event survives a crash of the machine as well.
 */
function openSqlite(file: string): Db {
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
 *
 * Rows are read as arrays and made into objects by a constructor compiled for the statement's
 * columns: better-sqlite3 builds each row object key by key through V8's API, which cost more than
 * reading the values (a list page of 50 cases: 0.35 ms to 0.29 ms). The objects are the same, the
 * last of two columns of one name winning as before.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  // The schema's version (SQLite's schema cookie): any change of the schema, through this
  // connection or another process's, moves it.
  const versionOf = sqlite.prepare('PRAGMA schema_version').pluck();
  const schemaVersion = () => versionOf.get() as number;
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        // Bounded: texts that vary (lists of values) must not grow it without end.
        if (statements.size >= 1000) statements.clear();
        statement = withRowObjects(sqlite.prepare(text), schemaVersion);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

/**
 * A reader statement giving rows as arrays, made into objects by a constructor compiled for its
 * columns; any other statement as it is. After a change of the schema SQLite re-prepares the
 * statement as it runs, and `SELECT *` may then have other columns (added, dropped, renamed,
 * reordered): the schema's version is read before and after each run, and if it is not the one
 * the constructor was made for, or moved during the run, the columns are read again from the
 * statement as it ran.
 */
function withRowObjects(statement: SQLite.Statement, schemaVersion: () => number): SqliteStatement {
  if (!statement.reader) return statement;
  statement.raw(true);
  let rowOf = rowConstructor(columnNames(statement));
  let madeFor = schemaVersion();
  return {
    reader: true,
    all(parameters) {
      const before = schemaVersion();
      const rows = statement.all(parameters) as unknown[][];
      if (before !== madeFor || schemaVersion() !== before) {
        rowOf = rowConstructor(columnNames(statement));
        // (If it moved during the run, the next run reads the columns again too.)
        madeFor = before;
      }
      return rows.map(rowOf);
    },
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      // Streams are rare (nothing in duban streams): the columns are read once the first row is.
      let make: ((values: unknown[]) => Record<string, unknown>) | undefined;
      for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) yield (make ??= rowConstructor(columnNames(statement)))(values);
    },
  };
}

function columnNames(statement: SQLite.Statement): string[] {
  return statement.columns().map((column) => column.name);
}

/** An object of a row's values, keyed by the statement's column names (the last of two alike wins, as better-sqlite3 has it). */
function rowConstructor(names: readonly string[]): (values: unknown[]) => Record<string, unknown> {
  // Compiled from the column names only (never from values), each written as a JSON string
  // literal, which is a JavaScript string literal: no text of a query's caller becomes code.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('values', `return {${names.map((name, i) => `${JSON.stringify(name)}: values[${i}]`).join(', ')}};`) as (values: unknown[]) => Record<string, unknown>;
}

/** PostgreSQL's type ids whose values node-postgres hands over as strings by default. */
const int8 = 20;
const numeric = 1700;

/**
 * A pool of connections to PostgreSQL. Counts (bigint) and sums (numeric) come back as numbers,
 * as SQLite returns them, so that repositories read the same values from both; every other value
 * the schema stores is text or a 32-bit integer.
 */
function openPostgres(url: string): Db {
  const pool = new Pool({
    connectionString: url,
    application_name: 'duban',
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
        oid === int8 || oid === numeric
          ? (value: string) => Number(value)
          : (types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown)) as typeof types.getTypeParser,
    },
  });
  // An idle connection the server closed (a restart, a timeout) is dropped from the pool and the
  // next query opens another; without a listener the error would end the process.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: nulSafe(pool) }) });
}

/**
 * PostgreSQL's text cannot hold U+0000, which people may type and SQLite stores. Text goes to
 * PostgreSQL with U+0000 written as U+E000 '0' and U+E000 itself (a private-use character) as
 * U+E000 U+E000, and comes back decoded: every string reads back exactly as written, and
 * substring search still matches. (JSON text never holds a raw U+0000: JSON escapes it.)
 */
const escapeMark = '\uE000';
// eslint-disable-next-line no-control-regex
const encoded = /[\u0000\uE000]/g;
const encodeText = (value: string): string => value.replace(encoded, (c) => (c === escapeMark ? escapeMark + escapeMark : `${escapeMark}0`));
const decodeText = (value: string): string =>
  value.includes(escapeMark) ? value.replace(/\uE000(\uE000|0)/g, (_m, c: string) => (c === '0' ? '\u0000' : escapeMark)) : value;

/** `pool` with the text of every parameter encoded and of every row decoded (encodeText, decodeText). */
function nulSafe(pool: Pool): PostgresPool {
  const wrapped = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    let safe = wrapped.get(client);
    if (!safe) {
      safe = {
        query: (async (text: string, parameters: readonly unknown[]) => {
          const result = await client.query(text, parameters.map((p) => (typeof p === 'string' ? encodeText(p) : p)));
          for (const row of result.rows as Record<string, unknown>[]) {
            for (const [key, value] of Object.entries(row)) if (typeof value === 'string') row[key] = decodeText(value);
          }
          return result;
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
      wrapped.set(client, safe);
    }
    return safe;
  };
  return { connect: async () => wrap(await pool.connect()), end: () => pool.end() };
}

/**
 * Applies every pending migration, each in one transaction under the database's migration lock
 * (SQLite's write lock, a PostgreSQL advisory lock), so that a crash leaves no half-applied
 * migration and processes starting together apply each once (db/migrations/runner.ts). Throws a
 * MigrationError naming the failing migration.
 */
export async function migrateToLatest(
  db: Db,
  migrations: Readonly<Record<string, Migration>> = allMigrations,
): Promise<MigrationOutcome> {
  const outcome = await runMigrations(db as Kysely<unknown>, migrations);
  if (dialectOf(db) === 'sqlite') {
    // Table statistics let the planner pick the index that fits a list's filters; bounded work.
    // (PostgreSQL's autovacuum keeps its statistics itself.)
    await sql`PRAGMA analysis_limit = 1000`.execute(db);
    await sql`PRAGMA optimize = 0x10002`.execute(db);
  }
  return outcome;
}

/**
 * A new empty database on the PostgreSQL `server` (a URL of a role that may create databases),
 * named uniquely, and its URL: for the tests and the benches. UTF-8 with the C.UTF-8 locale: text
 * sorts by code point as in SQLite, and pg_trgm reads Chinese characters as word characters.
 */
export async function createPostgresDatabase(server: string): Promise<string> {
  const name = `duban_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new PgClient({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}
