import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/database';
import { claimDueDeliveries, insertDeliveries, insertNotices, settleDelivery } from '../db/notice.repository';
import { deliveryId } from '../services/notice.dispatcher';
import { tempDatabase } from './support/database';

const t0 = '2026-11-25T02:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(t0) + ms).toISOString();

/** The outbox's claims on a real SQLite file: who may send a delivery, and when it is taken over. */
describe('claims on the delivery outbox', () => {
  let db: Db;
  let other: Db;
  let file: string;

  beforeAll(async () => {
    ({ db, file } = await tempDatabase(['CG']));
    other = openDatabase(file);
    await insertNotices(db, [
      {
        notice_key: 'n1',
        case_id: null,
        task_id: null,
        department_code: 'CG',
        kind: 'assigned',
        roles: '["liaison"]',
        urgent: 0,
        event_action: null,
        payload: '{}',
        event_at: t0,
        status: 'planned',
        not_before: t0,
        created_at: t0,
      },
    ]);
    await insertDeliveries(
      db,
      Array.from({ length: 10 }, (_, i) => {
        const key = `n1:p${i}:email`;
        return {
          delivery_key: key,
          id: deliveryId(key),
          notice_key: 'n1',
          recipient_kind: 'person',
          recipient_id: `p${i}`,
          recipient_name: `联络员 ${i}`,
          role: 'liaison',
          channel: 'email',
          address: `p${i}@example.gov.cn`,
          language: 'zh-CN',
          status: 'pending',
          attempts: 0,
          next_attempt_at: t0,
          last_error: null,
          claim_id: null,
          claimed_at: null,
          sent_at: null,
          created_at: t0,
          updated_at: t0,
        };
      }),
    );
  });
  afterAll(async () => {
    await other?.destroy();
    await db?.destroy();
  });

  const claim = (on: Db, claimId: string, at: string, limit: number, deadClaimPrefix: string | null = null) =>
    claimDueDeliveries(on, { now: at, claimId, limit, channels: ['email'], staleBefore: new Date(Date.parse(at) - 5 * 60_000).toISOString(), deadClaimPrefix });

  it('gives each delivery to one of two claimants on two connections', async () => {
    const [a, b] = await Promise.all([claim(db, 'run/1#1', t0, 4), claim(other, 'run/2#1', t0, 4)]);
    const keys = [...a, ...b].map((r) => r.delivery_key);
    expect(a).toHaveLength(4);
    expect(b).toHaveLength(4);
    expect(new Set(keys).size).toBe(8);
    // Only the claimant settles its claim.
    expect(await settleDelivery(db, a[0]!.delivery_key, 'run/2#1', { status: 'sent', at: t0 })).toBe(false);
    expect(await settleDelivery(db, a[0]!.delivery_key, 'run/1#1', { status: 'sent', at: t0 })).toBe(true);
    expect(await settleDelivery(db, a[0]!.delivery_key, 'run/1#1', { status: 'sent', at: t0 })).toBe(false);
  });

  it('lets a later attempt of the same round take over its dead attempt at once, and nobody else before the lease', async () => {
    // Two deliveries are still pending: another round takes them, and nothing held by others.
    expect(await claim(db, 'run/3#1', later(60_000), 10, 'run/3#')).toHaveLength(2);
    expect(await claim(db, 'run/9#1', later(60_000), 10)).toEqual([]);
    // The second attempt of round 1 takes over what its first attempt held (it is dead) …
    const held = await db.selectFrom('deliveries').select('delivery_key').where('claim_id', '=', 'run/1#1').orderBy('delivery_key').execute();
    expect(held).toHaveLength(3);
    const takenOver = await claim(db, 'run/1#2', later(60_000), 10, 'run/1#');
    expect(takenOver.map((r) => r.delivery_key).sort()).toEqual(held.map((r) => r.delivery_key));
    expect(takenOver.every((r) => r.claim_id === 'run/1#2' && r.status === 'sending')).toBe(true);
    // … and the dead attempt can no longer settle them.
    expect(await settleDelivery(db, takenOver[0]!.delivery_key, 'run/1#1', { status: 'sent', at: later(61_000) })).toBe(false);
    // Round 2's claims stay its own until their lease runs out; then anyone may take them over.
    expect(await claim(db, 'run/4#1', later(4 * 60_000), 10)).toEqual([]);
    const stale = await claim(db, 'run/4#1', later(5 * 60_000 + 1), 10);
    expect(stale.map((r) => r.delivery_key).sort()).toEqual(
      (await db.selectFrom('deliveries').select('delivery_key').where('claim_id', '=', 'run/4#1').orderBy('delivery_key').execute()).map((r) => r.delivery_key),
    );
    expect(stale).toHaveLength(4);
  });
});
