import type { Executor } from './database';

export type IdempotencyClaim =
  | { readonly state: 'new' }
  | { readonly state: 'done'; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly state: 'in_progress'; readonly since: string; readonly claimId: string | null }
  | { readonly state: 'mismatch'; readonly path: string };

export interface ClaimRequest {
  readonly principal: string;
  readonly key: string;
  readonly method: string;
  /** The route pattern, e.g. /api/v1/cases/:caseId/withdraw (the query string plays no part). */
  readonly path: string;
  readonly requestHash: string;
  readonly claimId: string;
  readonly now: string;
}

/**
 * Claims `key` for a request of `principal`: the first claim wins; a later one learns whether
 * the first is done (and its response), still running, or was a different request.
 */
export async function claimIdempotencyKey(db: Executor, claim: ClaimRequest): Promise<IdempotencyClaim> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      principal: claim.principal,
      key: claim.key,
      method: claim.method,
      path: claim.path,
      request_hash: claim.requestHash,
      status: 'in_progress',
      response_status: null,
      response_body: null,
      response_type: null,
      created_at: claim.now,
      claim_id: claim.claimId,
    })
    .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { state: 'new' };
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('principal', '=', claim.principal)
    .where('key', '=', claim.key)
    .executeTakeFirst();
  if (!row) return claimIdempotencyKey(db, claim); // purged meanwhile: claim again
  if (row.method !== claim.method || row.path !== claim.path || row.request_hash !== claim.requestHash) {
    return { state: 'mismatch', path: row.path };
  }
  if (row.status === 'done' && row.response_status !== null) {
    return { state: 'done', status: row.response_status, body: row.response_body ?? '', contentType: row.response_type ?? 'application/json' };
  }
  return { state: 'in_progress', since: row.created_at, claimId: row.claim_id };
}

/**
 * Takes over a claim whose holder seems to have died, only if it is still exactly the claim the
 * caller saw: of several waiters, one wins and the others go on waiting for it.
 */
export async function takeOverIdempotencyKey(
  db: Executor,
  seen: { principal: string; key: string; since: string; claimId: string | null },
  claimId: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('idempotency_keys')
    .set({ claim_id: claimId, created_at: now })
    .where('principal', '=', seen.principal)
    .where('key', '=', seen.key)
    .where('status', '=', 'in_progress')
    .where('created_at', '=', seen.since)
    .where((eb) => (seen.claimId === null ? eb('claim_id', 'is', null) : eb('claim_id', '=', seen.claimId)))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores the response that every retry with the key will get; only the claim's holder can. */
export async function completeIdempotencyKey(
  db: Executor,
  done: { principal: string; key: string; claimId: string; status: number; body: string; contentType: string },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: done.status, response_body: done.body, response_type: done.contentType })
    .where('principal', '=', done.principal)
    .where('key', '=', done.key)
    .where('claim_id', '=', done.claimId)
    .execute();
}

/** Forgets a claim whose request failed for a passing reason, so that a retry runs again. */
export async function releaseIdempotencyKey(db: Executor, claim: { principal: string; key: string; claimId: string }): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('principal', '=', claim.principal)
    .where('key', '=', claim.key)
    .where('claim_id', '=', claim.claimId)
    .where('status', '=', 'in_progress')
    .execute();
}

/** Forgets every key claimed before `before`; returns how many. */
export async function purgeIdempotencyKeys(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
