import { defaultPolicy, type Policy, policySchema } from '../domain/policy';
import { parseInput } from '../domain/validation';
import { type FileLogger, type WatchedJsonFile, watchedJsonFile } from './watched-json-file';

/**
 * The policy in force: the defaults, or the JSON file named by DUBAN_POLICY_FILE (read again
 * whenever it changes, so a new policy reaches running tasks at their next wake-up; a malformed
 * edit is reported and the last valid version stays in force).
 */
export function createPolicySource(file: string | undefined, options: { logger?: FileLogger | undefined } = {}): WatchedJsonFile<Policy> {
  return watchedJsonFile({
    file,
    what: `policy file ${file}`,
    parse: (json) => parseInput(policySchema, json, `policy file ${file}`),
    fallback: defaultPolicy,
    logger: options.logger,
  });
}
export type PolicySource = ReturnType<typeof createPolicySource>;
