import type { Db, Executor } from './database';
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
export const journalEventKey = (stream: string, seq: number): string => `${stream}#${seq}`;

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
): Promise<'superseded' | 'written'> {
  // (Two attempts of one workflow write one at a time: the case rows are locked, and on PostgreSQL the stream's row too.)
  const stream = await db
    .selectFrom('journal_streams')
    .selectAll()
    .where('stream', '=', write.stream)
    .$if(dialectOf(db) === 'postgres', (q) => q.forUpdate())
    .executeTakeFirst();
  if (stream && stream.fence > write.fence) return 'superseded';
  const sameAttempt = stream !== undefined && stream.fence === write.fence;
  let confirmed = stream?.confirmed ?? 0;
  if (!sameAttempt) {
    if (stream && stream.seq >= write.from) await voidFrom(db, write, stream.seq, stream.fence, at);
    confirmed = Math.max(confirmed, write.from - 1);
    await releaseHeldNotices(db, write.stream, write.from - 1);
  }
  const seq = sameAttempt ? Math.max(stream.seq, lastSeq) : lastSeq;
  await db
    .insertInto('journal_streams')
    .values({ stream: write.stream, fence: write.fence, seq, confirmed })
    .onConflict((oc) => oc.column('stream').doUpdateSet({ fence: write.fence, seq, confirmed }))
    .execute();
  return 'written';
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
export async function listUnconfirmedStreams(db: Executor, limit: number): Promise<{ stream: string; seq: number; confirmed: number }[]> {
  return db
    .selectFrom('journal_streams')
    .select(['stream', 'seq', 'confirmed'])
    .where((eb) => eb('seq', '>', eb.ref('confirmed')))
    .orderBy('stream')
    .limit(limit)
    .execute();
}

/** Positions up to `upTo` of `stream` are on the server's record: releases their held notices. */
export async function confirmStream(db: Db, stream: string, upTo: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('journal_streams').set({ confirmed: upTo }).where('stream', '=', stream).where('confirmed', '<', upTo).execute();
    await releaseHeldNotices(trx, stream, upTo);
  });
}
