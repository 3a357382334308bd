/**
 * SQLite's answer when another connection holds the write lock, or wrote after this transaction
 * read (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT …): the transaction can run again from the start.
 */
export const isBusy = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && 'code' in error && String(error.code).startsWith('SQLITE_BUSY');
