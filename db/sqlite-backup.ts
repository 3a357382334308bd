import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * Copies the SQLite database `source` to `target` with SQLite's online backup API while other
 * processes keep using it: the copy is the database as one committed transaction left it (a step
 * that sees a change made meanwhile by another connection starts again, so the copy is taken in
 * one step). The source may be in WAL mode; the copy keeps the mode in its header.
 */
export async function snapshotSqlite(source: string, target: string): Promise<{ pages: number }> {
  if (!fs.existsSync(source)) throw new Error(`no database at ${source}`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(target, { force: true });
  const db = new SQLite(source, { fileMustExist: true, timeout: 10_000 });
  try {
    // Everything in one step: one read transaction, so no restart however busy the writer is.
    const { totalPages } = await db.backup(target, { progress: () => 1 << 30 });
    return { pages: totalPages };
  } finally {
    db.close();
  }
}

/** `PRAGMA quick_check` of a database file: 'ok', or what is wrong with it. */
export function checkSqlite(file: string): string {
  const db = new SQLite(file, { fileMustExist: true, readonly: true });
  try {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    return rows.map((r) => r.quick_check).join('; ');
  } finally {
    db.close();
  }
}
