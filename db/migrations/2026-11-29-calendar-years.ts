import type { Kysely } from 'kysely';

/**
 * Whole years' official holiday arrangements imported with `duban calendar import`, for years the
 * built-in data does not carry yet (or replacing a year it carries).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('calendar_years')
    .addColumn('year', 'integer', (c) => c.primaryKey())
    .addColumn('notice', 'text')
    .addColumn('imported_at', 'text', (c) => c.notNull())
    .addColumn('imported_by', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('calendar_year_days')
    .addColumn('date', 'text', (c) => c.primaryKey())
    .addColumn('year', 'integer', (c) => c.notNull().references('calendar_years.year').onDelete('cascade'))
    /** holiday | workday (a make-up working day, 调休上班) */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('calendar_year_days_year').on('calendar_year_days').columns(['year', 'date']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['calendar_year_days', 'calendar_years']) await db.schema.dropTable(table).ifExists().execute();
}
