import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * Journal writes fenced by the workflow task attempt that made them (docs/reliability.md).
 *
 * A workflow writes the read model from local activities, before the server has recorded the
 * workflow task that decided them. When that task's attempt dies and the retried attempt decides
 * differently (a message arrived meanwhile), the retry's writes carry a higher fence and replace
 * what the dead attempt wrote from the same position on:
 *
 * - `journal_streams`: per workflow, the highest fence written, the last position written under
 *   it, the last position known to be on the server's record (`confirmed`) and the fence of the
 *   last write known recorded (`confirmed_fence`): a stream with more written than confirmed is
 *   looked at by the notice dispatcher's rounds (`checked_at`: least recently first; `resync_at`:
 *   when it was last asked to write its state again);
 * - `voided_events`: every event a retry replaced, as it was, with when and by which fence: the
 *   audit trail keeps what it showed for a while. `events` stays append-only except for the
 *   removal of an entry recorded here first;
 * - `fence` on the rows written from snapshots (cases, tasks, follow-ups): a later attempt's
 *   snapshot wins over a dead attempt's of the same or a higher version;
 * - notices `held` (a new status) with the workflow (`held_by`) and the position of their event in
 *   its journal (`held_position`), until that position is on the server's record; only then are
 *   they planned.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('journal_streams')
    .addColumn('stream', 'text', (c) => c.primaryKey())
    .addColumn('fence', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('confirmed', 'integer', (c) => c.notNull())
    .addColumn('confirmed_fence', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('checked_at', 'text')
    .addColumn('resync_at', 'text')
    .execute();
  await sql`CREATE INDEX journal_streams_unconfirmed ON journal_streams(stream) WHERE seq > confirmed`.execute(db);

  await db.schema
    .createTable('voided_events')
    .addColumn('event_key', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addColumn('fence', 'integer', (c) => c.notNull())
    .addColumn('voided_at', 'text', (c) => c.notNull())
    .addColumn('voided_by_fence', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('voided_events_case').on('voided_events').columns(['case_id']).execute();

  for (const table of ['cases', 'tasks', 'case_follow_ups']) {
    await db.schema
      .alterTable(table)
      .addColumn('fence', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }

  await db.schema.alterTable('notices').addColumn('held_by', 'text').execute();
  await db.schema.alterTable('notices').addColumn('held_position', 'integer').execute();
  await db.schema.createIndex('notices_held').on('notices').columns(['held_by', 'held_position']).execute();

  // Events stay append-only; an entry may go only once it is recorded as voided.
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE OR REPLACE FUNCTION duban_refuse_unvoided_delete() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM voided_events v WHERE v.event_key = OLD.event_key) THEN RETURN OLD; END IF;
        RAISE EXCEPTION USING MESSAGE = 'events are append-only', ERRCODE = 'restrict_violation';
      END $$`.execute(db);
    await sql`DROP TRIGGER events_no_delete ON events`.execute(db);
    await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW
      EXECUTE FUNCTION duban_refuse_unvoided_delete()`.execute(db);
  } else {
    await sql`DROP TRIGGER events_no_delete`.execute(db);
    await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      WHEN NOT EXISTS (SELECT 1 FROM voided_events v WHERE v.event_key = OLD.event_key)
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`DROP TRIGGER events_no_delete ON events`.execute(db);
    await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW
      EXECUTE FUNCTION duban_refuse('events are append-only')`.execute(db);
    await sql`DROP FUNCTION duban_refuse_unvoided_delete()`.execute(db);
  } else {
    await sql`DROP TRIGGER events_no_delete`.execute(db);
    await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`.execute(db);
  }
  await db.schema.dropIndex('notices_held').ifExists().execute();
  await db.schema.alterTable('notices').dropColumn('held_position').execute();
  await db.schema.alterTable('notices').dropColumn('held_by').execute();
  for (const table of ['cases', 'tasks', 'case_follow_ups']) await db.schema.alterTable(table).dropColumn('fence').execute();
  await db.schema.dropTable('voided_events').ifExists().execute();
  await db.schema.dropTable('journal_streams').ifExists().execute();
}
