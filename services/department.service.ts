import { type DepartmentInput, departmentInputSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import type { Db } from '../db/database';
import { type Department as DepartmentView, findDepartment, insertDepartment, listDepartments } from '../db/department.repository';

/** Departments (责任单位), shared by the CLI and the HTTP API. */
export function createDepartmentService(deps: { db: Db; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    list: (): Promise<DepartmentView[]> => listDepartments(deps.db),

    /** Adds a department; a code already taken is a conflict, and nothing changes. */
    async add(input: unknown): Promise<DepartmentView> {
      const parsed: DepartmentInput = parseInput(departmentInputSchema, input, 'department');
      if (!(await insertDepartment(deps.db, parsed, now().toISOString()))) {
        throw new DomainError('conflict', `部门代码 ${parsed.code} 已存在 / department ${parsed.code} already exists`, [
          { path: 'code', message: 'already exists' },
        ]);
      }
      return (await findDepartment(deps.db, parsed.code))!;
    },
  };
}
export type DepartmentService = ReturnType<typeof createDepartmentService>;
