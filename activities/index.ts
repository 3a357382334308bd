import type { Db } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import { createPolicySource } from '../services/policy.source';
import type { FileLogger } from '../services/watched-json-file';
import { createDeadlineActivities } from './deadline.activities';
import { createReadModelActivities } from './read-model.activities';

export interface ActivityDeps {
  readonly db: Db;
  readonly timeZone: string;
  /** JSON policy file (domain/policy.ts); defaults apply when absent. */
  readonly policyFile?: string | undefined;
  /** JSON file of local calendar overrides, on top of the official arrangements. */
  readonly calendarFile?: string | undefined;
  /** Where a malformed policy or calendar file is reported (once per edit). */
  readonly fileLogger?: FileLogger | undefined;
}

/** Every activity the worker registers, built over its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createReadModelActivities({ db: deps.db }),
    ...createDeadlineActivities({
      calendar: createCalendarSource({ db: deps.db, timeZone: deps.timeZone, overridesFile: deps.calendarFile, logger: deps.fileLogger }),
      policy: createPolicySource(deps.policyFile, { logger: deps.fileLogger }),
    }),
  };
}
