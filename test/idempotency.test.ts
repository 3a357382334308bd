import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimIdempotencyKey, takeOverIdempotencyKey } from '../db/idempotency.repository';
import { type ApiStack, startApiStack } from './support/api';

const ackRoute = '/api/v1/cases/:caseId/tasks/:taskId/acknowledge';

describe('Idempotency-Key: only for token holders, keyed by route, bounded in time', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
  });
  afterAll(() => api?.close());

  const keys = () => api.db.selectFrom('idempotency_keys').selectAll().execute();
  const openCase = async () =>
    (
      await api.call('POST', '/api/v1/cases', {
        token: api.tokens.office,
        body: { title: '幂等', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
      })
    ).body.caseId as string;

  it('claims nothing for the public: anyone could fill the table', async () => {
    const before = (await keys()).length;
    const headers = { 'idempotency-key': 'public-1' };
    const a = await api.call('POST', '/api/v1/complaints', { body: { description: '同一个键' }, headers });
    const b = await api.call('POST', '/api/v1/complaints', { body: { description: '同一个键' }, headers });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.trackingCode).not.toBe(b.body.trackingCode);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect((await keys()).length).toBe(before);
  });

  it('answers 401 before it looks at the key, and claims nothing for a refused caller', async () => {
    const before = (await keys()).length;
    const bad = await api.call('POST', '/api/v1/cases', { body: { nonsense: true }, headers: { 'idempotency-key': 'bad key with spaces' } });
    expect(bad.status).toBe(401);
    const wrongRole = await api.call('POST', '/api/v1/cases', {
      token: api.tokens.CG,
      body: { nonsense: true },
      headers: { 'idempotency-key': 'k' },
    });
    expect(wrongRole.status).toBe(403);
    expect((await keys()).length).toBe(before);
  });

  it('stores the route pattern, not the path or query, and tells requests to different resources apart', async () => {
    const caseId = await openCase();
    const other = await openCase();
    const key = `ack-${crypto.randomUUID()}`;
    const first = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge?utm=1`, {
      token: api.tokens.CG,
      body: {},
      headers: { 'idempotency-key': key },
    });
    expect(first.status).toBe(200);
    const row = (await keys()).find((k) => k.key === key)!;
    expect(row).toMatchObject({ path: ackRoute, method: 'POST', status: 'done', response_status: 200 });
    // The same key for the same command on another case is another request: refused, not replayed.
    const elsewhere = await api.call('POST', `/api/v1/cases/${other}/tasks/${other}-T1/acknowledge`, {
      token: api.tokens.CG,
      body: {},
      headers: { 'idempotency-key': key },
    });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error.details[0].path).toBe('header.idempotency-key');
    const retried = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge`, {
      token: api.tokens.CG,
      body: {},
      headers: { 'idempotency-key': key },
    });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.text).toBe(first.text);
  });

  it('lets exactly one waiter take over a claim whose request died', async () => {
    const caseId = await openCase();
    const key = `stale-${crypto.randomUUID()}`;
    const params = { caseId, taskId: `${caseId}-T1` };
    const requestHash = crypto.createHash('sha256').update(JSON.stringify({ params, body: {} })).digest('hex');
    const principal = (await api.db.selectFrom('tokens').select('id').where('department_code', '=', 'CG').executeTakeFirstOrThrow()).id;
    // A claim left by a process that died three minutes ago, before it answered.
    const since = new Date(Date.now() - 180_000).toISOString();
    await api.db
      .insertInto('idempotency_keys')
      .values({ principal, key, method: 'POST', path: ackRoute, request_hash: requestHash, status: 'in_progress', response_status: null, response_body: null, response_type: null, created_at: since, claim_id: 'dead' })
      .execute();
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge`, { token: api.tokens.CG, body: {}, headers: { 'idempotency-key': key } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    const events = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.events;
    expect(events.filter((e: { action: string }) => e.action === 'task.acknowledged')).toHaveLength(1);
  });

  it('takes over a stale claim conditionally: of two takers who saw it, one wins', async () => {
    const claim = { principal: 'tok_race', key: 'k', method: 'POST', path: ackRoute, requestHash: 'h', claimId: 'first', now: new Date(Date.now() - 300_000).toISOString() };
    expect(await claimIdempotencyKey(api.db, claim)).toEqual({ state: 'new' });
    const seen = await claimIdempotencyKey(api.db, { ...claim, claimId: 'second', now: new Date().toISOString() });
    expect(seen).toEqual({ state: 'in_progress', since: claim.now, claimId: 'first' });
    const now = new Date().toISOString();
    const outcomes = await Promise.all(
      ['a', 'b', 'c'].map((id) => takeOverIdempotencyKey(api.db, { principal: 'tok_race', key: 'k', since: claim.now, claimId: 'first' }, id, now)),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });
});

describe('Idempotency-Key retention', () => {
  let api: ApiStack;
  beforeAll(async () => {
    // Long enough that the key is still there when the request has answered, even on a loaded machine.
    api = await startApiStack({ idempotencyRetentionMs: 5000 });
  });
  afterAll(() => api?.close());

  it('forgets keys after the retention period, in the background', async () => {
    const opened = await api.call('POST', '/api/v1/cases', {
      token: api.tokens.office,
      body: { title: '保留期', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
      headers: { 'idempotency-key': 'open-retention' },
    });
    expect(opened.status).toBe(201);
    const stored = () => api.db.selectFrom('idempotency_keys').select('key').where('key', '=', 'open-retention').execute();
    expect(await stored()).toHaveLength(1);
    let gone = false;
    for (let i = 0; i < 200 && !gone; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      gone = (await stored()).length === 0;
    }
    expect(gone).toBe(true);
  });
});
