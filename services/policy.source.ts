import { defaultPolicy, type Policy, policySchema } from '../domain/policy';
import { parseInput } from '../domain/validation';
import { watchedJsonFile } from './calendar.source';

/**
 * The policy in force: the defaults, or the JSON file named by DUBAN_POLICY_FILE (read again
 * whenever it changes, so a new policy reaches running tasks at their next wake-up).
 */
export function createPolicySource(file: string | undefined): () => Policy {
  return watchedJsonFile(file, (json) => parseInput(policySchema, json, `policy file ${file}`), defaultPolicy);
}
export type PolicySource = ReturnType<typeof createPolicySource>;
