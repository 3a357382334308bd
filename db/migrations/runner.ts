import { type Kysely, type Migration, sql } from 'kysely';
import { dialectOf, wideIntegers } from '../dialect';
import { isBusy } from '../errors';

/**
 * The bookkeeping table kysely's own Migrator keeps (`name` primary key, `timestamp` ISO string),
 * with the same layout, so that databases migrated before this runner existed carry on and a
 * build that still uses kysely's Migrator reads what this runner wrote.
 */
export const migrationTable = 'kysely_migration';

/** How long a process waits for another one's migration (or a long write) before giving up. */
const defaultLockTimeoutMs = 5 * 60_000;

/** A migration that failed; the database is as it was before the migration started. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly migration: string,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrationOutcome {
  /** The migrations this call applied, in order (none when another process got there first). */
  readonly applied: readonly string[];
}


/**
 * Applies every pending migration of `migrations` (applied in name order), each in a transaction
 * of its own that also records it in `kysely_migration`: a migration that fails or a process
 * that dies half-way leaves the database exactly as it was before that migration.
 *
 * Each transaction first takes the database's migration lock before anything is read: on SQLite
 * BEGIN IMMEDIATE (the write lock on the file), on PostgreSQL a transaction-scoped advisory lock.
 * Whether a migration is still pending is decided inside it, so two processes starting at once
 * (the CLI and the server, or several workers) apply each migration exactly once: the second
 * waits for the lock, then finds the migration recorded and moves on.
 *
 * (kysely's Migrator runs SQLite migrations outside any transaction, and its lock is a no-op on
 * SQLite, hence this runner.)
 *
 * The DDL of both databases is transactional, with one exception to keep in mind when writing a
 * migration: SQLite's `PRAGMA foreign_keys` has no effect inside a transaction. A migration must
 * not open a transaction itself.
 */
export async function runMigrations(
  db: Kysely<unknown>,
  migrations: Readonly<Record<string, Migration>>,
  options: { lockTimeoutMs?: number } = {},
): Promise<MigrationOutcome> {
  const names = Object.keys(migrations).sort();
  const lockTimeoutMs = options.lockTimeoutMs ?? defaultLockTimeoutMs;
  const applied: string[] = [];
  // One connection for the whole run: BEGIN and COMMIT must reach the same SQLite handle.
  await db.connection().execute(async (conn) => {
    for (;;) {
      await begin(conn, lockTimeoutMs);
      let next: string | undefined;
      try {
        next = await pendingMigration(conn, names);
        if (next !== undefined) {
          try {
            await migrations[next]!.up(dialectOf(conn) === 'postgres' ? conn.withPlugin(wideIntegers) : conn);
          } catch (error) {
            const reason = error instanceof Error ? error.message : JSON.stringify(error);
            throw new MigrationError(next, `database migration ${next} failed, nothing of it was kept: ${reason}`, {
              cause: error,
            });
          }
          await sql`INSERT INTO ${sql.table(migrationTable)} (name, timestamp) VALUES (${next}, ${new Date().toISOString()})`.execute(
            conn,
          );
        }
        await sql`COMMIT`.execute(conn);
      } catch (error) {
        await rollback(conn);
        throw error;
      }
      if (next === undefined) return;
      applied.push(next);
    }
  });
  return { applied };
}

/** Any 64-bit number of our own: the key of PostgreSQL's advisory lock over migrations ("duban" in ASCII). */
const postgresMigrationLock = 0x647562616e;

/** Opens a transaction holding the migration lock, waiting up to `timeoutMs` while another process holds it. */
async function begin(conn: Kysely<unknown>, timeoutMs: number): Promise<void> {
  if (dialectOf(conn) === 'postgres') {
    await sql`BEGIN`.execute(conn);
    await sql`SELECT set_config('lock_timeout', ${`${timeoutMs}ms`}, true)`.execute(conn);
    try {
      await sql`SELECT pg_advisory_xact_lock(${postgresMigrationLock})`.execute(conn);
    } catch (error) {
      await rollback(conn);
      if ((error as { code?: unknown }).code === '55P03') {
        throw new Error(`database is locked: no migration lock within ${timeoutMs} ms`, { cause: error });
      }
      throw error;
    }
    return;
  }
  await beginImmediate(conn, timeoutMs);
}

/** Takes SQLite's write lock, waiting (in busy_timeout steps) while another process holds it. */
async function beginImmediate(conn: Kysely<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      return;
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) {
        if (isBusy(error)) {
          throw new Error(`database is locked: no write lock for migrations within ${timeoutMs} ms`, { cause: error });
        }
        throw error;
      }
    }
  }
}

/** Rolls back unless the database already did (SQLite does on some errors, e.g. a full disk). */
async function rollback(conn: Kysely<unknown>): Promise<void> {
  try {
    await sql`ROLLBACK`.execute(conn);
  } catch {
    // "cannot rollback - no transaction is active": nothing left to undo.
  }
}

/** The first migration not yet recorded; refuses a database that does not match `names`. */
async function pendingMigration(conn: Kysely<unknown>, names: readonly string[]): Promise<string | undefined> {
  await sql`CREATE TABLE IF NOT EXISTS ${sql.table(migrationTable)} (
    "name" varchar(255) not null primary key, "timestamp" varchar(255) not null)`.execute(conn);
  const { rows } = await sql<{ name: string }>`SELECT name FROM ${sql.table(migrationTable)} ORDER BY name`.execute(conn);
  const done = rows.map((r) => r.name);
  const unknown = done.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `the database was migrated by a newer version of duban (unknown migrations: ${unknown.join(', ')}); run that version or newer`,
    );
  }
  // Applied migrations must be the first ones by name, as kysely's Migrator requires too.
  done.forEach((name, i) => {
    if (names[i] !== name) {
      throw new Error(`migration ${names[i]} is missing before the applied ${name}: a new migration must sort after every applied one`);
    }
  });
  return names[done.length];
}
