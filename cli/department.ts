import { departmentInputSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import { insertDepartment, listDepartments } from '../db/department.repository';
import { type CliEnv, print } from './context';

/** `duban department add|list`: the responsible units (责任单位). */
export function departmentCommands({ program, context }: CliEnv): void {
  const department = program.command('department').description('manage departments (责任单位)');
  department
    .command('add')
    .description('add a department')
    .requiredOption('--code <code>', 'short code, e.g. CG')
    .requiredOption('--name <name>', 'name, e.g. 区城管局')
    .option('--head <name>', 'name of the department head')
    .option('--email <email>', 'contact e-mail')
    .option('--phone <phone>', 'contact phone')
    .action(async (o: { code: string; name: string; head?: string; email?: string; phone?: string }) => {
      const db = await context().db();
      const input = parseInput(
        departmentInputSchema,
        { code: o.code, name: o.name, headName: o.head, email: o.email, phone: o.phone },
        'department',
      );
      if (!(await insertDepartment(db, input, new Date().toISOString()))) {
        throw new DomainError('conflict', `部门代码 ${input.code} 已存在 / department ${input.code} already exists`, [
          { path: 'code', message: 'already exists' },
        ]);
      }
      print(input);
    });
  department
    .command('list')
    .description('list departments')
    .action(async () => {
      print(await listDepartments(await context().db()));
    });
}
