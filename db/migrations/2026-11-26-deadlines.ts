import type { Kysely } from 'kysely';
import { serialKey } from '../dialect';

/** Deadlines, reminders and escalation: task columns, the notification outbox, escalation records, local calendar days. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const columns: [string, 'text' | 'integer'][] = [
    ['ack_due_at', 'text'],
    ['rectification_due_at', 'text'],
    ['escalation_level', 'integer'],
    ['ack_escalation_level', 'integer'],
    ['suspended_since', 'text'],
    ['suspension_reason', 'text'],
    ['pending_extension', 'text'],
    ['extensions_granted', 'integer'],
    ['pending_transfer', 'text'],
    ['transferred_to_task', 'text'],
    ['next_alarm_at', 'text'],
    ['next_alarm_kind', 'text'],
    ['next_alarm_label', 'text'],
  ];
  for (const [name, type] of columns) {
    await db.schema
      .alterTable('tasks')
      .addColumn(name, type, (c) => (type === 'integer' ? c.notNull().defaultTo(0) : c))
      .execute();
  }
  await db.schema.createIndex('tasks_rectification_due').on('tasks').columns(['status', 'rectification_due_at']).execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'integer', serialKey(db))
    .addColumn('notification_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text')
    .addColumn('department_code', 'text')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('level', 'integer')
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_status').on('notifications').columns(['status', 'id']).execute();

  await db.schema
    .createTable('escalations')
    .addColumn('id', 'integer', serialKey(db))
    .addColumn('escalation_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('department_code', 'text', (c) => c.notNull())
    .addColumn('deadline', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    /** Set once a public bulletin lists it (level 3). */
    .addColumn('bulletin_id', 'text')
    .execute();
  await db.schema.createIndex('escalations_department').on('escalations').columns(['department_code', 'level', 'at']).execute();

  await db.schema
    .createTable('calendar_days')
    .addColumn('date', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['calendar_days', 'escalations', 'notifications']) await db.schema.dropTable(table).ifExists().execute();
}
