import { Option } from 'commander';
import { z } from 'zod';
import { personSchema } from '../api/schemas';
import { DomainError } from '../domain/errors';
import { languages, personRoles } from '../domain/person.schema';
import { noticeWaker } from '../services/notice.wake';
import { createPeopleService } from '../services/people.service';
import { type CliEnv, collect, printAs } from './context';

interface PersonFlags {
  name?: string;
  post?: string;
  phone?: string | boolean;
  email?: string | boolean;
  lang?: string;
  channel?: string[];
}

/** The person's fields from the flags given; `--no-phone` / `--no-email` clear them (null). */
function fieldsFrom(o: PersonFlags): Record<string, unknown> {
  const cleared = (value: string | boolean | undefined) => (value === false ? null : value === true ? undefined : value);
  const fields: Record<string, unknown> = {
    name: o.name,
    post: o.post,
    phone: cleared(o.phone),
    email: cleared(o.email),
    language: o.lang,
    channels: o.channel,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

/** `duban person add|list|show|edit|remove|role`: the directory of people and posts (人员与岗位). */
export function personCommands({ program, context }: CliEnv): void {
  // A change that may reach someone a notice missed wakes the dispatcher, when Temporal is up (else
  // the dispatcher finds it on its next look, within ten minutes).
  const wake = async () => {
    const ctx = context();
    await noticeWaker(await ctx.client(), ctx.config.taskQueue)().catch(() => undefined);
  };
  const people = async () => createPeopleService({ db: await context().db(), onDirectoryChange: () => wake().catch(() => undefined) });
  const show = (value: unknown) => printAs(personSchema, value, context().config.timeZone);
  const person = program.command('person').description('the directory of people and posts (人员与岗位) of departments and the office');
  const unitOf = (o: { dept?: string; office?: boolean }) => {
    if (o.dept === undefined && !o.office) {
      throw new DomainError('invalid_input', '请用 --dept 或 --office 指明所属 / say where the person belongs: --dept C or --office', [
        { path: 'dept', message: 'give --dept C or --office' },
      ]);
    }
    return o.office ? ({ office: true } as const) : { department: o.dept! };
  };

  person
    .command('add')
    .description('add a person to a department (or to the office) with the roles they hold; prints them with their id')
    .addOption(new Option('--dept <code>', 'the department they belong to').conflicts('office'))
    .addOption(new Option('--office', "one of the office's own staff").conflicts('dept'))
    .requiredOption('--name <name>', 'their name')
    .requiredOption('--post <post>', '岗位, e.g. 科长')
    .option('--phone <phone>', 'phone number')
    .option('--email <email>', 'e-mail address')
    .addOption(new Option('--lang <language>', 'language of their notices').choices(languages).default('zh-CN'))
    .option('--channel <channel>', 'a way to reach them, in order of preference (repeatable; default: email when --email is given)', collect)
    .addOption(
      new Option('--role <role>', 'a role they hold (repeatable): head, deputy, liaison for a department; lead, clerk for the office').argParser(collect),
    )
    .action(async (o: PersonFlags & { dept?: string; office?: boolean; role?: string[] }) => {
      const added = await (await people()).addPerson(unitOf(o), { ...fieldsFrom(o), ...(o.role ? { roles: o.role } : {}) });
      show(added);
    });

  person
    .command('list')
    .description("people of a department (--dept), of the office (--office), or everyone's")
    .addOption(new Option('--dept <code>', "only this department's people").conflicts('office'))
    .addOption(new Option('--office', "only the office's own staff").conflicts('dept'))
    .option('--all', 'include people removed from the directory')
    .action(async (o: { dept?: string; office?: boolean; all?: boolean }) => {
      const service = await people();
      const options = { includeInactive: o.all === true };
      const listed = o.office
        ? await service.listOfficePeople(undefined, options)
        : o.dept !== undefined
          ? await service.listDepartmentPeople(o.dept, undefined, options)
          : await service.listEveryone(undefined, options);
      printAs(z.array(personSchema), listed, context().config.timeZone);
    });

  person
    .command('show')
    .description('a person, with their roles and contact data')
    .argument('<id>', 'the person, e.g. p_3f9a0c1b2d4e')
    .action(async (id: string) => show(await (await people()).getPerson(id, undefined)));

  person
    .command('edit')
    .description("change a person's name, post, contact data, language or channels")
    .argument('<id>')
    .option('--name <name>', 'their name')
    .option('--post <post>', '岗位')
    .option('--phone <phone>', 'phone number')
    .option('--no-phone', 'remove the phone number')
    .option('--email <email>', 'e-mail address')
    .option('--no-email', 'remove the e-mail address')
    .addOption(new Option('--lang <language>', 'language of their notices').choices(languages))
    .option('--channel <channel>', 'the ways to reach them, in order (repeatable; replaces the list)', collect)
    .action(async (id: string, o: PersonFlags) => show(await (await people()).changePerson(id, fieldsFrom(o))));

  person
    .command('remove')
    .description('remove a person from the directory: deactivated, they hold no role; records keep their name')
    .argument('<id>')
    .action(async (id: string) => show(await (await people()).deactivatePerson(id)));

  person
    .command('role')
    .description(`give or take roles (${personRoles.join(', ')})`)
    .argument('<id>')
    .option('--add <role>', 'a role to give (repeatable)', collect)
    .option('--remove <role>', 'a role to take away (repeatable)', collect)
    .action(async (id: string, o: { add?: string[]; remove?: string[] }) => {
      if (!o.add && !o.remove) {
        throw new DomainError('invalid_input', '请用 --add 或 --remove 指明角色 / give --add R or --remove R', [
          { path: 'roles', message: 'give --add or --remove' },
        ]);
      }
      show(await (await people()).changeRoles(id, { add: o.add ?? [], remove: o.remove ?? [] }));
    });
}
