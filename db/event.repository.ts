import type { DomainEvent, EventAction } from '../domain/event';
import type { Selectable } from 'kysely';
import type { EventTable } from './schema';
import type { Executor } from './database';

/** An event with the key that makes writing it idempotent. */
export interface KeyedEvent {
  readonly key: string;
  readonly caseId: string;
  readonly event: DomainEvent;
}

/** An entry of a case's timeline as read back. */
export interface TimelineEntry {
  position: number;
  at: string;
  action: EventAction;
  taskId: string | null;
  actor: { role: string; department: string | null; name: string };
  payload: Record<string, unknown>;
}

/** Appends events; an event whose key is already stored is skipped. Returns how many were new. */
export async function appendEvents(db: Executor, events: readonly KeyedEvent[], now: string): Promise<number> {
  if (events.length === 0) return 0;
  const result = await db
    .insertInto('events')
    .values(
      events.map(({ key, caseId, event }) => ({
        event_key: key,
        case_id: caseId,
        task_id: event.taskId,
        action: event.action,
        actor_role: event.actor.role,
        actor_department: event.actor.department ?? null,
        actor_name: event.actor.name,
        payload: JSON.stringify(event.payload),
        at: event.at,
        recorded_at: now,
      })),
    )
    .onConflict((oc) => oc.column('event_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

function toTimelineEntry(row: Selectable<EventTable>): TimelineEntry {
  return {
    position: row.position,
    at: row.at,
    action: row.action as EventAction,
    taskId: row.task_id,
    actor: { role: row.actor_role, department: row.actor_department, name: row.actor_name },
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
}

/** A case's timeline in the order things happened. */
export async function listCaseEvents(db: Executor, caseId: string): Promise<TimelineEntry[]> {
  const rows = await db
    .selectFrom('events')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('at')
    .orderBy('position')
    .execute();
  return rows.map(toTimelineEntry);
}
