import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/database';
import { claimDueDeliveries, insertDeliveries, insertNotices, insertWebhookSubscriber, releaseClaims, renewClaim, settleDelivery } from '../db/notice.repository';
import { createNoticeDirectory } from '../services/notice.directory';
import { createNoticeDispatcher, deliveryId } from '../services/notice.dispatcher';
import { createNoticeRenderer } from '../services/notice.renderer';
import { createPeopleService } from '../services/people.service';
import { createWebhookChannel } from '../services/webhook.channel';
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
        kind: 'assignment',
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

  it('renews a claim only for its holder, and gives back what a round had no time to send', async () => {
    // Every claim so far is stale by now: one round takes all nine unsent.
    const mine = await claim(db, 'run/5#1', later(20 * 60_000), 10);
    expect(mine).toHaveLength(9);
    // Renewed just before a send: the holder may send; a round whose claim was taken over may not.
    expect(await renewClaim(db, mine[0]!.delivery_key, 'run/5#1', later(21 * 60_000))).toBe(true);
    expect(await renewClaim(db, mine[0]!.delivery_key, 'run/4#1', later(21 * 60_000))).toBe(false);
    // A renewed claim is not stale when the others are.
    const stale = await claim(db, 'run/6#1', later(26 * 60_000 - 1), 10);
    expect(stale.map((r) => r.delivery_key).sort()).toEqual(mine.slice(1).map((r) => r.delivery_key).sort());
    // Out of time: what a round still holds goes back to the queue, due at once, for anyone.
    expect(await releaseClaims(db, 'run/6#1', later(26 * 60_000))).toBe(8);
    const again = await claim(db, 'run/7#1', later(26 * 60_000), 10);
    expect(again.map((r) => r.delivery_key).sort()).toEqual(stale.map((r) => r.delivery_key).sort());
  });
});

describe('a dispatcher round against a claim taken over under it', () => {
  it('does not send a delivery whose claim another round took over while this one was sending', async () => {
    const { db } = await tempDatabase(['CG']);
    const at = new Date().toISOString();
    const received: string[] = [];
    // A real receiver that, while it takes the first delivery, lets another round take over the second.
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push(String(request.headers['duban-delivery']));
        void db
          .updateTable('deliveries')
          .set({ claim_id: 'another-round', claimed_at: new Date().toISOString() })
          .where('delivery_key', '=', 'n9:wh_1:webhook:2')
          .execute()
          .then(() => response.writeHead(200).end('ok'));
      });
    });
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    try {
      await insertWebhookSubscriber(db, { id: 'wh_1', name: '业务系统', department_code: 'CG', url: `http://127.0.0.1:${port}/`, active: 1, created_at: at });
      await insertNotices(db, [
        { notice_key: 'n9', case_id: null, task_id: null, department_code: 'CG', kind: 'digest', roles: '[]', urgent: 0, event_action: null, payload: JSON.stringify({ asOf: at, tasks: [] }), event_at: at, status: 'planned', not_before: at, created_at: at },
      ]);
      const row = (n: number) => {
        const key = `n9:wh_1:webhook:${n}`;
        return { delivery_key: key, id: deliveryId(key), notice_key: 'n9', recipient_kind: 'webhook', recipient_id: 'wh_1', recipient_name: '业务系统', role: null, channel: 'webhook', address: `http://127.0.0.1:${port}/`, language: 'zh-CN', status: 'pending', attempts: 0, next_attempt_at: at, last_error: null, claim_id: null, claimed_at: null, sent_at: null, created_at: at, updated_at: at };
      };
      await insertDeliveries(db, [row(1), row(2)]);
      const dispatcher = createNoticeDispatcher({
        db,
        directory: createNoticeDirectory({ db, people: createPeopleService({ db }) }),
        renderer: createNoticeRenderer(),
        mail: null,
        webhooks: createWebhookChannel(),
        webhookSecret: () => 'secret',
        timeZone: 'Asia/Shanghai',
        quietHours: () => null,
        digestAt: () => null,
        publicUrl: null,
        // Every claim is renewed (checked) before its send, as one held for long is.
        renewAfterMs: -1,
      });
      const round = await dispatcher.dispatch({ claimId: 'this-round' });
      expect(round.sent).toBe(1);
      expect(received).toEqual([deliveryId('n9:wh_1:webhook:1')]);
      const rows = await db.selectFrom('deliveries').select(['delivery_key', 'status', 'claim_id']).orderBy('delivery_key').execute();
      expect(rows).toEqual([
        { delivery_key: 'n9:wh_1:webhook:1', status: 'sent', claim_id: null },
        { delivery_key: 'n9:wh_1:webhook:2', status: 'sending', claim_id: 'another-round' },
      ]);
    } finally {
      server.close();
      await db.destroy();
    }
  });
});
