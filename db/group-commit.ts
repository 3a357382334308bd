import { sql, type Transaction } from 'kysely';
import type { Database } from './schema';
import type { Db } from './database';
import { dialectOf } from './dialect';

/** At most this many writes share one commit. */
const maxBatch = 64;

interface Pending {
  readonly write: (trx: Transaction<Database>) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs transactions that concurrent callers ask for as one: writes asked for while a commit is under
 * way wait for it, then run together in the next transaction, each under a savepoint of its own, so
 * that a burst (a thousand rungs falling due at the start of a working day) costs one commit, with
 * its fsync, per batch instead of one per write. A write that fails is rolled back to its savepoint
 * and fails alone; a commit that fails fails every write of its batch (nothing of it is stored). A
 * write is answered only once its batch is committed. A write arriving when nothing is under way
 * runs at once: a lone write waits for nothing.
 *
 * SQLite only, where writes take turns at one lock anyway. On PostgreSQL each write stays a
 * transaction of its own: a batch would hold several cases' row locks at once, taken in an order
 * that another process's batch need not share (a deadlock).
 */
export function groupCommit(db: Db): <T>(write: (trx: Transaction<Database>) => Promise<T>) => Promise<T> {
  if (dialectOf(db) !== 'sqlite') return (write) => db.transaction().execute(write);
  const queue: Pending[] = [];
  let running = false;

  async function runBatch(batch: Pending[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const { write } of batch) {
          await sql`SAVEPOINT duban_write`.execute(trx);
          try {
            const value = await write(trx);
            await sql`RELEASE duban_write`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            // (Should the rollback itself fail, the transaction is lost: every write of it fails.)
            await sql`ROLLBACK TO duban_write`.execute(trx);
            await sql`RELEASE duban_write`.execute(trx);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
      return;
    }
    batch.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }

  function pump(): void {
    if (running || queue.length === 0) return;
    running = true;
    void runBatch(queue.splice(0, maxBatch)).finally(() => {
      running = false;
      pump();
    });
  }

  return <T>(write: (trx: Transaction<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      pump();
    });
}
