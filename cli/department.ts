import { z } from 'zod';
import { departmentSchema } from '../api/schemas';
import { createDepartmentService } from '../services/department.service';
import { type CliEnv, printAs } from './context';

/** `duban department add|list`: the responsible units (责任单位). */
export function departmentCommands({ program, context }: CliEnv): void {
  const departments = async () => createDepartmentService({ db: await context().db() });
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
      const input = { code: o.code, name: o.name, headName: o.head, email: o.email, phone: o.phone };
      const added = await (await departments()).add(Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)));
      printAs(departmentSchema, added, context().config.timeZone);
    });
  department
    .command('list')
    .description('list departments')
    .action(async () => printAs(z.array(departmentSchema), await (await departments()).list(), context().config.timeZone));
}
