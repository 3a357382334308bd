import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../services/token.service';
import { type ApiStack, startApiStack } from './support/api';

const conversion = { title: '受理的投诉', category: '环境卫生', severity: 'general', leadDepartment: 'CG' };

/** Two office users triaging one complaint at once: exactly one decision takes effect. */
describe('complaint triage under concurrency', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 100_000 });
  });
  afterAll(() => api?.close());

  const file = async () => (await api.call('POST', '/api/v1/complaints', { body: { description: '并发受理' } })).body.trackingCode as string;

  it('converts or dismisses, never both, however the two requests interleave', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const code = await file();
      const requests = [
        api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion }),
        api.call('POST', `/api/v1/complaints/${code}/dismiss`, { token: api.tokens.office, body: { reason: '不属实' } }),
      ];
      // Alternate which one leaves first.
      const [convert, dismiss] = round % 2 === 0 ? await Promise.all(requests) : (await Promise.all(requests.reverse())).reverse();
      const statuses = [convert!.status, dismiss!.status];
      expect(statuses.sort()).toEqual([200, 409]);
      const office = (await api.call('GET', `/api/v1/complaints?trackingCode=${code}`, { token: api.tokens.office })).body[0];
      const cases = (await api.call('GET', '/api/v1/cases?source=complaint&limit=200', { token: api.tokens.office })).body.items.filter(
        (c: { complaintCode: string }) => c.complaintCode === code,
      );
      if (convert!.status === 200) {
        expect(office).toMatchObject({ status: 'in_progress', dismissReason: null });
        expect(cases).toHaveLength(1);
        outcomes.add('converted');
      } else {
        expect(office).toMatchObject({ status: 'dismissed', case: null });
        expect(cases).toHaveLength(0);
        outcomes.add('dismissed');
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('puts a complaint back into triage when its conversion is refused, so it can still be dismissed', async () => {
    const code = await file();
    const refused = await api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: { ...conversion, leadDepartment: 'NOPE' } });
    expect(refused.status).toBe(409);
    expect((await api.call('GET', `/api/v1/complaints/${code}`)).body.status).toBe('received');
    const dismissed = await api.call('POST', `/api/v1/complaints/${code}/dismiss`, { token: api.tokens.office, body: { reason: '非本区' } });
    expect(dismissed.status).toBe(200);
    expect((await api.call('POST', `/api/v1/complaints/${code}/dismiss`, { token: api.tokens.office, body: { reason: '再次' } })).status).toBe(409);
  });

  it('lets one of two office users converting at once win, and keeps the complaint with its case', async () => {
    const second = (await createTokenService({ db: api.db }).create({ role: 'office', name: '创建办 李四' })).token;
    for (let round = 0; round < 4; round++) {
      const code = await file();
      const [a, b] = await Promise.all([
        api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion }),
        api.call('POST', `/api/v1/complaints/${code}/convert`, { token: second, body: conversion }),
      ]);
      const winners = [a, b].filter((r) => r.status === 200);
      expect(winners.length, `round ${round}`).toBeGreaterThanOrEqual(1);
      for (const r of [a, b]) expect([200, 409]).toContain(r.status);
      const caseIds = new Set(winners.map((w) => w.body.case.id));
      expect(caseIds.size).toBe(1);
      const office = (await api.call('GET', `/api/v1/complaints?trackingCode=${code}`, { token: api.tokens.office })).body[0];
      expect(office).toMatchObject({ status: 'in_progress', case: { id: [...caseIds][0] } });
      const cases = (await api.call('GET', '/api/v1/cases?source=complaint&limit=200', { token: api.tokens.office })).body.items.filter(
        (c: { complaintCode: string }) => c.complaintCode === code,
      );
      expect(cases).toHaveLength(1);
    }
  });

  it('treats a repeated conversion as the same one: one case', async () => {
    const code = await file();
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(() => api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion })),
    );
    expect([a!.status, b!.status, c!.status]).toEqual([200, 200, 200]);
    expect(new Set([a!.body.case.id, b!.body.case.id, c!.body.case.id]).size).toBe(1);
  });
});
