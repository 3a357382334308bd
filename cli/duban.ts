/**
 * `duban`: the office's command line. Talks to the running Temporal server (TEMPORAL_ADDRESS, or
 * the embedded dev server that `npm start` runs) and reads the SQLite read model. Each command
 * group lives in its own file beside this one.
 */
import { Command } from 'commander';
import { loadConfig } from '../config/config';
import { DomainError, type ErrorCode } from '../domain/errors';
import { bulletinCommands } from './bulletin';
import { calendarCommands } from './calendar';
import { caseCommands } from './case';
import { CliContext, type CliEnv } from './context';
import { departmentCommands } from './department';
import { notificationCommands } from './notifications';
import { operationsCommands } from './operations';
import { personCommands } from './person';
import { policyCommands } from './policy';
import { scorecardCommands } from './scorecard';
import { tokenCommands } from './token';

/** Exit status per error code, so that scripts can tell refusals apart. */
export const exitCodes: Record<ErrorCode, number> = {
  invalid_input: 2,
  not_found: 3,
  forbidden: 4,
  invalid_state: 5,
  conflict: 6,
};

export function buildProgram(context: () => CliContext): Command {
  const program = new Command('duban')
    .description('督办 duban: supervision and rectification cases on Temporal')
    .option('--as <name>', 'who is acting, recorded on the timeline (default: your user name)')
    .showHelpAfterError();
  const env: CliEnv = { program, context, actorName: () => program.opts<{ as?: string }>().as };
  departmentCommands(env);
  personCommands(env);
  caseCommands(env);
  tokenCommands(env);
  calendarCommands(env);
  policyCommands(env);
  notificationCommands(env);
  scorecardCommands(env);
  bulletinCommands(env);
  operationsCommands(env);
  return program;
}

/** Runs the CLI on `argv`; resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  let ctx: CliContext | undefined;
  try {
    await buildProgram(() => (ctx ??= new CliContext(loadConfig()))).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`错误 / error [${error.code}]: ${error.message}\n`);
      for (const d of error.details) process.stderr.write(`  - ${d.path || '(input)'}: ${d.message}\n`);
      return exitCodes[error.code];
    }
    process.stderr.write(`错误 / error: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
