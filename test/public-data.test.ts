import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';

const conversion = { category: '环境卫生', severity: 'general', leadDepartment: 'JD' };

/** What anyone without a token can read: only what the office accepted, without personal data, a page at a time. */
describe('what the public can see of complaints', () => {
  let api: ApiStack;
  const filed: Record<'received' | 'converted' | 'dismissed' | 'withdrawn', { code: string; caseId?: string }> = {} as never;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 100_000 });
    const file = async (description: string) =>
      (
        await api.call('POST', '/api/v1/complaints', {
          body: {
            description,
            category: '环境卫生',
            location: { address: '解放路 5 号', lat: 30.123456, lng: 120.987654 },
            contact: { name: '李四', phone: '13800000000' },
            evidence: [{ url: 'https://example.org/face.jpg' }],
          },
        })
      ).body.trackingCode as string;
    filed.received = { code: await file('我是 3 单元的李四，门口垃圾没人收') };
    filed.dismissed = { code: await file('重复投诉') };
    await api.call('POST', `/api/v1/complaints/${filed.dismissed.code}/dismiss`, { token: api.tokens.office, body: { reason: '与其他投诉重复' } });
    for (const which of ['converted', 'withdrawn'] as const) {
      const code = await file(`李四 13800000000 反映：${which}`);
      const converted = await api.call('POST', `/api/v1/complaints/${code}/convert`, {
        token: api.tokens.office,
        body: { ...conversion, title: `解放路垃圾清运不及时（${which}）` },
      });
      filed[which] = { code, caseId: converted.body.case.id };
    }
    await api.call('POST', `/api/v1/cases/${filed.withdrawn.caseId}/withdraw`, { token: api.tokens.office, body: { reason: '误立案' } });
  });
  afterAll(() => api?.close());

  it('lists only complaints the office accepted, by case id, in the office’s words, without personal data', async () => {
    for (const format of ['json', 'xml']) {
      const response = await api.call('GET', `/open311/v2/requests.${format}`);
      expect(response.status).toBe(200);
      for (const { code } of Object.values(filed)) expect(response.text).not.toContain(code);
      for (const secret of ['李四', '13800000000', 'face.jpg', '30.123456', '120.987654', '3 单元']) expect(response.text).not.toContain(secret);
      expect(response.text).toContain(filed.converted.caseId);
      expect(response.text).not.toContain(filed.withdrawn.caseId);
    }
    const [listed, ...others] = (await api.call('GET', '/open311/v2/requests.json')).body;
    expect(others).toEqual([]);
    expect(listed).toMatchObject({
      service_request_id: filed.converted.caseId,
      status: 'open',
      description: '解放路垃圾清运不及时（converted）',
      address: '解放路 5 号',
      lat: 30.123,
      long: 120.988,
      media_url: null,
      agency_responsible: '部门 JD',
    });
    expect(listed.expected_datetime).toMatch(/\+08:00$/);
    // One by its case id: the same public view; a withdrawn or unknown case is not there.
    expect((await api.call('GET', `/open311/v2/requests/${filed.converted.caseId}.json`)).body).toEqual([listed]);
    expect((await api.call('GET', `/open311/v2/requests/${filed.withdrawn.caseId}.json`)).status).toBe(404);
    expect((await api.call('GET', '/open311/v2/requests/DB-2026-999999.json')).status).toBe(404);
  });

  it('shows the complainant their own complaint by its code, coordinates coarsened, never contact data', async () => {
    const mine = (await api.call('GET', `/api/v1/complaints/${filed.received.code}`)).body;
    expect(mine).toMatchObject({ description: '我是 3 单元的李四，门口垃圾没人收', lat: 30.123, lng: 120.988, status: 'received' });
    expect(JSON.stringify(mine)).not.toContain('13800000000');
    const open311 = (await api.call('GET', `/open311/v2/requests/${filed.received.code}.json`)).body[0];
    expect(open311).toMatchObject({ service_request_id: filed.received.code, lat: 30.123, long: 120.988, media_url: 'https://example.org/face.jpg' });
    // The office sees everything, exactly.
    const office = (await api.call('GET', `/api/v1/complaints?trackingCode=${filed.received.code}`, { token: api.tokens.office })).body[0];
    expect(office).toMatchObject({ lat: 30.123456, lng: 120.987654, contact: { name: '李四', phone: '13800000000' } });
  });

  it('pages the public list, at most 100 to a page', async () => {
    const more: string[] = [];
    for (let i = 0; i < 3; i++) {
      const code = (await api.call('POST', '/api/v1/complaints', { body: { description: `第 ${i} 件` } })).body.trackingCode;
      more.push((await api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion })).body.case.id);
    }
    const all = (await api.call('GET', '/open311/v2/requests.json?page_size=100')).body.map((r: { service_request_id: string }) => r.service_request_id);
    expect(all).toEqual([...more.reverse(), filed.converted.caseId]);
    const pages: string[] = [];
    for (let page = 1; page <= 5; page++) {
      const items = (await api.call('GET', `/open311/v2/requests.json?page_size=1&page=${page}`)).body;
      expect(items.length).toBeLessThanOrEqual(1);
      pages.push(...items.map((r: { service_request_id: string }) => r.service_request_id));
    }
    expect(pages).toEqual(all);
    const tooMany = await api.call('GET', '/open311/v2/requests.json?page_size=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body[0].code).toBe(400);
    const xmlError = await api.call('GET', '/open311/v2/requests.xml?page_size=1000');
    expect(xmlError.status).toBe(400);
    expect(xmlError.headers.get('content-type')).toContain('text/xml');
    expect(xmlError.text).toMatch(/^<\?xml version="1\.0" encoding="utf-8"\?><errors><error><code>400<\/code><description>.+<\/description><\/error><\/errors>$/);
    // Filters: by case id, by status, by date.
    const one = (await api.call('GET', `/open311/v2/requests.json?service_request_id=${more[0]}`)).body;
    expect(one.map((r: { service_request_id: string }) => r.service_request_id)).toEqual([more[0]]);
    expect((await api.call('GET', '/open311/v2/requests.json?status=closed')).body).toEqual([]);
    expect((await api.call('GET', '/open311/v2/requests.json?end_date=2000-01-01T00:00:00Z')).body).toEqual([]);
  });
});

