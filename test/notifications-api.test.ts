import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDeliveries, insertNotices } from '../db/notice.repository';
import { deliveryId } from '../services/notice.dispatcher';
import { type ApiStack, dataOf, startApiStack } from './support/api';

/**
 * The office's side of notices over real HTTP: webhook subscribers (a secret shown, never stored;
 * no subscribing twice) and failed deliveries sent again (to the directory's address of now, on the
 * timeline with who asked).
 */
describe('notifications and webhooks over the HTTP API', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
  });
  afterAll(() => api?.close());

  it('shows a subscriber its secret once per asking, never stores it, and refuses the same subscription twice', async () => {
    const body = { name: '城管局业务系统', url: 'https://cg.example.gov.cn/hooks/duban', department: 'CG' };
    // An Idempotency-Key is not taken here: the answer carries the secret, which is kept nowhere.
    const added = await api.call('POST', '/api/v1/webhooks', { token: api.tokens.office, body, headers: { 'idempotency-key': 'hook-1' } });
    expect(added.status).toBe(201);
    expect(added.body.secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const stored = await api.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(added.body.secret);
    // The same URL for the same notices again (a retried request) is refused, naming the field.
    const again = await api.call('POST', '/api/v1/webhooks', { token: api.tokens.office, body, headers: { 'idempotency-key': 'hook-1' } });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toEqual([{ path: 'url', message: `already subscribed as ${added.body.id}` }]);
    expect(dataOf(await api.as.office.GET('/api/v1/webhooks'))).toEqual([expect.objectContaining({ id: added.body.id, active: true })]);
    expect(JSON.stringify(dataOf(await api.as.office.GET('/api/v1/webhooks')))).not.toContain(added.body.secret);
    // For all notices (no department) it is another subscription.
    expect((await api.as.office.POST('/api/v1/webhooks', { body: { name: '督查办', url: body.url } })).response.status).toBe(201);
    // Deactivated, the URL may subscribe anew.
    expect((await api.as.office.POST('/api/v1/webhooks/{id}/deactivate', { params: { path: { id: added.body.id } } })).response.status).toBe(200);
    expect((await api.as.office.POST('/api/v1/webhooks', { body })).response.status).toBe(201);
  });

  it('sends a failed delivery again to the address the directory has now, and refuses one whose person is gone', async () => {
    const person = dataOf(
      await api.as.office.POST('/api/v1/departments/{code}/people', {
        params: { path: { code: 'CG' } },
        body: { name: '赵联络员', post: '联络员', email: 'zhao@cg.exmaple.gov.cn', roles: ['liaison'] },
      }),
    );
    const caseId = dataOf(
      await api.as.office.POST('/api/v1/cases', {
        body: { title: '人民路占道经营', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
      }),
    ).caseId;
    // A delivery to the mistyped address that the mail server refused for good.
    const at = new Date().toISOString();
    const key = `${caseId}#test`;
    await insertNotices(api.db, [
      { notice_key: key, case_id: caseId, task_id: null, department_code: 'CG', kind: 'assignment', roles: '["liaison"]', urgent: 0, event_action: 'task.assigned', payload: '{}', event_at: at, status: 'planned', not_before: at, created_at: at },
    ]);
    const deliveryKey = `${key}:${person.id}:email`;
    await insertDeliveries(api.db, [
      { delivery_key: deliveryKey, id: deliveryId(deliveryKey), notice_key: key, recipient_kind: 'person', recipient_id: person.id, recipient_name: '赵联络员', role: 'liaison', channel: 'email', address: 'zhao@cg.exmaple.gov.cn', language: 'zh-CN', status: 'failed', attempts: 1, next_attempt_at: at, last_error: 'smtp: 550 <zhao@cg.exmaple.gov.cn>: User unknown', claim_id: null, claimed_at: null, sent_at: null, created_at: at, updated_at: at },
    ]);
    const id = deliveryId(deliveryKey);
    const failed = dataOf(await api.as.office.GET('/api/v1/notifications', { params: { query: { status: 'failed', caseId } } }));
    expect(failed).toEqual([expect.objectContaining({ id, status: 'failed', attempts: 1, address: 'zhao@cg.exmaple.gov.cn' })]);

    // The office corrects the address, then retries: the delivery waits, for the corrected address.
    await api.as.office.PATCH('/api/v1/people/{personId}', { params: { path: { personId: person.id } }, body: { email: 'zhao@cg.example.gov.cn' } });
    const retried = await api.as.office.POST('/api/v1/notifications/{id}/retry', { params: { path: { id } } });
    expect(retried.response.status).toBe(202);
    expect(dataOf(await api.as.office.GET('/api/v1/notifications', { params: { query: { caseId } } }))).toContainEqual(
      expect.objectContaining({ id, status: 'pending', attempts: 1 }),
    );
    // Only a failed one is retried.
    expect((await api.as.office.POST('/api/v1/notifications/{id}/retry', { params: { path: { id } } })).response.status).toBe(409);
    const timeline = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } })).events;
    expect(timeline.filter((e) => e.action === 'notice.retried')).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ role: 'office' }), payload: expect.objectContaining({ recipient: '赵联络员', channel: 'email' }) }),
    ]);

    // A person removed from the directory is not retried: the office is told why.
    await api.db.updateTable('deliveries').set({ status: 'failed' }).where('id', '=', id).execute();
    await api.as.office.POST('/api/v1/people/{personId}/deactivate', { params: { path: { personId: person.id } } });
    const refused = await api.call('POST', `/api/v1/notifications/${id}/retry`, { token: api.tokens.office });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual([{ path: 'id', message: '已从目录中移除 / removed from the directory' }]);
  });
});
