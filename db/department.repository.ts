import type { DepartmentInput } from '../domain/case.schema';
import type { DepartmentTable } from './schema';
import type { Executor } from './database';

/** A department as the office manages it. */
export interface Department {
  code: string;
  name: string;
  headName: string | null;
  email: string | null;
  phone: string | null;
  active: boolean;
  createdAt: string;
}

export function toDepartment(row: DepartmentTable): Department {
  return {
    code: row.code,
    name: row.name,
    headName: row.head_name,
    email: row.email,
    phone: row.phone,
    active: row.active === 1,
    createdAt: row.created_at,
  };
}

/** Inserts a department; returns false when the code is taken. */
export async function insertDepartment(db: Executor, input: DepartmentInput, now: string): Promise<boolean> {
  const result = await db
    .insertInto('departments')
    .values({
      code: input.code,
      name: input.name,
      head_name: input.headName ?? null,
      email: input.email ?? null,
      phone: input.phone ?? null,
      active: 1,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('code').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function findDepartment(db: Executor, code: string): Promise<Department | undefined> {
  const row = await db.selectFrom('departments').selectAll().where('code', '=', code).executeTakeFirst();
  return row && toDepartment(row);
}

export async function findDepartments(db: Executor, codes: readonly string[]): Promise<Department[]> {
  if (codes.length === 0) return [];
  const rows = await db.selectFrom('departments').selectAll().where('code', 'in', codes).execute();
  return rows.map(toDepartment);
}

export async function listDepartments(db: Executor): Promise<Department[]> {
  const rows = await db.selectFrom('departments').selectAll().orderBy('code').execute();
  return rows.map(toDepartment);
}
