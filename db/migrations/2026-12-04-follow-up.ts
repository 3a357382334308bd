import type { Kysely } from 'kysely';

/**
 * 答复 and 回访 of cases from complaints: one row per case, the current round as the case
 * workflow's snapshot has it (versioned like the case row), for the tracking page and the office.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('case_follow_ups')
    .addColumn('case_id', 'text', (c) => c.primaryKey())
    .addColumn('round', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reopens', 'integer', (c) => c.notNull())
    .addColumn('max_reopens', 'integer', (c) => c.notNull())
    .addColumn('answer', 'text')
    .addColumn('answer_evidence', 'text', (c) => c.notNull())
    .addColumn('answered_at', 'text')
    .addColumn('follow_up_due_at', 'text')
    .addColumn('rating', 'text')
    .addColumn('rating_reason', 'text')
    .addColumn('rated_at', 'text')
    .addColumn('decision', 'text')
    .addColumn('decision_comment', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('case_follow_ups').execute();
}
