import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { groupCommit } from '../db/group-commit';

/**
 * Concurrent read-model writes share commits on SQLite (db/group-commit.ts): what one write stores
 * is committed with its batch, a failed write takes back only its own changes, and every caller
 * hears of its own write only. On a SQLite file of its own in either pass (batching is SQLite's).
 */
describe('group commit of concurrent writes', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let other: SQLite.Database;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-group-commit-'));
    file = path.join(dir, 'duban.sqlite');
    db = openDatabase(file);
    await migrateToLatest(db);
    await sql`CREATE TABLE writes (n INTEGER PRIMARY KEY)`.execute(db);
    // Another connection, as another process reads the file: it sees committed rows only.
    other = new SQLite(file, { readonly: true });
  });
  afterAll(async () => {
    other?.close();
    await db?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const committed = () => (other.prepare('SELECT n FROM writes ORDER BY n').all() as { n: number }[]).map((r) => r.n);

  it('runs a lone write at once, and the writes asked for meanwhile together, committed with their batch', async () => {
    const commit = groupCommit(db);
    const seenBy: Record<number, number[]> = {};
    const insert = (n: number) =>
      commit(async (trx) => {
        await sql`INSERT INTO writes (n) VALUES (${n})`.execute(trx);
        seenBy[n] = committed();
        return n * 10;
      });
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => insert(i + 1)));
    expect(answers).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    // The first ran alone; the nine asked for while it ran share the next transaction: none of
    // them sees another's row committed, each sees the first's.
    expect(seenBy[1]).toEqual([]);
    for (let n = 2; n <= 10; n++) expect(seenBy[n]).toEqual([1]);
    expect(committed()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('takes back only the failed write’s changes; its caller alone hears of the failure', async () => {
    const commit = groupCommit(db);
    const insert = (n: number, fail = false) =>
      commit(async (trx) => {
        await sql`INSERT INTO writes (n) VALUES (${n})`.execute(trx);
        if (fail) throw new Error(`write ${n} refused`);
        return n;
      });
    const outcomes = await Promise.allSettled([insert(11), insert(12), insert(13, true), insert(14), insert(1)]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([
      11,
      12,
      'write 13 refused',
      14,
      // A constraint the database refuses (1 is there): that write only.
      expect.stringMatching(/UNIQUE constraint failed/),
    ]);
    expect(committed()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14]);
  });
});
