import { type Insertable, type Selectable, sql } from 'kysely';
import type { DeliveryTable, NoticeTable, WebhookSubscriberTable } from './schema';
import type { Executor } from './database';

export type NoticeRow = Selectable<NoticeTable>;
export type DeliveryRow = Selectable<DeliveryTable>;
export type WebhookSubscriberRow = Selectable<WebhookSubscriberTable>;

/** Writes notices to the outbox; a key already there is kept as it is. Returns how many were new. */
export async function insertNotices(db: Executor, rows: readonly Insertable<NoticeTable>[]): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await db
    .insertInto('notices')
    .values([...rows])
    .onConflict((oc) => oc.column('notice_key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

/**
 * What a notice's planning came to: `pending` (not yet planned), `incomplete` (planned, but a role
 * had nobody reachable: planned again whenever the directory changes, and once more when its
 * window closes, so that people added to the directory get it), `planned` (every role reached, or
 * its window closed), `undeliverable`.
 */
export type NoticeStatus = 'pending' | 'incomplete' | 'planned' | 'undeliverable';

/** Notices whose recipients are to be resolved (again), due by `now`, oldest first. */
export async function dueNotices(db: Executor, now: string, limit: number): Promise<NoticeRow[]> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('status', 'in', ['pending', 'incomplete'])
    .where('not_before', '<=', now)
    .orderBy('not_before')
    .orderBy('notice_key')
    .limit(limit)
    .execute();
}

/** Sets a notice's status, and when it is to be looked at again (`incomplete`). */
export async function setNoticeStatus(db: Executor, key: string, status: Exclude<NoticeStatus, 'pending'>, notBefore?: string): Promise<void> {
  await db
    .updateTable('notices')
    .set({ status, ...(notBefore ? { not_before: notBefore } : {}) })
    .where('notice_key', '=', key)
    .execute();
}

/**
 * The directory changed: notices that missed a role are due for planning again at once (someone
 * may hold it now). Returns how many.
 */
export async function reviveIncompleteNotices(db: Executor, now: string): Promise<number> {
  const result = await db.updateTable('notices').set({ not_before: now }).where('status', '=', 'incomplete').where('not_before', '>', now).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Puts a notice off until `notBefore` (its planning failed; try later). */
export async function deferNotice(db: Executor, key: string, notBefore: string): Promise<void> {
  await db.updateTable('notices').set({ not_before: notBefore }).where('notice_key', '=', key).execute();
}

export async function findNotice(db: Executor, key: string): Promise<NoticeRow | undefined> {
  return db.selectFrom('notices').selectAll().where('notice_key', '=', key).executeTakeFirst();
}

/** Plans deliveries; one already planned (same notice, recipient and channel) is kept as it is. */
export async function insertDeliveries(db: Executor, rows: readonly Insertable<DeliveryTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('deliveries')
    .values([...rows])
    .onConflict((oc) => oc.column('delivery_key').doNothing())
    .execute();
}

/**
 * Claims up to `limit` deliveries due by `now` on the channels that can send now: pending ones,
 * ones claimed before `staleBefore` whose sender died, and ones claimed by a sender known to be
 * dead (a claim id starting with `deadClaimPrefix`, other than this claim's own). One statement,
 * so that of two senders each delivery goes to one.
 */
export async function claimDueDeliveries(
  db: Executor,
  claim: { now: string; claimId: string; limit: number; channels: readonly string[]; staleBefore: string; deadClaimPrefix?: string | null },
): Promise<DeliveryRow[]> {
  const prefix = claim.deadClaimPrefix ?? null;
  if (claim.channels.length === 0) return [];
  const due = db
    .selectFrom('deliveries')
    .select('delivery_key')
    .where('channel', 'in', [...claim.channels])
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('next_attempt_at', '<=', claim.now)]),
        eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', claim.staleBefore)]),
        ...(prefix
          ? [
              eb.and([
                eb('status', '=', 'sending'),
                eb(sql<string>`substr(claim_id, 1, ${prefix.length})`, '=', prefix),
                eb('claim_id', '!=', claim.claimId),
              ]),
            ]
          : []),
      ]),
    )
    .orderBy('next_attempt_at')
    .limit(claim.limit);
  return db
    .updateTable('deliveries')
    .set({ status: 'sending', claim_id: claim.claimId, claimed_at: claim.now, updated_at: claim.now })
    .where('delivery_key', 'in', due)
    .returningAll()
    .execute();
}

