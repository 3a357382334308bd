import { type Kysely, sql } from 'kysely';
import { createRefusalFunction, dialectOf, doubleType, refuseChanges, serialKey } from '../dialect';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('departments')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('head_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('lead_department', 'text', (c) => c.notNull().references('departments.code'))
    .addColumn('cooperating_departments', 'text', (c) => c.notNull())
    .addColumn('location_address', 'text')
    .addColumn('location_lat', doubleType(db))
    .addColumn('location_lng', doubleType(db))
    .addColumn('due_date', 'text')
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('closed_at', 'text')
    .addColumn('withdrawn_reason', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('cases_status_opened').on('cases').columns(['status', 'opened_at']).execute();
  await db.schema.createIndex('cases_opened').on('cases').columns(['opened_at']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('department_code', 'text', (c) => c.notNull().references('departments.code'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('rework_count', 'integer', (c) => c.notNull())
    .addColumn('submission_count', 'integer', (c) => c.notNull())
    .addColumn('assigned_at', 'text', (c) => c.notNull())
    .addColumn('acknowledged_at', 'text')
    .addColumn('submitted_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('last_submission', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('tasks_case').on('tasks').columns(['case_id']).execute();
  await db.schema.createIndex('tasks_department_status').on('tasks').columns(['department_code', 'status']).execute();

  await db.schema
    .createTable('events')
    .addColumn('position', 'integer', serialKey(db))
    .addColumn('event_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('actor_department', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_case').on('events').columns(['case_id', 'at', 'position']).execute();
  // The audit trail is append-only: the database itself refuses to change or remove an entry.
  if (dialectOf(db) === 'postgres') {
    await createRefusalFunction(db);
    await refuseChanges(db, 'events', { update: { message: 'events are append-only' }, delete: { message: 'events are append-only' } });
  } else {
    await sql`CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`.execute(db);
    await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`.execute(db);
  }

  await db.schema
    .createTable('case_sequences')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('last_sequence', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('case_open_requests')
    .addColumn('request_key', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().unique())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['case_open_requests', 'case_sequences', 'events', 'tasks', 'cases', 'departments']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
