import type { Insertable, Transaction } from 'kysely';
import type { CaseState } from '../domain/case.machine';
import { noticesFor } from '../domain/notice';
import { insertNotices } from '../db/notice.repository';
import type { Database, NoticeTable } from '../db/schema';
import type { TaskState } from '../domain/task.machine';
import { caseStateToRow, taskStateToRow } from '../db/case.mapper';
import { lockCaseRows, refreshCaseAggregates, saveCaseRow, saveTaskRow } from '../db/case.repository';
import { addEvidenceRefs } from '../db/evidence.repository';
import { followUpStateToRow, saveFollowUpRow } from '../db/follow-up.repository';
import type { Db } from '../db/database';
import { appendEvents, type KeyedEvent } from '../db/event.repository';
import { fenceJournalWrite, type JournalFence } from '../db/journal.repository';
import { enqueueNotifications, type KeyedEscalation, type KeyedNotification, recordEscalations } from '../db/outbox.repository';
import type { Alarm } from '../domain/alarm.plan';

/** Events of one workflow with the state they lead to, written in one transaction. */
export interface RecordEventsInput {
  readonly events: readonly KeyedEvent[];
  readonly caseSnapshot?: { readonly state: CaseState; readonly version: number };
  readonly taskSnapshots?: readonly {
    readonly state: TaskState;
    readonly version: number;
    /** What falls due next for the task. */
    readonly next?: Alarm | null;
  }[];
  readonly notifications?: readonly KeyedNotification[];
  readonly escalations?: readonly KeyedEscalation[];
  /**
   * The attempt of the workflow task that wrote this (runs under the `fenced-*-journal` patches):
   * a later attempt's write replaces what a dead one wrote from the same position on, a dead
   * attempt's late write is dropped, and notices are held until the server has recorded the task.
   */
  readonly fence?: JournalFence;
}

/** The notices that `events` give, each keyed by its event (so written once). */
async function noticesOf(
  db: Transaction<Database>,
  events: readonly KeyedEvent[],
  at: string,
  fence: JournalFence | undefined,
): Promise<Insertable<NoticeTable>[]> {
  const rows: Insertable<NoticeTable>[] = [];
  const rules = noticesFor(events.map((e) => e.event));
  for (const [i, { key, caseId, event }] of events.entries()) {
    const rule = rules[i];
    if (!rule) continue;
    const task = event.taskId
      ? await db.selectFrom('tasks').select('department_code').where('id', '=', event.taskId).executeTakeFirst()
      : undefined;
    rows.push({
      notice_key: key,
      case_id: caseId,
      task_id: event.taskId,
      department_code: task?.department_code ?? null,
      kind: rule.kind,
      roles: JSON.stringify(rule.roles),
      urgent: rule.urgent ? 1 : 0,
      event_action: event.action,
      payload: JSON.stringify(event.payload),
      event_at: event.at,
      not_before: at,
      created_at: at,
      ...(fence ? { status: 'held', held_by: fence.stream, held_position: fence.from + i } : { status: 'pending' }),
    });
  }
  return rows;
}

/** The stored files among `evidence` (a payload field), as references from `caseId`. */
function evidenceFiles(caseId: string, evidence: unknown): { sha256: string; caseId: string }[] {
  if (!Array.isArray(evidence)) return [];
  return evidence.flatMap((e: unknown) =>
    typeof e === 'object' && e !== null && (e as { kind?: unknown }).kind === 'file'
      ? [{ sha256: String((e as { sha256: unknown }).sha256), caseId }]
      : [],
  );
}

/**
 * Activities that keep the SQL read model. They are idempotent: events carry keys and snapshots
 * carry versions, so a retried or late activity never writes an event twice nor rolls state back.
 */
export function createReadModelActivities(deps: { db: Db; now?: () => Date; wakeNotices?: (() => Promise<void>) | undefined }) {
  const now = deps.now ?? (() => new Date());
  return {
    async recordEvents(input: RecordEventsInput): Promise<{ appended: number; notices?: number; superseded?: true }> {
      const at = now().toISOString();
      const caseIds = new Set([
        ...input.events.map((e) => e.caseId),
        ...(input.caseSnapshot ? [input.caseSnapshot.state.caseId] : []),
        ...(input.taskSnapshots ?? []).map((t) => t.state.caseId),
      ]);
      const written = await deps.db.transaction().execute(async (trx) => {
        // A case's task workflows write at once: one at a time per case, so its aggregates count every task.
        await lockCaseRows(trx, [...caseIds]);
        const { fence } = input;
        if (fence) {
          const last = input.events.length > 0 ? fence.from + input.events.length - 1 : fence.from - 1;
          const tasks = (input.taskSnapshots ?? []).map((t) => t.state.taskId);
          if ((await fenceJournalWrite(trx, fence, last, at, tasks)) === 'superseded') return { appended: 0, notices: 0, superseded: true as const };
          // A follow-up round that an attempt which then died started: the case as written has none.
          if (input.caseSnapshot && !input.caseSnapshot.state.followUp) await trx.deleteFrom('case_follow_ups').where('case_id', '=', input.caseSnapshot.state.caseId).execute();
        }
        const fenced = { fence: fence?.fence ?? 0 };
        if (input.caseSnapshot) {
          await saveCaseRow(trx, { ...caseStateToRow(input.caseSnapshot.state, input.caseSnapshot.version, at), ...fenced });
          const { followUp } = input.caseSnapshot.state;
          if (followUp) {
            await saveFollowUpRow(trx, {
              ...followUpStateToRow(input.caseSnapshot.state.caseId, followUp, input.caseSnapshot.version, at),
              ...fenced,
            });
          }
        }
        for (const snapshot of input.taskSnapshots ?? []) {
          await saveTaskRow(trx, { ...taskStateToRow(snapshot.state, snapshot.version, at, snapshot.next ?? null), ...fenced });
        }
        await enqueueNotifications(trx, input.notifications ?? [], at);
        await recordEscalations(trx, input.escalations ?? []);
        const appended = await appendEvents(trx, input.events, at);
        for (const caseId of caseIds) await refreshCaseAggregates(trx, caseId);
        await addEvidenceRefs(trx, [
          ...(input.caseSnapshot ? evidenceFiles(input.caseSnapshot.state.caseId, input.caseSnapshot.state.details.evidence) : []),
          ...input.events.flatMap((e) => evidenceFiles(e.caseId, e.event.payload.evidence)),
        ]);
        // The outbox: each event that asks someone to act gives a notice, written with it.
        const notices = await insertNotices(trx, await noticesOf(trx, input.events, at, fence));
        return { appended, notices };
      });
      // Wake the dispatcher: to send the notices, and to confirm the journal's new positions (its
      // rounds do, docs/reliability.md), so that a dead attempt's write is found within seconds
      // even when it gave no notice. If it cannot be reached now, its next round finds both.
      const unconfirmed = input.fence !== undefined && written.appended > 0;
      if ((written.notices > 0 || unconfirmed) && deps.wakeNotices) await deps.wakeNotices().catch(() => undefined);
      return written;
    },
  };
}

export type ReadModelActivities = ReturnType<typeof createReadModelActivities>;
