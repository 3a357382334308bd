import type { Kysely } from 'kysely';

/**
 * Notices and their deliveries. A notice is written with the event that asks someone to act (the
 * outbox); when it is due, its recipients are resolved from the directory into deliveries, one per
 * (notice, recipient, channel), each sent at most once and retried with backoff until sent or
 * failed. Webhook subscribers receive the notices of a department, or all of them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notices')
    .addColumn('notice_key', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text')
    .addColumn('task_id', 'text')
    .addColumn('department_code', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('urgent', 'integer', (c) => c.notNull())
    .addColumn('event_action', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('event_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notices_due').on('notices').columns(['status', 'not_before']).execute();
  await db.schema.createIndex('notices_case').on('notices').columns(['case_id']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('delivery_key', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('notice_key', 'text', (c) => c.notNull().references('notices.notice_key'))
    .addColumn('recipient_kind', 'text', (c) => c.notNull())
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('recipient_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('claim_id', 'text')
    .addColumn('claimed_at', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deliveries_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('deliveries_notice').on('deliveries').columns(['notice_key']).execute();

  await db.schema
    .createTable('webhook_subscribers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('department_code', 'text', (c) => c.references('departments.code'))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['deliveries', 'notices', 'webhook_subscribers']) await db.schema.dropTable(table).ifExists().execute();
}
