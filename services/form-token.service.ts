import crypto from 'node:crypto';
import type { Db } from '../db/database';
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey, takeOverIdempotencyKey } from '../db/idempotency.repository';

/** How long a page's form may wait before it is sent. */
const maxAgeMs = 24 * 3_600_000;
/** A claim older than this belongs to a request that died with its process: another may take it over. */
const staleAfterMs = 120_000;
/** How long a second sending waits for the first to finish. */
const waitMs = 30_000;

/** What sending a form with a one-time token may find. */
export type FormClaim =
  | { readonly state: 'first'; readonly claim: { principal: string; key: string; claimId: string } }
  | { readonly state: 'done'; readonly result: string }
  | { readonly state: 'invalid' };

/**
 * One-time tokens of the public's forms, against a double click or a resent form doing twice what
 * it says (the public has no Idempotency-Key). A page gets a token signed with the installation's
 * key (so nobody can make tokens up to fill the table); the first sending with it claims it, in
 * the idempotency table under the form's name; a second waits for the first and gets the same
 * result; a sending that was refused (a field to correct) gives the token back for the next try.
 */
export function createFormTokenService(deps: { db: Db; secretKey: () => string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  let key: Buffer | undefined;
  const mac = (form: string, nonce: string, issued: string) => {
    key ??= crypto.createHmac('sha256', deps.secretKey()).update('duban form tokens').digest();
    return crypto.createHmac('sha256', key).update(`${form}|${nonce}|${issued}`).digest('base64url');
  };

  /** The token's nonce, if this server issued it for `form` less than a day ago. */
  function verify(form: string, token: string): string | undefined {
    const [nonce, issued, signature, extra] = token.split('.');
    if (!nonce || !issued || !signature || extra !== undefined || !/^[0-9a-f]{32}$/.test(nonce) || !/^\d{1,15}$/.test(issued)) return undefined;
    const expected = Buffer.from(mac(form, nonce, issued));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) return undefined;
    const age = now().getTime() - Number(issued);
    return age >= -60_000 && age <= maxAgeMs ? nonce : undefined;
  }

  return {
    /** A new token for one sending of `form`. */
    issue(form: string): string {
      const nonce = crypto.randomBytes(16).toString('hex');
      const issued = String(now().getTime());
      return `${nonce}.${issued}.${mac(form, nonce, issued)}`;
    },

    /**
     * Claims `token` for a sending of `form`: the first gets to act; a later one waits for it and
     * gets its result; a token this server did not issue, or too old, is invalid.
     */
    async claim(form: string, token: string): Promise<FormClaim> {
      const nonce = verify(form, token);
      if (!nonce) return { state: 'invalid' };
      const principal = `form:${form}`;
      const claimId = crypto.randomUUID();
      for (let waited = 0; ; waited += 100) {
        const at = now().toISOString();
        const seen = await claimIdempotencyKey(deps.db, { principal, key: nonce, method: 'POST', path: form, requestHash: form, claimId, now: at });
        if (seen.state === 'new') return { state: 'first', claim: { principal, key: nonce, claimId } };
        if (seen.state === 'done') return { state: 'done', result: seen.body };
        if (seen.state === 'mismatch') return { state: 'invalid' };
        if (Date.now() - Date.parse(seen.since) > staleAfterMs) {
          if (await takeOverIdempotencyKey(deps.db, { principal, key: nonce, since: seen.since, claimId: seen.claimId }, claimId, at)) {
            return { state: 'first', claim: { principal, key: nonce, claimId } };
          }
          continue;
        }
        if (waited >= waitMs) return { state: 'invalid' };
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },

    /** The first sending succeeded: every later one with the token gets `result`. */
    async complete(claim: { principal: string; key: string; claimId: string }, result: string): Promise<void> {
      await completeIdempotencyKey(deps.db, { ...claim, status: 303, body: result, contentType: 'text/plain' });
    },

    /** The first sending was refused or failed: the token may be sent again. */
    async release(claim: { principal: string; key: string; claimId: string }): Promise<void> {
      await releaseIdempotencyKey(deps.db, claim);
    },
  };
}
export type FormTokenService = ReturnType<typeof createFormTokenService>;
