import { Option } from 'commander';
import { createTokenService } from '../services/token.service';
import { type CliEnv, print } from './context';

/** `duban token create|revoke|list`: API bearer tokens. */
export function tokenCommands({ program, context }: CliEnv): void {
  const token = program.command('token').description('API bearer tokens (stored hashed; shown once)');
  token
    .command('create')
    .description('create a token and print it once')
    .addOption(new Option('--role <role>', 'office or department').choices(['office', 'department']).makeOptionMandatory())
    .option('--dept <code>', 'the department (for a department token)')
    .requiredOption('--name <name>', 'who holds it, e.g. 城管局 张三')
    .action(async (o: { role: string; dept?: string; name: string }) => {
      const tokens = createTokenService({ db: await context().db() });
      const created = await tokens.create({ role: o.role, name: o.name, ...(o.dept ? { department: o.dept } : {}) });
      print(created);
      process.stderr.write('请妥善保存：令牌只显示这一次 / keep the token safe: it is shown only this once\n');
    });
  token
    .command('revoke')
    .description('revoke a token by its id (tok_…)')
    .argument('<id>')
    .action(async (id: string) => {
      await createTokenService({ db: await context().db() }).revoke(id);
      print({ revoked: id });
    });
  token
    .command('list')
    .description('tokens, without their secrets')
    .action(async () => print(await createTokenService({ db: await context().db() }).list()));
}
