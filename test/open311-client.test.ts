import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';

/** What an Open311 client (georeport, from PyPI) makes of our GeoReport v2 API, in JSON and XML alike. */
describe('Open311 through a GeoReport v2 client library', () => {
  let api: ApiStack;
  let caseId: string;
  let trackingCode: string;
  beforeAll(async () => {
    api = await startApiStack();
    // Filed as Open311 apps do: a form post.
    const form = new URLSearchParams({
      service_code: 'sanitation',
      lat: '30.274085',
      long: '120.155070',
      address_string: '武林广场东侧',
      description: '垃圾桶满溢 <无人清理> & 有异味',
      media_url: 'https://example.org/bin.jpg',
      email: 'resident@example.org',
    });
    const posted = await api.call('POST', '/open311/v2/requests.xml', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.status).toBe(201);
    trackingCode = /<service_request_id>([^<]+)<\/service_request_id>/.exec(posted.text)![1]!;
    const converted = await api.call('POST', `/api/v1/complaints/${trackingCode}/convert`, {
      token: api.tokens.office,
      body: { title: '武林广场垃圾桶满溢', category: '环境卫生', severity: 'general', leadDepartment: 'CG' },
    });
    caseId = converted.body.case.id;
  });
  afterAll(() => api?.close());

  it('lists services, definitions and requests the same way in both formats', async () => {
    const script = path.join(__dirname, 'open311', 'georeport_client.py');
    const output = await new Promise<string>((resolve, reject) => {
      execFile(inject('georeportPython'), [script, api.url, caseId, trackingCode], { timeout: 60_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const seen = JSON.parse(output) as Record<'json' | 'xml', any>;
    for (const format of ['json', 'xml'] as const) {
      const got = seen[format];
      expect(got.services, format).toEqual(['city-order', 'sanitation', 'municipal-facilities', 'greening', 'traffic-order', 'noise', 'illegal-construction', 'other']);
      expect(got.definition, format).toBe('noise');
      expect(got.listed, format).toEqual([caseId]);
      expect(got.by_service, format).toEqual([caseId]);
      expect(got.one, format).toMatchObject({ service_request_id: caseId, status: 'open', description: '武林广场垃圾桶满溢', agency_responsible: '部门 CG' });
      expect(got.one.requested_datetime, format).toMatch(/\+08:00$/);
      expect(got.mine, format).toEqual({ service_request_id: trackingCode, description: '垃圾桶满溢 <无人清理> & 有异味', media_url: 'https://example.org/bin.jpg' });
      expect(got.missing, format).toBe(404);
    }
    // JSON numbers and XML text describe the same coarsened point.
    expect([seen.json.one.lat, seen.json.one.long]).toEqual([30.274, 120.155]);
    expect([Number(seen.xml.one.lat), Number(seen.xml.one.long)]).toEqual([30.274, 120.155]);
  });

  it('serves the discovery document in both formats', async () => {
    const json = (await api.call('GET', '/open311/discovery.json')).body;
    expect(json.endpoints[0]).toMatchObject({ specification: 'http://wiki.open311.org/GeoReport_v2', url: `${api.url}/open311/v2`, formats: ['text/xml', 'application/json'] });
    const xml = await api.call('GET', '/open311/discovery.xml');
    expect(xml.headers.get('content-type')).toContain('text/xml');
    expect(xml.text).toContain(`<url>${api.url}/open311/v2</url>`);
    expect(xml.text).toContain('<formats><format>text/xml</format><format>application/json</format></formats>');
  });
});
