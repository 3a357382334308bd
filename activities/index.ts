import type { Client } from '@temporalio/client';
import type { Db } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import { createPolicySource, type PolicySource } from '../services/policy.source';
import type { FileLogger } from '../services/watched-json-file';
import type { MailChannel } from '../services/mail.channel';
import { createNoticeDirectory } from '../services/notice.directory';
import { createJournalConfirmer } from '../services/journal.confirm';
import { createNoticeDispatcher, type NoticeDispatcher } from '../services/notice.dispatcher';
import { createNoticeRenderer } from '../services/notice.renderer';
import { createPeopleService } from '../services/people.service';
import { webhookSecret } from '../services/secret-key';
import { createWebhookChannel } from '../services/webhook.channel';
import { createBulletinService } from '../services/bulletin.service';
import { createIndicatorService } from '../services/indicator.service';
import { createBulletinActivities } from './bulletin.activities';
import { createClosingActivities } from './closing.activities';
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
  /** How notices go out; absent, the dispatcher does nothing (notices wait in the outbox). */
  readonly notices?: NoticeSettings | undefined;
}

/** How notices are sent. */
export interface NoticeSettings {
  /** Mail to the SMTP server (its owner closes it when the worker stops); absent, e-mail waits. */
  readonly mail?: MailChannel | null | undefined;
  /** The installation's secret key, from which webhook signing secrets derive. */
  readonly secretKey: () => string;
  /** The API's public address, for links in notices. */
  readonly publicUrl?: string | null | undefined;
  readonly maxAttempts?: number | undefined;
  readonly log?: { warn(message: string, attributes?: Record<string, unknown>): void } | undefined;
  /**
   * The Temporal client, with which the dispatcher confirms workflows' journal writes before their
   * notices go (services/journal.confirm.ts); absent, held notices go at once.
   */
  readonly client?: Client | undefined;
}

/** Every activity the worker registers, built over its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const policy = createPolicySource(deps.policyFile, { logger: deps.fileLogger });
  const calendar = createCalendarSource({ db: deps.db, timeZone: deps.timeZone, overridesFile: deps.calendarFile, logger: deps.fileLogger });
  const indicators = createIndicatorService({ db: deps.db, calendar });
  return {
    ...createReadModelActivities({ db: deps.db, wakeNotices: deps.wakeNotices }),
    ...createNoticeActivities({ dispatcher: deps.notices ? noticeDispatcher(deps, deps.notices, policy) : null }),
    ...createDeadlineActivities({ calendar, policy }),
    ...createBulletinActivities({ bulletins: createBulletinService({ db: deps.db, zone: deps.timeZone, indicators }) }),
    ...createClosingActivities(),
  };
}

/** The dispatcher over the directory, the templates and the channels configured. */
function noticeDispatcher(deps: ActivityDeps, settings: NoticeSettings, policy: PolicySource): NoticeDispatcher {
  return createNoticeDispatcher({
    db: deps.db,
    directory: createNoticeDirectory({ db: deps.db, people: createPeopleService({ db: deps.db }) }),
    renderer: createNoticeRenderer(),
    mail: settings.mail ?? null,
    webhooks: createWebhookChannel(),
    webhookSecret: (id) => webhookSecret(settings.secretKey(), id),
    timeZone: deps.timeZone,
    quietHours: () => policy().notices.quietHours,
    digestAt: () => policy().notices.digestAt,
    publicUrl: settings.publicUrl ?? null,
    ...(settings.maxAttempts !== undefined ? { maxAttempts: settings.maxAttempts } : {}),
    ...(settings.log ? { log: settings.log } : {}),
    ...(settings.client ? { confirmJournals: createJournalConfirmer({ db: deps.db, client: settings.client, log: settings.log }) } : {}),
  });
}
