import fs from 'node:fs';
import { createPolicySource } from '../services/policy.source';
import { type CliEnv, print } from './context';

/** `duban policy`: the deadline policy in force. */
export function policyCommands({ program, context }: CliEnv): void {
  program
    .command('policy')
    .description('the deadline and escalation policy in force (DUBAN_POLICY_FILE, or the defaults)')
    .action(() => {
      const { config } = context();
      const source = createPolicySource(config.policyFile);
      const policy = source();
      // The worker keeps the last valid version of a file edited wrongly; this process has none
      // to keep, so it says what is wrong instead of showing the defaults as if they were in force.
      const problem = source.problem();
      if (problem) throw problem;
      print({ file: fs.existsSync(config.policyFile) ? config.policyFile : null, policy });
    });
}
