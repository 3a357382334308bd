import fs from 'node:fs';
import { z } from 'zod';
import { instantSchema } from '../domain/time';
import { listPendingNotifications } from '../db/outbox.repository';
import { createPolicySource } from '../services/policy.source';
import { type CliEnv, print, printAs } from './context';

/** Notifications as the outbox holds them; `created_at` is an instant. */
const outboxSchema = z.array(z.looseObject({ created_at: instantSchema }));

/** `duban policy` and `duban outbox`: the deadline policy in force and the notifications waiting. */
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

  program
    .command('outbox')
    .description('notifications waiting for delivery')
    .option('--case <id>', 'only this case’s')
    .action(async (o: { case?: string }) => {
      const pending = await listPendingNotifications(await context().db(), o.case ? { caseId: o.case } : {});
      printAs(outboxSchema, pending, context().config.timeZone);
    });
}