/** Rate limits key the real client: through trusted proxies only, IPv6 by its /64. */
describe('rate limits behind a trusted proxy', () => {
  let api: ApiStack;
  const windowMs = 1500;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 3, publicReadsPerMinute: 4, rateWindowMs: windowMs, trustedProxies: ['loopback'] });
  });
  afterAll(() => api?.close());

  const fileFrom = (client: string) =>
    api.call('POST', '/api/v1/complaints', { body: { description: `来自 ${client}` }, headers: { 'x-forwarded-for': client } });

  it('lets each client file exactly the limit per window, counts clients apart, and opens again after the window', async () => {
    const first = [];
    for (let i = 0; i < 4; i++) first.push((await fileFrom('203.0.113.1')).status);
    expect(first).toEqual([201, 201, 201, 429]);
    const refused = await fileFrom('203.0.113.1');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another client behind the same proxy has its own count.
    expect((await fileFrom('203.0.113.2')).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, windowMs + 200));
    expect((await fileFrom('203.0.113.1')).status).toBe(201);
  });

  it('counts an IPv6 client by its /64', async () => {
    const statuses = [];
    for (const host of ['1', '2', 'beef', 'cafe:1']) statuses.push((await fileFrom(`2001:db8:1:1::${host}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect((await fileFrom('2001:db8:1:2::1')).status).toBe(201);
  });

  it('limits public reads as well, in each format’s own error shape', async () => {
    const code = (await fileFrom('198.51.100.9')).body.trackingCode as string;
    const read = (path: string) => api.call('GET', path, { headers: { 'x-forwarded-for': '198.51.100.7' } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await read(`/api/v1/complaints/${code}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const json = await read(`/api/v1/complaints/${code}`);
    expect(json.status).toBe(429);
    expect(json.body.error.code).toBe('rate_limited');
    // Each route counts on its own: Open311 reads have their own budget, refused in XML there.
    for (let i = 0; i < 4; i++) expect((await read('/open311/v2/requests.xml')).status).toBe(200);
    const xml = await read('/open311/v2/requests.xml');
    expect(xml.status).toBe(429);
    expect(xml.text).toContain('<errors><error><code>429</code>');
  });
});

describe('rate limits without a trusted proxy', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 2 });
  });
  afterAll(() => api?.close());

  it('ignores X-Forwarded-For, so a client cannot pretend to be many', async () => {
    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      statuses.push((await api.call('POST', '/api/v1/complaints', { body: { description: 'x' }, headers: { 'x-forwarded-for': client } })).status);
    }
    expect(statuses).toEqual([201, 201, 429]);
  });
});
