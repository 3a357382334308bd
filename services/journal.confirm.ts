import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { createReadModelActivities } from '../activities/read-model.activities';
import type { Db } from '../db/database';
import { confirmStream, everythingConfirmed, listUnconfirmedStreams, markStreamChecked } from '../db/journal.repository';
import { getCaseQuery, getTaskQuery, journalPositionQuery, resyncJournalSignal } from '../workflows/messages';

/** At most this many workflows are looked at per call, this many at once, each given this long to answer. */
const streamsPerCall = 200;
const atOnce = 8;
const answerWithinMs = 5_000;
/** A workflow asked to write its state again is not asked again sooner than this (its handler may wait for a lock). */
const resyncEveryMs = 60_000;

/**
 * Confirms the read model's journal writes against the server's record (docs/reliability.md): for
 * each workflow whose journal has written more than is confirmed, asks the workflow how far its
 * journal stands in the recorded history (a query is answered once any workflow task under way has
 * completed). What is recorded is confirmed and its held notices released. Writes past it, with no
 * workflow task under way, were made by an attempt that died and whose retry wrote nothing (an
 * update lost with a restarted server, say): a running workflow is asked to write its state again,
 * which voids them; for a closed one its final state is written here, from its queries.
 *
 * Returns whether any workflow remains unconfirmed (to be asked again soon).
 */
export function createJournalConfirmer(deps: {
  db: Db;
  client: Client;
  log?: { warn(message: string, attributes?: Record<string, unknown>): void } | undefined;
}): () => Promise<boolean> {
  const { db, client } = deps;
  const readModel = createReadModelActivities({ db });
  const answered = <T>(call: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + answerWithinMs, call);

  /** Confirms what `stream` has on the record; returns whether it was asked to write its state again. */
  async function confirm(stream: string, seq: number, resyncAt: string | null): Promise<boolean> {
    const handle = client.workflow.getHandle(stream);
    let description;
    try {
      description = await answered(() => handle.describe());
    } catch (error) {
      // Gone (past retention): nothing will write it again.
      if (error instanceof WorkflowNotFoundError) {
        await confirmStream(db, stream, seq);
        return false;
      }
      throw error;
    }
    const position = await answered(() => handle.query(journalPositionQuery));
    await confirmStream(db, stream, position.sequence);
    if (position.sequence >= seq) return false;
    const running = description.status.name === 'RUNNING';
    // A workflow task under way may still write (or its retry void) what lies past the record.
    if (running && description.raw.pendingWorkflowTask) return false;
    if (running) {
      if (resyncAt !== null && Date.now() - Date.parse(resyncAt) < resyncEveryMs) return false;
      await answered(() => handle.signal(resyncJournalSignal));
      return true;
    }
    // Closed: no later write will come, so its final state is written here, under a fence above
    // every attempt's, voiding what lies past the record.
    const fence = { stream, from: position.sequence + 1, fence: everythingConfirmed };
    // (At least version 1: a task's own row wins over the version 0 its case wrote.)
    const version = Math.max(1, position.writes);
    if (description.type === 'taskWorkflow') {
      const { next, ...state } = await answered(() => handle.query(getTaskQuery));
      await readModel.recordEvents({ events: [], taskSnapshots: [{ state, version, next }], fence });
    } else if (description.type === 'caseWorkflow') {
      const state = await answered(() => handle.query(getCaseQuery));
      await readModel.recordEvents({ events: [], caseSnapshot: { state, version }, fence });
    }
    return false;
  }

  return async () => {
    const streams = await listUnconfirmedStreams(db, streamsPerCall);
    for (let i = 0; i < streams.length; i += atOnce) {
      await Promise.all(
        streams.slice(i, i + atOnce).map(async ({ stream, seq, resync_at }) => {
          let resynced = false;
          try {
            resynced = await confirm(stream, seq, resync_at);
          } catch (error) {
            deps.log?.warn('could not confirm a workflow’s read-model writes; asking again soon', { workflowId: stream, error: (error as Error).message });
          }
          await markStreamChecked(db, stream, new Date().toISOString(), resynced).catch(() => undefined);
        }),
      );
    }
    return streams.length > 0 && (await listUnconfirmedStreams(db, 1)).length > 0;
  };
}
