import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';

const conversion = { title: '垃圾清运', category: '环境卫生', severity: 'general', leadDepartment: 'JD' };

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

/** What a department and a careless conversion can reveal: nothing of the complainant's. */
describe('what the complainant keeps to themselves', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 100_000 });
  });
  afterAll(() => api?.close());

  it('publishes a point-only Open311 report coarsened, and only in the office’s words', async () => {
    const form = new URLSearchParams({ service_code: 'noise', lat: '31.230416', long: '121.473701', description: '我是张三，电话13800000000，楼上每晚施工噪声' });
    const posted = await api.call('POST', '/open311/v2/requests.json', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.status).toBe(201);
    const code = posted.body[0].service_request_id as string;
    // The office must say in its own words what the public will read.
    const untitled = await api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: { category: '噪声扰民', severity: 'general', leadDepartment: 'CG' } });
    expect(untitled.status).toBe(400);
    expect(untitled.body.error.details.map((d: { path: string }) => d.path)).toContain('body.title');
    const converted = await api.call('POST', `/api/v1/complaints/${code}/convert`, {
      token: api.tokens.office,
      body: { title: '某小区夜间施工噪声', category: '噪声扰民', severity: 'general', leadDepartment: 'CG' },
    });
    expect(converted.status).toBe(200);
    for (const format of ['json', 'xml']) {
      const listed = await api.call('GET', `/open311/v2/requests.${format}`);
      expect(listed.text).toContain('某小区夜间施工噪声');
      for (const secret of ['张三', '13800000000', '31.230416', '121.473701', code]) expect(listed.text, `${format}: ${secret}`).not.toContain(secret);
    }
    const [one] = (await api.call('GET', '/open311/v2/requests.json')).body;
    expect(one).toMatchObject({ address: '31.23,121.474', lat: 31.23, long: 121.474 });
    // The office still has the exact point.
    const office = (await api.call('GET', `/api/v1/complaints?trackingCode=${code}`, { token: api.tokens.office })).body[0];
    expect([office.lat, office.lng]).toEqual([31.230416, 121.473701]);
  });

  it('never shows a department the tracking code of the complaint behind its case', async () => {
    const code = (await api.call('POST', '/api/v1/complaints', { body: { description: '路灯不亮' } })).body.trackingCode as string;
    const converted = await api.call('POST', `/api/v1/complaints/${code}/convert`, {
      token: api.tokens.office,
      body: { title: '路灯不亮', category: '市政设施', severity: 'general', leadDepartment: 'CG' },
    });
    const caseId = converted.body.case.id as string;
    const own = await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.CG });
    expect(own.status).toBe(200);
    expect(own.body.case.complaintCode).toBeNull();
    expect(own.text).not.toContain(code);
    const listed = await api.call('GET', '/api/v1/cases?source=complaint', { token: api.tokens.CG });
    expect(listed.body.items.map((c: { id: string }) => c.id)).toContain(caseId);
    expect(listed.text).not.toContain(code);
    // The office sees it, on the case and on its timeline.
    const office = await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office });
    expect(office.body.case.complaintCode).toBe(code);
    expect(office.body.events[0].payload.complaintCode).toBe(code);
  });

  it('claims no Idempotency-Key for a token holder on a route that does not take one', async () => {
    const before = await api.db.selectFrom('idempotency_keys').select('key').execute();
    const filed = await api.call('POST', '/api/v1/complaints', { token: api.tokens.CG, body: { description: '带键' }, headers: { 'idempotency-key': 'x'.repeat(5000) } });
    expect(filed.status).toBe(201);
    expect(await api.db.selectFrom('idempotency_keys').select('key').execute()).toEqual(before);
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

  it('counts filing on the API and through Open311 as one budget', async () => {
    const client = '192.0.2.77';
    const headers = { 'x-forwarded-for': client };
    const statuses = [
      (await api.call('POST', '/api/v1/complaints', { body: { description: 'API' }, headers })).status,
      (await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'noise', description: 'json', address_string: '某路' }, headers })).status,
      (await api.call('POST', '/open311/v2/requests.xml', { body: { service_code: 'noise', description: 'xml', address_string: '某路' }, headers })).status,
      (await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'noise', description: 'json', address_string: '某路' }, headers })).status,
    ];
    expect(statuses).toEqual([201, 201, 201, 429]);
  });

  it('lets a whole IPv6 /48 file ten clients’ worth, however many /64s it rotates through', async () => {
    const statuses: number[] = [];
    for (let subnet = 0; subnet < 12; subnet++) {
      for (let i = 0; i < 3; i++) statuses.push((await fileFrom(`2001:db8:48:${subnet.toString(16)}::${i + 1}`)).status);
    }
    // 3 per /64 × 12 /64s asked; 30 (ten clients' worth) allowed.
    expect(statuses.filter((s) => s === 201)).toHaveLength(30);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    expect(statuses.slice(30)).toHaveLength(6);
    // Another site is counted apart.
    expect((await fileFrom('2001:db8:49::1')).status).toBe(201);
  });

  it('counts an IPv6 client by its /64', async () => {
    const statuses = [];
    for (const host of ['1', '2', 'beef', 'cafe:1']) statuses.push((await fileFrom(`2001:db8:1:1::${host}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect((await fileFrom('2001:db8:1:2::1')).status).toBe(201);
  });

  it('limits public reads as well, one budget across them, in each format’s own error shape', async () => {
    const code = (await fileFrom('198.51.100.9')).body.trackingCode as string;
    const read = (path: string) => api.call('GET', path, { headers: { 'x-forwarded-for': '198.51.100.7' } });
    const statuses = [];
    for (const path of [`/api/v1/complaints/${code}`, '/open311/v2/requests.json', `/open311/v2/requests/${code}.xml`, '/open311/v2/services.json']) {
      statuses.push((await read(path)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    const json = await read(`/api/v1/complaints/${code}`);
    expect(json.status).toBe(429);
    expect(json.body.error.code).toBe('rate_limited');
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
