import { type Kysely, sql } from 'kysely';
import { dialectOf } from '../dialect';

/**
 * A revision per case row, raised by the database on every update of the row, whoever makes it
 * (a snapshot, the aggregates of its tasks, anything added later): a list page reads only the ids
 * and revisions of its rows and takes the rest from a process's cache of case views, which is
 * right exactly while the revision it was read at is the row's (services/case-view.cache.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('cases')
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  if (dialectOf(db) === 'postgres') {
    await sql`CREATE OR REPLACE FUNCTION duban_next_case_revision() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$`.execute(db);
    await sql`CREATE TRIGGER cases_revision BEFORE UPDATE ON cases FOR EACH ROW
      EXECUTE FUNCTION duban_next_case_revision()`.execute(db);
  } else {
    // Triggers do not fire themselves again here (recursive_triggers is off, SQLite's default).
    await sql`CREATE TRIGGER cases_revision AFTER UPDATE ON cases BEGIN
      UPDATE cases SET revision = old.revision + 1 WHERE rowid = new.rowid; END`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`DROP TRIGGER cases_revision ON cases`.execute(db);
    await sql`DROP FUNCTION duban_next_case_revision()`.execute(db);
  } else {
    await sql`DROP TRIGGER cases_revision`.execute(db);
  }
  await db.schema.alterTable('cases').dropColumn('revision').execute();
}
