import type { Db, Executor } from './database';
import { sql } from 'kysely';
import { dialectOf } from './dialect';
import { interviewIdFor } from './outbox.repository';

/**
 * Where a workflow's journal write stands among the attempts of its workflow tasks: the workflow
 * (`stream`), the position of the write's first event (`from`; the next position when it has
 * none), and the workflow's clock at the activation that made it (`fence`), which is higher for a
 * later attempt of the same workflow task and the same when a local activity is run again.
 */
export interface JournalFence {
  readonly stream: string;
  readonly from: number;
  readonly fence: number;
}

/** A fence above every workflow clock: a bound below which everything is confirmed. */
export const everythingConfirmed = Number.MAX_SAFE_INTEGER;

/** The key of a journal's `seq`-th event (workflows/journal.ts numbers them so). */
const journalEventKey = (stream: string, seq: number): string => `${stream}#${seq}`;

/**
 * Decides a fenced write before it is made, in its transaction (the case rows locked):
 * - `superseded`: a later attempt of this workflow's task has written already; this write is a
 *   dead attempt's, late, and is dropped whole;
 * - otherwise it goes ahead. When it is the first write of a later workflow task (or attempt),
 *   what that task starts from is on the server's record: positions before `from` are confirmed
 *   and their held notices released; and what an earlier attempt wrote from `from` on, never
 *   recorded, is voided first: its events (kept in `voided_events`), their rungs, interviews and
 *   held notices.
 */
