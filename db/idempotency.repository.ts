import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema';

type Executor = Kysely<Database> | Transaction<Database>;

export type IdempotencyClaim =
  | { readonly state: 'new' }
  | { readonly state: 'done'; readonly status: number; readonly body: string; readonly contentType: string }
  | { readonly state: 'in_progress'; readonly since: string }
  | { readonly state: 'mismatch' };

/**
 * Claims `key` for a request of `principal`: the first claim wins; a later one learns whether
 * the first is done (and its response), still running, or was a different request.
 */
export async function claimIdempotencyKey(
  db: Executor,
  claim: { principal: string; key: string; method: string; path: string; requestHash: string; now: string },
): Promise<IdempotencyClaim> {
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
  if (!row) return claimIdempotencyKey(db, claim); // released meanwhile: claim again
  if (row.method !== claim.method || row.path !== claim.path || row.request_hash !== claim.requestHash) {
    return { state: 'mismatch' };
  }
  if (row.status === 'done' && row.response_status !== null) {
    return { state: 'done', status: row.response_status, body: row.response_body ?? '', contentType: row.response_type ?? 'application/json' };
  }
  return { state: 'in_progress', since: row.created_at };
}

/** Stores the response that every retry with the key will get. */
export async function completeIdempotencyKey(
  db: Executor,
  done: { principal: string; key: string; status: number; body: string; contentType: string },
): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: done.status, response_body: done.body, response_type: done.contentType })
    .where('principal', '=', done.principal)
    .where('key', '=', done.key)
    .execute();
}

/** Forgets a claim whose request failed for a passing reason, so that a retry runs again. */
export async function releaseIdempotencyKey(db: Executor, principal: string, key: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('principal', '=', principal).where('key', '=', key).execute();
}
