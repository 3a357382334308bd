import type { Channel, Language, PersonRole } from '../domain/person.schema';
import type { PersonTable } from './schema';
import type { Executor } from './database';

/** A person of the directory, with every role they hold. */
export interface Person {
  id: string;
  /** The department they belong to; null for the office's own staff. */
  department: string | null;
  name: string;
  post: string;
  phone: string | null;
  email: string | null;
  language: Language;
  /** Ways to reach them, in order of preference. */
  channels: Channel[];
  roles: PersonRole[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
}

/** Roles in a fixed order (the order of the schema), so that lists read the same every time. */
const roleOrder: readonly string[] = ['head', 'deputy', 'liaison', 'lead', 'clerk'];
const byRoleOrder = (a: string, b: string) => roleOrder.indexOf(a) - roleOrder.indexOf(b);

export function toPerson(row: PersonTable, roles: readonly string[]): Person {
  return {
    id: row.id,
    department: row.department_code,
    name: row.name,
    post: row.post,
    phone: row.phone,
    email: row.email,
    language: row.language as Language,
    channels: JSON.parse(row.channels) as Channel[],
    roles: [...roles].sort(byRoleOrder) as PersonRole[],
    active: row.active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deactivatedAt: row.deactivated_at,
  };
}

/** The roles of each of `ids`. */
async function rolesOf(db: Executor, ids: readonly string[]): Promise<Map<string, string[]>> {
  const roles = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return roles;
  const rows = await db.selectFrom('person_roles').select(['person_id', 'role']).where('person_id', 'in', ids).execute();
  for (const row of rows) roles.get(row.person_id)?.push(row.role);
  return roles;
}

async function withRoles(db: Executor, rows: readonly PersonTable[]): Promise<Person[]> {
  const roles = await rolesOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toPerson(row, roles.get(row.id) ?? []));
}

/** Adds a person holding `roles`; returns false when the id is taken. */
export async function insertPerson(db: Executor, row: PersonTable, roles: readonly PersonRole[]): Promise<boolean> {
  const result = await db.insertInto('people').values(row).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) !== 1) return false;
  if (roles.length > 0) {
    await db
      .insertInto('person_roles')
      .values(roles.map((role) => ({ person_id: row.id, role, assigned_at: row.created_at })))
      .execute();
  }
  return true;
}

export async function findPerson(db: Executor, id: string): Promise<Person | undefined> {
  const row = await db.selectFrom('people').selectAll().where('id', '=', id).executeTakeFirst();
  return row && (await withRoles(db, [row]))[0];
}

export async function findPeople(db: Executor, ids: readonly string[]): Promise<Person[]> {
  if (ids.length === 0) return [];
  return withRoles(db, await db.selectFrom('people').selectAll().where('id', 'in', [...new Set(ids)]).execute());
}

/**
 * The people of a department (for null, the office's own staff; when absent, everyone: the office's
 * first, then by department), by name; only active ones unless asked.
 */
export async function listPeople(
  db: Executor,
  filter: { department?: string | null; includeInactive?: boolean },
): Promise<Person[]> {
  let query = db.selectFrom('people').selectAll();
  if (filter.department === null) query = query.where('department_code', 'is', null);
  else if (filter.department !== undefined) query = query.where('department_code', '=', filter.department);
  // NULL (the office) sorts first.
  query = query.orderBy('department_code');
  if (!filter.includeInactive) query = query.where('active', '=', 1);
  return withRoles(db, await query.orderBy('active', 'desc').orderBy('name').orderBy('id').execute());
}

/** The active people of a department (or, for null, of the office) holding `role`, by name. */
export async function holdersOf(db: Executor, unit: { department: string | null; role: PersonRole }): Promise<Person[]> {
  let query = db
    .selectFrom('people')
    .innerJoin('person_roles', 'person_roles.person_id', 'people.id')
    .selectAll('people')
    .where('person_roles.role', '=', unit.role)
    .where('people.active', '=', 1);
  query = unit.department === null ? query.where('people.department_code', 'is', null) : query.where('people.department_code', '=', unit.department);
  return withRoles(db, await query.orderBy('people.name').orderBy('people.id').execute());
}

/** Changes the stored fields of a person. */
export async function updatePersonRow(
  db: Executor,
  id: string,
  changes: Partial<Pick<PersonTable, 'name' | 'post' | 'phone' | 'email' | 'language' | 'channels' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('people').set(changes).where('id', '=', id).execute();
}

/** Deactivates a person, who then holds no role; their name stays on every record that names them. */
export async function deactivatePersonRow(db: Executor, id: string, now: string): Promise<void> {
  await db.deleteFrom('person_roles').where('person_id', '=', id).execute();
  await db.updateTable('people').set({ active: 0, deactivated_at: now, updated_at: now }).where('id', '=', id).where('active', '=', 1).execute();
}

/** Makes `roles` exactly the roles a person holds; a role held already keeps when it was first assigned. */
export async function replacePersonRoles(db: Executor, id: string, roles: readonly PersonRole[], now: string): Promise<void> {
  let removal = db.deleteFrom('person_roles').where('person_id', '=', id);
  if (roles.length > 0) removal = removal.where('role', 'not in', roles);
  await removal.execute();
  if (roles.length > 0) {
    await db
      .insertInto('person_roles')
      .values(roles.map((role) => ({ person_id: id, role, assigned_at: now })))
      .onConflict((oc) => oc.columns(['person_id', 'role']).doNothing())
      .execute();
  }
  await db.updateTable('people').set({ updated_at: now }).where('id', '=', id).execute();
}
