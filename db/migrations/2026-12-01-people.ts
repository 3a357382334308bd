import type { Kysely } from 'kysely';

/**
 * People and posts: the directory of each department and of the office (who they are, their post,
 * how to reach them, in which language), the roles they hold, and the responsible person (责任人)
 * a task records.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('people')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // NULL: one of the office's own staff.
    .addColumn('department_code', 'text', (c) => c.references('departments.code'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('post', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('email', 'text')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('zh-CN'))
    .addColumn('channels', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('deactivated_at', 'text')
    .execute();
  await db.schema.createIndex('people_department').on('people').columns(['department_code', 'active', 'name']).execute();

  await db.schema
    .createTable('person_roles')
    .addColumn('person_id', 'text', (c) => c.notNull().references('people.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('assigned_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('person_roles_pk', ['person_id', 'role'])
    .execute();
  await db.schema.createIndex('person_roles_role').on('person_roles').columns(['role', 'person_id']).execute();

  await db.schema.alterTable('tasks').addColumn('responsible_person_id', 'text').execute();
  await db.schema.alterTable('tasks').addColumn('responsible_person_name', 'text').execute();
  await db.schema.alterTable('tasks').addColumn('responsible_person_post', 'text').execute();
  await db.schema.createIndex('tasks_responsible_person').on('tasks').columns(['responsible_person_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('tasks_responsible_person').ifExists().execute();
  for (const column of ['responsible_person_post', 'responsible_person_name', 'responsible_person_id']) {
    await db.schema.alterTable('tasks').dropColumn(column).execute();
  }
  await db.schema.dropTable('person_roles').ifExists().execute();
  await db.schema.dropTable('people').ifExists().execute();
}
