import { type Kysely, sql } from 'kysely';
import { dialectOf, refuseChanges, serialKey } from '../dialect';

/**
 * Bulletins (定期通报) and what they rest on: the assessment rules in force over time (versions
 * that are never changed, only followed by newer ones), the bulletins themselves (drafts the office
 * decides on; published versions that are never changed again) and the interview records (约谈)
 * that rung 4 opens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('assessment_rules')
    .addColumn('version', 'integer', serialKey(db))
    // The first office-zone date the rules apply to: a period is scored by the rules in force on its first day.
    .addColumn('effective_from', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assessment_rules_effective').on('assessment_rules').columns(['effective_from', 'version']).execute();
  const postgres = dialectOf(db) === 'postgres';
  if (postgres) {
    await refuseChanges(db, 'assessment_rules', {
      update: { message: 'assessment rules are never changed: add a newer version' },
      delete: { message: 'assessment rules are never deleted: add a newer version' },
    });
  } else {
    await sql`CREATE TRIGGER assessment_rules_no_update BEFORE UPDATE ON assessment_rules
    BEGIN SELECT RAISE(ABORT, 'assessment rules are never changed: add a newer version'); END`.execute(db);
    await sql`CREATE TRIGGER assessment_rules_no_delete BEFORE DELETE ON assessment_rules
    BEGIN SELECT RAISE(ABORT, 'assessment rules are never deleted: add a newer version'); END`.execute(db);
  }

  await db.schema
    .createTable('bulletins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('period_from', 'text', (c) => c.notNull())
    .addColumn('period_to', 'text', (c) => c.notNull())
    // draft | published | superseded | discarded
    .addColumn('status', 'text', (c) => c.notNull())
    // Number within the year of first publication (2026年第N期); a correction keeps its number.
    .addColumn('year', 'integer')
    .addColumn('sequence', 'integer')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    // The published bulletin a correction replaces.
    .addColumn('corrects_id', 'text')
    .addColumn('correction_reason', 'text')
    // schedule | office | correction
    .addColumn('origin', 'text', (c) => c.notNull())
    // One draft per scheduled period, however often the schedule's workflow runs.
    .addColumn('origin_key', 'text', (c) => c.unique())
    // JSON BulletinDocument: what is (or will be) published.
    .addColumn('document', 'text', (c) => c.notNull())
    // JSON: the items the draft proposed, and the office's removals and additions with reasons.
    .addColumn('proposed_items', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('decisions', 'text', (c) => c.notNull().defaultTo('[]'))
    // Bumped by each change of a draft: a decision names the revision it was made on.
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('rules_version', 'integer')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('published_by', 'text')
    .addColumn('published_at', 'text')
    .execute();
  await db.schema.createIndex('bulletins_number').on('bulletins').columns(['year', 'sequence', 'version']).unique().execute();
  await db.schema.createIndex('bulletins_status').on('bulletins').columns(['status', 'period_to']).execute();
  // A published bulletin is immutable: only its status may move on (to superseded, by a correction).
  if (postgres) {
    await refuseChanges(db, 'bulletins', {
      update: {
        message: 'a published bulletin is never changed: publish a correction',
        when: sql`OLD.status IN ('published', 'superseded') AND (
          NEW.document IS DISTINCT FROM OLD.document OR NEW.decisions IS DISTINCT FROM OLD.decisions
          OR NEW.sequence IS DISTINCT FROM OLD.sequence OR NEW.year IS DISTINCT FROM OLD.year
          OR NEW.version IS DISTINCT FROM OLD.version OR NEW.published_at IS DISTINCT FROM OLD.published_at
          OR NOT (NEW.status = OLD.status OR (OLD.status = 'published' AND NEW.status = 'superseded')))`,
      },
      delete: { message: 'a published bulletin is never deleted', when: sql`OLD.status IN ('published', 'superseded')` },
    });
  } else {
    await sql`CREATE TRIGGER bulletins_published_immutable BEFORE UPDATE ON bulletins
    WHEN OLD.status IN ('published', 'superseded') AND (
      NEW.document IS NOT OLD.document OR NEW.decisions IS NOT OLD.decisions OR NEW.sequence IS NOT OLD.sequence
      OR NEW.year IS NOT OLD.year OR NEW.version IS NOT OLD.version OR NEW.published_at IS NOT OLD.published_at
      OR NOT (NEW.status = OLD.status OR (OLD.status = 'published' AND NEW.status = 'superseded')))
    BEGIN SELECT RAISE(ABORT, 'a published bulletin is never changed: publish a correction'); END`.execute(db);
    await sql`CREATE TRIGGER bulletins_published_no_delete BEFORE DELETE ON bulletins
    WHEN OLD.status IN ('published', 'superseded')
    BEGIN SELECT RAISE(ABORT, 'a published bulletin is never deleted'); END`.execute(db);
  }

  await db.schema
    .createTable('interviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The rung-4 escalation that called for it: one interview per rung reached.
    .addColumn('escalation_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('department_code', 'text', (c) => c.notNull())
    // pending | completed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('called_at', 'text', (c) => c.notNull())
    .addColumn('interviewees', 'text')
    .addColumn('interviewers', 'text')
    .addColumn('held_at', 'text')
    .addColumn('outcome', 'text')
    .addColumn('completed_by', 'text')
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('interviews_department').on('interviews').columns(['department_code', 'status', 'called_at']).execute();
  // Rung 4 reached before this migration: their interviews are owed too.
  await sql`INSERT INTO interviews (id, escalation_key, case_id, task_id, department_code, status, called_at)
    SELECT 'iv_' || ${postgres ? sql`substr(md5(random()::text), 1, 12)` : sql`lower(hex(randomblob(6)))`}, escalation_key, case_id, task_id, department_code, 'pending', at
    FROM escalations WHERE level = 4`.execute(db);
  await db.schema.createIndex('escalations_at').on('escalations').columns(['at']).execute();
  // Cases opened and closed in a bulletin's period are counted from the audit trail by action and time.
  await db.schema.createIndex('events_action_at').on('events').columns(['action', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_action_at').ifExists().execute();
  await db.schema.dropIndex('escalations_at').ifExists().execute();
  await db.schema.dropTable('interviews').ifExists().execute();
  await db.schema.dropTable('bulletins').ifExists().execute();
  await db.schema.dropTable('assessment_rules').ifExists().execute();
}
