/**
 * What the database's errors mean, for both drivers (better-sqlite3 and node-postgres), so that
 * services and the HTTP edge never look at one driver's codes.
 */

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;

/** PostgreSQL's SQLSTATEs for a transaction that lost a race: serialization failure, deadlock, lock not available. */
const postgresRetryable = new Set(['40001', '40P01', '55P03']);

/**
 * Another writer got in the way (SQLite's SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT …; PostgreSQL's
 * serialization failure or deadlock): the transaction can run again from the start.
 */
export function isBusy(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || postgresRetryable.has(code));
}

/**
 * The database cannot be used for a while (locked, unreachable, shutting down, out of
 * connections), as opposed to refusing what was asked.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return false;
  return (
    isBusy(error) ||
    code === 'SQLITE_LOCKED' ||
    // PostgreSQL: connection exceptions (08…), insufficient resources (53…), operator intervention (57P…).
    /^(08|53|57P)/.test(code) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)
  );
}

/**
 * A unique index of `table` over exactly `columns` refused a row. SQLite names the columns in
 * its message; PostgreSQL (23505) names the table and the key in its detail.
 */
export function isUniqueViolation(error: unknown, table: string, columns: readonly string[]): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code === '23505') {
    const e = error as Error & { table?: string; detail?: string };
    return e.table === table && (e.detail ?? '').startsWith(`Key (${columns.join(', ')})=`);
  }
  return (
    code?.startsWith('SQLITE_CONSTRAINT') === true &&
    error.message === `UNIQUE constraint failed: ${columns.map((c) => `${table}.${c}`).join(', ')}`
  );
}
