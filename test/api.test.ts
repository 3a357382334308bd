import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, pngBytes, startApiStack } from './support/api';

const newCase = (over: Record<string, unknown> = {}) => ({
  title: '人民路占道经营',
  description: '夜市摊点占用人行道',
  category: '市容秩序',
  severity: 'serious',
  source: 'inspection',
  leadDepartment: 'CG',
  location: { address: '人民路 88 号', lat: 30.27, lng: 120.15 },
  ...over,
});

async function upload(api: ApiStack, token: string | undefined, files: { name: string; bytes: Buffer; type?: string }[]) {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([f.bytes], { type: f.type ?? 'application/octet-stream' }), f.name);
  const response = await fetch(`${api.url}/api/v1/evidence`, {
    method: 'POST',
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('HTTP API over real HTTP', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 5 });
  });
  afterAll(() => api?.close());

  it('serves health, readiness, the OpenAPI document and the docs page', async () => {
    expect((await api.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await api.call('GET', '/readyz')).body).toMatchObject({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } });
    const doc = (await api.call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/cases', '/api/v1/cases/{caseId}', '/open311/v2/requests.json']));
    expect(doc.paths['/api/v1/cases'].post.requestBody.content['application/json'].schema.properties.severity.enum).toEqual(['general', 'serious', 'major']);
    const docs = await fetch(`${api.url}/docs/`);
    expect(docs.status).toBe(200);
    const page = await docs.text();
    expect(page).toContain('swagger');
    // The page's scripts are served from here, not from a CDN.
    const scripts = [...page.matchAll(/src="\.\/([^"]+\.js)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect((await fetch(`${api.url}/docs/${script}`)).status, script).toBe(200);
  });

  it('takes a case from open to closed as a newcomer would: tokens, a photo, acknowledge, submit, accept', async () => {
    const opened = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: newCase() });
    expect(opened.status).toBe(201);
    const caseId = opened.body.caseId as string;
    expect(opened.headers.get('location')).toBe(`/api/v1/cases/${caseId}`);
    const taskId = `${caseId}-T1`;

    const ack = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${taskId}/acknowledge`, { token: api.tokens.CG, body: { note: '收到' } });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', departmentCode: 'CG' });
    expect(ack.body.rectificationDueAt).toMatch(/\+08:00$/);

    const photo = await upload(api, api.tokens.CG, [{ name: '整改后.png', bytes: pngBytes }]);
    expect(photo.status).toBe(201);
    expect(photo.body[0]).toMatchObject({ name: '整改后.png', mediaType: 'image/png', size: pngBytes.length });
    const submitted = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${taskId}/submit`, {
      token: api.tokens.CG,
      body: { report: '已清理全部摊点', evidence: [{ file: photo.body[0].file, note: '整改后' }] },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.body.lastSubmission.evidence[0]).toMatchObject({ kind: 'file', sha256: photo.body[0].sha256 });

    const accepted = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${taskId}/verify`, { token: api.tokens.office, body: { decision: 'accept' } });
    expect(accepted.body.status).toBe('accepted');
    await api.env.client.workflow.getHandle(caseId).result();
    const shown = await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.CG });
    expect(shown.body.case.status).toBe('closed');
    expect(shown.body.events.map((e: { action: string }) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.submitted',
      'task.accepted',
      'case.closed',
    ]);
    // The photo is served to those who may see the case, and to nobody else.
    const mine = await fetch(`${api.url}/api/v1/evidence/${photo.body[0].sha256}`, { headers: { authorization: `Bearer ${api.tokens.CG}` } });
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await mine.arrayBuffer()).equals(pngBytes)).toBe(true);
    expect((await api.call('GET', `/api/v1/evidence/${photo.body[0].sha256}`, { token: api.tokens.JD })).status).toBe(404);
    expect((await api.call('GET', `/api/v1/evidence/${photo.body[0].sha256}`, { token: api.tokens.office })).status).toBe(200);
    expect((await api.call('GET', `/api/v1/evidence/${photo.body[0].sha256}`)).status).toBe(401);
  });

  it('answers every error in one JSON shape, naming the field, and changes nothing', async () => {
    const before = (await api.call('GET', '/api/v1/cases?limit=200', { token: api.tokens.office })).body.items.length;
    const malformed = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: { ...newCase(), severity: 'urgent', title: '' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('bad_request');
    expect(malformed.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.severity', 'body.title']);
    expect(malformed.body.error.details[0].message).toMatch(/\//);
    const unknownDept = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: newCase({ leadDepartment: 'NOPE' }) });
    expect(unknownDept.status).toBe(409);
    expect(unknownDept.body.error).toMatchObject({ code: 'invalid_state', details: [{ path: 'leadDepartment' }] });
    const notJson = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: '{"title": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('bad_request');
    const wrongType = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: 'title=x', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported_media_type');
    const tooBig = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: newCase({ description: 'x'.repeat(1_100_000) }) });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('payload_too_large');
    const badToken = await api.call('GET', '/api/v1/cases', { token: 'dbn_nope' });
    expect(badToken.status).toBe(401);
    expect(badToken.body.error.code).toBe('unauthorized');
    const missing = await api.call('GET', '/api/v1/cases/DB-2026-999999', { token: api.tokens.office });
    expect(missing.status).toBe(404);
    const noRoute = await api.call('GET', '/api/v1/nothing-here', { token: api.tokens.office });
    expect(noRoute.body.error.code).toBe('not_found');
    for (const response of [malformed, unknownDept, notJson, wrongType, tooBig, badToken, missing]) {
      expect(response.text).not.toMatch(/at .*\.js:\d+/);
    }

    // A command the state does not allow: 409; a department's own case but an office command: 403.
    const { caseId } = (await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: newCase() })).body;
    const early = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/submit`, {
      token: api.tokens.CG,
      body: { report: 'x', evidence: [{ url: 'https://example.org/a.jpg' }] },
    });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('invalid_state');
    const notMine = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/verify`, { token: api.tokens.CG, body: { decision: 'accept' } });
    expect(notMine.status).toBe(403);
    const unknownFile = await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/progress`, {
      token: api.tokens.CG,
      body: { note: 'x', evidence: [{ file: `sha256:${'0'.repeat(64)}` }] },
    });
    expect(unknownFile.status).toBe(409);
    expect(unknownFile.body.error.details[0].path).toBe('evidence[0].file');
    const after = (await api.call('GET', '/api/v1/cases?limit=200', { token: api.tokens.office })).body.items.length;
    expect(after).toBe(before + 1);
    expect((await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.events).toHaveLength(2);
  });

  it('refuses uploads that are too large or not evidence, sniffing the content rather than the name', async () => {
    const fake = await upload(api, api.tokens.CG, [{ name: 'photo.jpg', bytes: Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff\x00\x00\xb8', 'latin1') }]);
    expect(fake.status).toBe(415);
    expect(fake.body.error.details[0].path).toBe('file[0]');
    expect(fake.body.error.message).toContain('application/');
    const big = await upload(api, api.tokens.CG, [{ name: 'big.png', bytes: Buffer.concat([pngBytes, Buffer.alloc(21 * 1024 * 1024)]) }]);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const textFile = await upload(api, api.tokens.CG, [{ name: 'notes.exe', bytes: Buffer.from('整改说明：已清理。') }]);
    expect(textFile.status).toBe(201);
    expect(textFile.body[0].mediaType).toBe('text/plain');
    expect((await upload(api, undefined, [{ name: 'a.png', bytes: pngBytes }])).status).toBe(401);
  });

  it('replays the first response to a retried Idempotency-Key, even under concurrent retries, and refuses another body', async () => {
    const headers = { 'idempotency-key': `open-${Date.now()}` };
    const body = newCase({ title: '井盖缺失', category: '市政设施' });
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => api.call('POST', '/api/v1/cases', { token: api.tokens.office, body, headers })),
    );
    const ids = new Set(responses.map((r) => r.body.caseId));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    const listed = (await api.call('GET', `/api/v1/cases?q=${encodeURIComponent('井盖缺失')}`, { token: api.tokens.office })).body.items;
    expect(listed).toHaveLength(1);
    const other = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: { ...body, title: '别的' }, headers });
    expect(other.status).toBe(409);
    expect(other.body.error.details[0].path).toBe('header.idempotency-key');
    // The same key from another caller is another request.
    const elsewhere = await api.call('POST', '/api/v1/complaints', { body: { description: '路灯不亮' }, headers });
    expect(elsewhere.status).toBe(201);

    // A command retried with its key acts once: one acknowledgement on the timeline.
    const caseId = [...ids][0] as string;
    const ackHeaders = { 'idempotency-key': `ack-${caseId}` };
    const acks = await Promise.all(
      Array.from({ length: 4 }, () => api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge`, { token: api.tokens.CG, body: {}, headers: ackHeaders })),
    );
    expect(acks.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    const events = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.events;
    expect(events.filter((e: { action: string }) => e.action === 'task.acknowledged')).toHaveLength(1);
  });

  it('lists with filters, free text, sorting and cursor pages; exports CSV for the office', async () => {
    const made: string[] = [];
    for (const [i, over] of [
      { title: '解放路垃圾堆放', category: '环境卫生', severity: 'general', source: 'complaint', leadDepartment: 'JD' },
      { title: '中山路违章搭建', category: '违法建设', severity: 'major', source: 'media', leadDepartment: 'SJ', location: { address: '中山路 12 号' } },
      { title: '公园噪声', category: '噪声扰民', severity: 'general', source: 'hotline', leadDepartment: 'JD', cooperatingDepartments: ['CG'] },
    ].entries()) {
      const r = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: newCase(over) });
      expect(r.status, String(i)).toBe(201);
      made.push(r.body.caseId);
    }
    const get = async (query: string, token = api.tokens.office) => (await api.call('GET', `/api/v1/cases?${query}`, { token })).body;
    expect((await get('category=违法建设'.replace('违法建设', encodeURIComponent('违法建设')))).items.map((c: { id: string }) => c.id)).toEqual([made[1]]);
    expect((await get('severity=major&source=media')).items.map((c: { id: string }) => c.id)).toEqual([made[1]]);
    // Free text: a trigram match in the address, and a two-character word by scanning.
    expect((await get(`q=${encodeURIComponent('中山路 12')}`)).items.map((c: { id: string }) => c.id)).toEqual([made[1]]);
    expect((await get(`q=${encodeURIComponent('噪声')}`)).items.map((c: { id: string }) => c.id)).toEqual([made[2]]);
    expect((await get(`q=${encodeURIComponent('100%')}`)).items).toEqual([]);
    // A department sees its own cases only, whatever it asks for.
    const jd = (await get('limit=200', api.tokens.JD)).items.map((c: { id: string }) => c.id);
    expect(jd).toEqual(expect.arrayContaining([made[0], made[2]]));
    expect(jd).not.toContain(made[1]);
    expect((await get('department=SJ', api.tokens.JD)).items).toEqual([]);
    expect((await get('department=CG&limit=200')).items.map((c: { id: string }) => c.id)).toContain(made[2]);
    expect((await get('overdue=true')).items).toEqual([]);
    expect((await get('escalationLevel=1')).items).toEqual([]);

    // Pages: every case once, in order, whichever sort.
    for (const sort of ['-openedAt', 'openedAt', 'dueAt', '-dueAt']) {
      const all = (await get(`limit=200&sort=${sort}`)).items.map((c: { id: string }) => c.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await get(`limit=2&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
        paged.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged, sort).toEqual(all);
    }
    const dueAsc = (await get('limit=200&sort=dueAt')).items.map((c: { dueAt: string | null }) => c.dueAt).filter(Boolean);
    expect([...dueAsc].sort((a, b) => Date.parse(a) - Date.parse(b))).toEqual(dueAsc);
    const badCursor = await api.call('GET', '/api/v1/cases?cursor=nonsense', { token: api.tokens.office });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.details[0].path).toBe('querystring.cursor');
    // Any well-formed cursor is a position: the page after it, never a refusal.
    const anywhere = await api.call('GET', `/api/v1/cases?sort=openedAt&cursor=2000-01-01T00:00:00.000Z_DB-2000-000001`, { token: api.tokens.office });
    expect(anywhere.status).toBe(200);
    expect(anywhere.body.items.length).toBeGreaterThan(0);
    const range = await get(`openedFrom=2000-01-01&openedTo=2000-01-02`);
    expect(range.items).toEqual([]);

    const csv = await fetch(`${api.url}/api/v1/cases/export.csv?severity=major`, { headers: { authorization: `Bearer ${api.tokens.office}` } });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('id,title,category,severity,source,status,leadDepartment,cooperatingDepartments,address,openedAt,dueAt,closedAt,overdue,escalationLevel');
    expect(lines.slice(1).every((l) => l.includes(',major,'))).toBe(true);
    expect(lines.some((l) => l.startsWith(made[1]!))).toBe(true);
    expect((await api.call('GET', '/api/v1/cases/export.csv', { token: api.tokens.CG })).status).toBe(403);
  });

  it('takes complaints from the public, tracks them by code without personal data, and triages them', async () => {
    const filed = await api.call('POST', '/api/v1/complaints', {
      body: {
        description: '解放路 5 号门口垃圾三天没人清运',
        category: '环境卫生',
        location: { address: '解放路 5 号', lat: 30.25, lng: 120.16 },
        contact: { name: '李四', phone: '13800000000' },
        evidence: [{ url: 'https://example.org/rubbish.jpg' }],
      },
    });
    expect(filed.status).toBe(201);
    const code = filed.body.trackingCode as string;
    expect(code).toMatch(/^TS-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const tracked = await api.call('GET', `/api/v1/complaints/${code}`);
    expect(tracked.body).toMatchObject({ status: 'received', address: '解放路 5 号', case: null });
    expect(tracked.text).not.toContain('13800000000');
    expect(tracked.text).not.toContain('李四');

    const queue = await api.call('GET', `/api/v1/complaints?status=received&trackingCode=${code}`, { token: api.tokens.office });
    expect(queue.body[0].contact).toEqual({ name: '李四', phone: '13800000000' });
    expect((await api.call('GET', '/api/v1/complaints', { token: api.tokens.CG })).status).toBe(403);

    const conversion = { category: '环境卫生', severity: 'serious', leadDepartment: 'JD' };
    const [first, second] = await Promise.all([
      api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion }),
      api.call('POST', `/api/v1/complaints/${code}/convert`, { token: api.tokens.office, body: conversion }),
    ]);
    expect(first.status).toBe(200);
    expect(second.body.case.id).toBe(first.body.case.id);
    const caseId = first.body.case.id as string;
    const kase = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.case;
    expect(kase).toMatchObject({ source: 'complaint', complaintCode: code, leadDepartment: 'JD' });
    const followed = (await api.call('GET', `/api/v1/complaints/${code}`)).body;
    expect(followed).toMatchObject({ status: 'in_progress', case: { id: caseId, agencyResponsible: '部门 JD' } });
    expect(followed.case.expectedAt).toMatch(/\+08:00$/);

    const other = (await api.call('POST', '/api/v1/complaints', { body: { description: '重复投诉' } })).body.trackingCode;
    const dismissed = await api.call('POST', `/api/v1/complaints/${other}/dismiss`, { token: api.tokens.office, body: { reason: '与 TS 重复' } });
    expect(dismissed.body.status).toBe('dismissed');
    expect((await api.call('GET', `/api/v1/complaints/${other}`)).body).toMatchObject({ status: 'dismissed', dismissReason: '与 TS 重复' });
    expect((await api.call('POST', `/api/v1/complaints/${other}/convert`, { token: api.tokens.office, body: conversion })).status).toBe(409);
    expect((await api.call('GET', '/api/v1/complaints/TS-00000-00000')).status).toBe(404);
  });

  it('speaks Open311 GeoReport v2 for complaints and their cases', async () => {
    const services = (await api.call('GET', '/open311/v2/services.json')).body;
    expect(services.map((s: { service_code: string }) => s.service_code)).toContain('sanitation');
    const form = new URLSearchParams({
      service_code: 'municipal-facilities',
      lat: '30.26',
      long: '120.17',
      address_string: '延安路与庆春路口',
      description: '井盖松动，车辆经过有响声',
      email: 'resident@example.org',
      first_name: '五',
      last_name: '王',
      media_url: 'https://example.org/cover.jpg',
    });
    const posted = await api.call('POST', '/open311/v2/requests.json', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(posted.status).toBe(201);
    const id = posted.body[0].service_request_id as string;
    const one = (await api.call('GET', `/open311/v2/requests/${id}.json`)).body[0];
    expect(one).toMatchObject({
      service_request_id: id,
      status: 'open',
      service_code: 'municipal-facilities',
      address: '延安路与庆春路口',
      lat: 30.26,
      long: 120.17,
      media_url: 'https://example.org/cover.jpg',
      agency_responsible: null,
    });
    expect(JSON.stringify(one)).not.toContain('resident@example.org');
    expect((await api.call('GET', `/open311/v2/tokens/${id}.json`)).body).toEqual([{ service_request_id: id, token: id }]);
    await api.call('POST', `/api/v1/complaints/${id}/convert`, {
      token: api.tokens.office,
      body: { category: '市政设施', severity: 'major', leadDepartment: 'SJ' },
    });
    const converted = (await api.call('GET', `/open311/v2/requests/${id}.json`)).body[0];
    expect(converted).toMatchObject({ status: 'open', agency_responsible: '部门 SJ' });
    expect(converted.expected_datetime).toMatch(/\+08:00$/);
    // The public list names it by its case, never by the tracking code.
    const caseId = converted.status_notes.match(/DB-\d{4}-\d{6}/)[0] as string;
    const listed = (await api.call('GET', '/open311/v2/requests.json?service_code=municipal-facilities')).body;
    expect(listed.map((r: { service_request_id: string }) => r.service_request_id)).toContain(caseId);
    expect(JSON.stringify(listed)).not.toContain(id);
    expect((await api.call('GET', '/open311/v2/requests.json?status=closed')).body.map((r: { service_request_id: string }) => r.service_request_id)).not.toContain(caseId);

    const missing = await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'noise', description: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual([{ code: 400, description: expect.stringContaining('lat') }]);
    const badService = await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'nope', description: 'x', lat: 1, long: 1 } });
    expect(badService.status).toBe(400);
    expect(badService.body[0].code).toBe(400);
    expect((await api.call('GET', '/open311/v2/requests/TS-00000-00000.json')).body).toEqual([{ code: 404, description: expect.any(String) }]);
  });

  it('rate limits complaints per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await api.call('POST', '/api/v1/complaints', { body: { description: `第 ${i} 次` } })).status);
    }
    expect(statuses).toContain(429);
    const limited = await api.call('POST', '/api/v1/complaints', { body: { description: 'again' } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