/** Records how a claimed delivery went; only its claimant can. */
export async function settleDelivery(
  db: Executor,
  key: string,
  claimId: string,
  outcome:
    | { status: 'sent'; at: string }
    | { status: 'pending'; at: string; error: string; nextAttemptAt: string }
    | { status: 'failed'; at: string; error: string },
): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({
      status: outcome.status,
      attempts: sql<number>`attempts + 1`,
      updated_at: outcome.at,
      claim_id: null,
      ...(outcome.status === 'sent' ? { sent_at: outcome.at, last_error: null } : { last_error: outcome.error }),
      ...(outcome.status === 'pending' ? { next_attempt_at: outcome.nextAttemptAt } : {}),
    })
    .where('delivery_key', '=', key)
    .where('claim_id', '=', claimId)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Renews a claim just before its delivery is sent: false when the claim is no longer this
 * sender's (taken over), and then it must not send.
 */
export async function renewClaim(db: Executor, key: string, claimId: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ claimed_at: now })
    .where('delivery_key', '=', key)
    .where('claim_id', '=', claimId)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives back the claims of `claimId` not yet sent (a round out of time): due again at once. */
export async function releaseClaims(db: Executor, claimId: string, now: string): Promise<number> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'pending', claim_id: null, claimed_at: null, next_attempt_at: now, updated_at: now })
    .where('claim_id', '=', claimId)
    .where('status', '=', 'sending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Points a delivery at its recipient's address as the directory has it now. */
export async function readdressDelivery(db: Executor, key: string, address: string): Promise<void> {
  await db.updateTable('deliveries').set({ address }).where('delivery_key', '=', key).execute();
}

/**
 * When the dispatcher has something to do next on `channels`: the earliest pending notice or
 * delivery, or the moment a stale claim may be taken over; null when nothing waits.
 */
export async function nextDueAt(db: Executor, channels: readonly string[], leaseMs: number): Promise<string | null> {
  const notices = await db
    .selectFrom('notices')
    .select((eb) => eb.fn.min('not_before').as('at'))
    .where('status', 'in', ['pending', 'incomplete'])
    .executeTakeFirst();
  let deliveries: { at: string | null } | undefined;
  let claimed: { at: string | null } | undefined;
  if (channels.length > 0) {
    deliveries = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('status', '=', 'pending')
      .where('channel', 'in', [...channels])
      .executeTakeFirst();
    claimed = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.min('claimed_at').as('at'))
      .where('status', '=', 'sending')
      .where('channel', 'in', [...channels])
      .executeTakeFirst();
  }
  const lease = claimed?.at ? new Date(Date.parse(claimed.at) + leaseMs).toISOString() : null;
  const candidates = [notices?.at ?? null, deliveries?.at ?? null, lease].filter((at): at is string => at !== null);
  return candidates.length === 0 ? null : candidates.sort()[0]!;
}

export interface DeliveryFilter {
  readonly status?: string | undefined;
  readonly caseId?: string | undefined;
  readonly limit: number;
}

/** Deliveries with their notice, newest first. */
export async function listDeliveries(db: Executor, filter: DeliveryFilter) {
  let query = db
    .selectFrom('deliveries as d')
    .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
    .selectAll('d')
    .select(['n.case_id', 'n.task_id', 'n.department_code', 'n.kind', 'n.urgent']);
  if (filter.status) query = query.where('d.status', '=', filter.status);
  if (filter.caseId) query = query.where('n.case_id', '=', filter.caseId);
  return query.orderBy('d.created_at', 'desc').orderBy('d.delivery_key').limit(filter.limit).execute();
}

/**
 * Puts a failed delivery back in the queue, due now, for one more try (its attempts keep
 * counting); false when it is not failed.
 */
export async function retryDelivery(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('deliveries')
    .set({ status: 'pending', next_attempt_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'failed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findDelivery(db: Executor, id: string): Promise<DeliveryRow | undefined> {
  return db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findWebhookSubscriber(db: Executor, id: string): Promise<WebhookSubscriberRow | undefined> {
  return db.selectFrom('webhook_subscribers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertWebhookSubscriber(db: Executor, row: Insertable<WebhookSubscriberTable>): Promise<void> {
  await db.insertInto('webhook_subscribers').values(row).execute();
}

/** The active subscribers that receive a department's notices: its own, and the office's (all). */
export async function subscribersFor(db: Executor, department: string | null): Promise<WebhookSubscriberRow[]> {
  return db
    .selectFrom('webhook_subscribers')
    .selectAll()
    .where('active', '=', 1)
    .where((eb) => (department === null ? eb('department_code', 'is', null) : eb.or([eb('department_code', 'is', null), eb('department_code', '=', department)])))
    .orderBy('id')
    .execute();
}

export async function listWebhookSubscribers(db: Executor): Promise<WebhookSubscriberRow[]> {
  return db.selectFrom('webhook_subscribers').selectAll().orderBy('id').execute();
}

export async function deactivateWebhookSubscriber(db: Executor, id: string): Promise<boolean> {
  const result = await db.updateTable('webhook_subscribers').set({ active: 0 }).where('id', '=', id).where('active', '=', 1).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
