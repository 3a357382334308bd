import type { Db } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import { createPolicySource } from '../services/policy.source';
import type { FileLogger } from '../services/watched-json-file';
import type { NoticeDispatcher } from '../services/notice.dispatcher';
import { createDeadlineActivities } from './deadline.activities';
import { createNoticeActivities } from './notice.activities';
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
  /** Wakes the notice dispatcher after notices are written to the outbox. */
  readonly wakeNotices?: (() => Promise<void>) | undefined;
  /** Sends notices; absent, the dispatcher does nothing (notices wait in the outbox). */
  readonly noticeDispatcher?: NoticeDispatcher | undefined;
}

/** Every activity the worker registers, built over its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createReadModelActivities({ db: deps.db, wakeNotices: deps.wakeNotices }),
    ...createNoticeActivities({ dispatcher: deps.noticeDispatcher ?? null }),
    ...createDeadlineActivities({
      calendar: createCalendarSource({ db: deps.db, timeZone: deps.timeZone, overridesFile: deps.calendarFile, logger: deps.fileLogger }),
      policy: createPolicySource(deps.policyFile, { logger: deps.fileLogger }),
    }),
  };
}