export async function fenceJournalWrite(
  db: Executor,
  write: JournalFence,
  lastSeq: number,
  at: string,
  /** The tasks whose rows this write itself writes. */
  tasks: readonly string[],
): Promise<'superseded' | 'written'> {
  // Two attempts of one workflow write one at a time: SQLite has one writer (lockCaseRows took the
  // lock), PostgreSQL takes a lock on the stream's name (its row may not exist yet).
  if (dialectOf(db) === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtextextended(${write.stream}, 0))`.execute(db);
  const stream = await db.selectFrom('journal_streams').selectAll().where('stream', '=', write.stream).executeTakeFirst();
  if (stream && stream.fence > write.fence) return 'superseded';
  const sameAttempt = stream !== undefined && stream.fence === write.fence;
  let confirmed = stream?.confirmed ?? 0;
  let confirmedFence = stream?.confirmed_fence ?? 0;
  if (stream && !sameAttempt) {
    if (stream.seq >= write.from) {
      await voidFrom(db, write, stream.seq, stream.fence, at);
      await voidNewTaskRows(db, write.stream, confirmedFence, tasks);
    } else {
      // The previous workflow task's writes end before this one begins: it is on the record.
      confirmedFence = stream.fence;
    }
  }
  if (!sameAttempt) {
    confirmed = Math.max(confirmed, write.from - 1);
    await releaseHeldNotices(db, write.stream, write.from - 1);
  }
  const seq = sameAttempt ? Math.max(stream.seq, lastSeq) : lastSeq;
  const row = { fence: write.fence, seq, confirmed, confirmed_fence: confirmedFence };
  await db
    .insertInto('journal_streams')
    .values({ stream: write.stream, ...row })
    .onConflict((oc) => oc.column('stream').doUpdateSet(row))
    .execute();
  return 'written';
}

/**
 * The rows of new tasks (version 0, written by their case) that attempts which then died wrote,
 * beyond the last recorded write's fence, and that this write does not write again: the tasks
 * were never started (a reassignment or a reopening the retried attempt did not make).
 */
async function voidNewTaskRows(db: Executor, caseStream: string, confirmedFence: number, keep: readonly string[]): Promise<void> {
  let query = db.deleteFrom('tasks').where('case_id', '=', caseStream).where('version', '=', 0).where('fence', '>', confirmedFence);
  if (keep.length > 0) query = query.where('id', 'not in', [...keep]);
  await query.execute();
}

/** Voids what earlier attempts wrote at positions `write.from`..`through` of the stream. */
async function voidFrom(db: Executor, write: JournalFence, through: number, fence: number, at: string): Promise<void> {
  const keys: string[] = [];
  for (let seq = write.from; seq <= through; seq++) keys.push(journalEventKey(write.stream, seq));
  const events = await db.selectFrom('events').selectAll().where('event_key', 'in', keys).execute();
  if (events.length > 0) {
    await db
      .insertInto('voided_events')
      .values(
        events.map((e) => ({
          event_key: e.event_key,
          case_id: e.case_id,
          task_id: e.task_id,
          action: e.action,
          payload: e.payload,
          at: e.at,
          recorded_at: e.recorded_at,
          fence,
          voided_at: at,
          voided_by_fence: write.fence,
        })),
      )
      .onConflict((oc) => oc.column('event_key').doNothing())
      .execute();
    await db.deleteFrom('events').where('event_key', 'in', keys).execute();
  }
  await db.deleteFrom('interviews').where('id', 'in', keys.map(interviewIdFor)).execute();
  await db.deleteFrom('escalations').where('escalation_key', 'in', keys).execute();
  // The legacy per-recipient record: `<event key>:<recipient>`.
  const caseIds = [...new Set(events.map((e) => e.case_id))];
  if (caseIds.length > 0) {
    const notifications = await db.selectFrom('notifications').select('notification_key').where('case_id', 'in', caseIds).execute();
    const voided = notifications.map((n) => n.notification_key).filter((key) => keys.some((k) => key.startsWith(`${k}:`)));
    if (voided.length > 0) await db.deleteFrom('notifications').where('notification_key', 'in', voided).execute();
  }
  // A notice waits (held) until its write is confirmed, so none of these has gone out.
  await db.deleteFrom('notices').where('notice_key', 'in', keys).where('status', '=', 'held').execute();
}

/** Releases the notices `stream` holds for its events up to position `upTo`. Returns how many. */
export async function releaseHeldNotices(db: Executor, stream: string, upTo: number): Promise<number> {
  const result = await db
    .updateTable('notices')
    .set({ status: 'pending', held_by: null, held_position: null })
    .where('held_by', '=', stream)
    .where('held_position', '<=', upTo)
    .where('status', '=', 'held')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Releases every held notice (a dispatcher that cannot ask the server). */
export async function releaseAllHeldNotices(db: Executor): Promise<void> {
  await db.updateTable('notices').set({ status: 'pending', held_by: null, held_position: null }).where('status', '=', 'held').execute();
}

/** Workflows whose journal has written more than is known to be on the server's record. */
export async function listUnconfirmedStreams(
  db: Executor,
  limit: number,
): Promise<{ stream: string; seq: number; confirmed: number; resync_at: string | null }[]> {
  const rows = await db
    .selectFrom('journal_streams')
    .select(['stream', 'seq', 'confirmed', 'resync_at', 'checked_at'])
    .where((eb) => eb('seq', '>', eb.ref('confirmed')))
    .orderBy(sql`coalesce(checked_at, '')`)
    .limit(limit)
    .execute();
  return rows.map((r) => ({ stream: r.stream, seq: r.seq, confirmed: r.confirmed, resync_at: r.resync_at ?? null }));
}

/** Positions up to `upTo` of `stream` are on the server's record: releases their held notices. */
export async function confirmStream(db: Db, stream: string, upTo: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('journal_streams')
      .set((eb) => ({
        confirmed: upTo,
        // Everything written is on the record: so is the last write's fence.
        confirmed_fence: eb.case().when('seq', '<=', upTo).then(eb.ref('fence')).else(eb.ref('confirmed_fence')).end(),
      }))
      .where('stream', '=', stream)
      .where('confirmed', '<', upTo)
      .execute();
    await releaseHeldNotices(trx, stream, upTo);
  });
}

/** Notes that `stream` was looked at (the least recently looked at go first), and whether it was asked to write again. */
export async function markStreamChecked(db: Db, stream: string, at: string, resynced: boolean): Promise<void> {
  await db
    .updateTable('journal_streams')
    .set({ checked_at: at, ...(resynced ? { resync_at: at } : {}) })
    .where('stream', '=', stream)
    .execute();
}
