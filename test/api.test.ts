import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../scripts/generate-api-types';
import type { components, operations } from './generated/openapi';
import { type ApiStack, dataOf, idempotent, type JsonBody, pngBytes, startApiStack } from './support/api';

// Requests go through the client typed by the OpenAPI document (test/support/api.ts), so that a
// route, a field or a response shape changed without these tests fails the typecheck. Raw fetch
// (`api.call`, `fetch`) is kept for what the document forbids or does not describe, said where.

type CaseInput = JsonBody<'/api/v1/cases', 'post'>;
type CaseQuery = NonNullable<operations['listCases']['parameters']['query']>;

const newCase = (over: Partial<CaseInput> = {}): CaseInput => ({
  title: '人民路占道经营',
  description: '夜市摊点占用人行道',
  category: '市容秩序',
  severity: 'serious',
  source: 'inspection',
  leadDepartment: 'CG',
  location: { address: '人民路 88 号', lat: 30.27, lng: 120.15 },
  ...over,
});

type StoredFiles = operations['uploadEvidence']['responses'][201]['content']['application/json'];

/**
 * Uploads by raw multipart fetch: the document names the media type of uploads but not their
 * parts, so the typed client has no body to send. The answer is typed by the document still.
 */
async function upload(api: ApiStack, token: string | undefined, files: { name: string; bytes: Buffer; type?: string }[]) {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([f.bytes], { type: f.type ?? 'application/octet-stream' }), f.name);
  const response = await fetch(`${api.url}/api/v1/evidence`, {
    method: 'POST',
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body: unknown = await response.json();
  return response.ok
    ? { status: response.status, data: body as StoredFiles, error: undefined }
    : { status: response.status, data: undefined, error: body as components['schemas']['Error'] };
}

describe('HTTP API over real HTTP', () => {
  let api: ApiStack;
  beforeAll(async () => {
    // Rate limits have tests of their own (public-data.test.ts): here they stay out of the way.
    api = await startApiStack();
  });
  afterAll(() => api?.close());

  it('serves health, readiness, the OpenAPI document and the docs page', async () => {
    expect((await api.as.public.GET('/healthz')).data).toEqual({ status: 'ok' });
    expect((await api.as.public.GET('/readyz')).data).toMatchObject({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } });
    // The document and the docs page are not operations of the document: raw fetch.
    const doc = (await api.call('GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    // The typed client's types are generated from the document built offline (no server, no
    // Temporal): it is the one served.
    expect(await buildOpenApiDocument()).toEqual(doc);
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
    const opened = await api.as.office.POST('/api/v1/cases', { body: newCase() });
    expect(opened.response.status).toBe(201);
    const caseId = dataOf(opened).caseId;
    expect(opened.response.headers.get('location')).toBe(`/api/v1/cases/${caseId}`);
    const task = { path: { caseId, taskId: `${caseId}-T1` } };

    const ack = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { params: task, body: { note: '收到' } });
    expect(ack.response.status).toBe(200);
    expect(ack.data).toMatchObject({ status: 'acknowledged', departmentCode: 'CG' });
    expect(ack.data?.rectificationDueAt).toMatch(/\+08:00$/);

    const photo = await upload(api, api.tokens.CG, [{ name: '整改后.png', bytes: pngBytes }]);
    expect(photo.status).toBe(201);
    const stored = photo.data![0]!;
    expect(stored).toMatchObject({ name: '整改后.png', mediaType: 'image/png', size: pngBytes.length });
    const submitted = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', {
      params: task,
      body: { report: '已清理全部摊点', evidence: [{ file: stored.file, note: '整改后' }] },
    });
    expect(submitted.response.status).toBe(200);
    expect(submitted.data?.lastSubmission?.evidence[0]).toMatchObject({ kind: 'file', sha256: stored.sha256 });

    const accepted = await api.as.office.POST('/api/v1/cases/{caseId}/tasks/{taskId}/verify', { params: task, body: { decision: 'accept' } });
    expect(accepted.data?.status).toBe('accepted');
    await api.env.client.workflow.getHandle(caseId).result();
    const shown = dataOf(await api.as.CG.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    expect(shown.case.status).toBe('closed');
    expect(shown.events.map((e) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.submitted',
      'task.accepted',
      'case.closed',
    ]);
    // The photo is served to those who may see the case, and to nobody else.
    const file = { params: { path: { sha256: stored.sha256 } }, parseAs: 'arrayBuffer' } as const;
    const mine = await api.as.CG.GET('/api/v1/evidence/{sha256}', file);
    expect(mine.response.status).toBe(200);
    expect(mine.response.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(dataOf(mine)).equals(pngBytes)).toBe(true);
    expect((await api.as.JD.GET('/api/v1/evidence/{sha256}', file)).response.status).toBe(404);
    expect((await api.as.office.GET('/api/v1/evidence/{sha256}', file)).response.status).toBe(200);
    expect((await api.as.public.GET('/api/v1/evidence/{sha256}', file)).response.status).toBe(401);
  });

  it('answers every error in one JSON shape, naming the field, and changes nothing', async () => {
    const count = async () => dataOf(await api.as.office.GET('/api/v1/cases', { params: { query: { limit: 200 } } })).items.length;
    const before = await count();
    // Raw: a body of the wrong type and an empty title, which the document forbids.
    const malformed = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: { ...newCase(), severity: 'urgent', title: '' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('bad_request');
    expect(malformed.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['body.severity', 'body.title']);
    expect(malformed.body.error.details[0].message).toMatch(/\//);
    const unknownDept = await api.as.office.POST('/api/v1/cases', { body: newCase({ leadDepartment: 'NOPE' }) });
    expect(unknownDept.response.status).toBe(409);
    expect(unknownDept.error?.error).toMatchObject({ code: 'invalid_state', details: [{ path: 'leadDepartment' }] });
    // Raw: malformed JSON, and a content type the document does not list.
    const notJson = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: '{"title": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('bad_request');
    const wrongType = await api.call('POST', '/api/v1/cases', { token: api.tokens.office, body: 'title=x', headers: { 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('unsupported_media_type');
    const tooBig = await api.as.office.POST('/api/v1/cases', { body: newCase({ description: 'x'.repeat(1_100_000) }) });
    expect(tooBig.response.status).toBe(413);
    expect(tooBig.error?.error.code).toBe('payload_too_large');
    const badToken = await api.client('dbn_nope').GET('/api/v1/cases');
    expect(badToken.response.status).toBe(401);
    expect(badToken.error?.error.code).toBe('unauthorized');
    const missing = await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId: 'DB-2026-999999' } } });
    expect(missing.response.status).toBe(404);
    // Raw: a path the document does not have.
    const noRoute = await api.call('GET', '/api/v1/nothing-here', { token: api.tokens.office });
    expect(noRoute.body.error.code).toBe('not_found');
    for (const text of [malformed.text, JSON.stringify(unknownDept.error), notJson.text, wrongType.text, JSON.stringify(tooBig.error), JSON.stringify(badToken.error), JSON.stringify(missing.error)]) {
      expect(text).not.toMatch(/at .*\.js:\d+/);
    }

    // A command the state does not allow: 409; a department's own case but an office command: 403.
    const { caseId } = dataOf(await api.as.office.POST('/api/v1/cases', { body: newCase() }));
    const task = { path: { caseId, taskId: `${caseId}-T1` } };
    const early = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', {
      params: task,
      body: { report: 'x', evidence: [{ url: 'https://example.org/a.jpg' }] },
    });
    expect(early.response.status).toBe(409);
    expect(early.error?.error.code).toBe('invalid_state');
    const notMine = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/verify', { params: task, body: { decision: 'accept' } });
    expect(notMine.response.status).toBe(403);
    const unknownFile = await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/progress', {
      params: task,
      body: { note: 'x', evidence: [{ file: `sha256:${'0'.repeat(64)}` }] },
    });
    expect(unknownFile.response.status).toBe(409);
    expect(unknownFile.error?.error.details[0]?.path).toBe('evidence[0].file');
    expect(await count()).toBe(before + 1);
    expect(dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } })).events).toHaveLength(2);
  });

  it('refuses uploads that are too large or not evidence, sniffing the content rather than the name', async () => {
    const fake = await upload(api, api.tokens.CG, [{ name: 'photo.jpg', bytes: Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff\x00\x00\xb8', 'latin1') }]);
    expect(fake.status).toBe(415);
    expect(fake.error?.error.details[0]?.path).toBe('file[0]');
    expect(fake.error?.error.message).toContain('application/');
    const big = await upload(api, api.tokens.CG, [{ name: 'big.png', bytes: Buffer.concat([pngBytes, Buffer.alloc(21 * 1024 * 1024)]) }]);
    expect(big.status).toBe(413);
    expect(big.error?.error.code).toBe('payload_too_large');
    const textFile = await upload(api, api.tokens.CG, [{ name: 'notes.exe', bytes: Buffer.from('整改说明：已清理。') }]);
    expect(textFile.status).toBe(201);
    expect(textFile.data?.[0]?.mediaType).toBe('text/plain');
    expect((await upload(api, undefined, [{ name: 'a.png', bytes: pngBytes }])).status).toBe(401);
  });

  it('replays the first response to a retried Idempotency-Key, even under concurrent retries, and refuses another body', async () => {
    const key = `open-${Date.now()}`;
    const body = newCase({ title: '井盖缺失', category: '市政设施' });
    const responses = await Promise.all(Array.from({ length: 8 }, () => api.as.office.POST('/api/v1/cases', { params: idempotent(key), body })));
    const ids = new Set(responses.map((r) => r.data?.caseId));
    expect(responses.map((r) => r.response.status)).toEqual(Array(8).fill(201));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.response.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    const listed = dataOf(await api.as.office.GET('/api/v1/cases', { params: { query: { q: '井盖缺失' } } })).items;
    expect(listed).toHaveLength(1);
    const other = await api.as.office.POST('/api/v1/cases', { params: idempotent(key), body: { ...body, title: '别的' } });
    expect(other.response.status).toBe(409);
    expect(other.error?.error.details[0]?.path).toBe('header.idempotency-key');
    // The same key from another caller is another request. (The public's route does not declare
    // the header, since it ignores it: it goes as a plain header.)
    const elsewhere = await api.as.public.POST('/api/v1/complaints', { body: { description: '路灯不亮' }, headers: { 'idempotency-key': key } });
    expect(elsewhere.response.status).toBe(201);

    // A command retried with its key acts once: one acknowledgement on the timeline.
    const caseId = [...ids][0]!;
    const acks = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', {
          params: { ...idempotent(`ack-${caseId}`), path: { caseId, taskId: `${caseId}-T1` } },
          body: {},
        }),
      ),
    );
    expect(acks.map((a) => a.response.status)).toEqual([200, 200, 200, 200]);
    const { events } = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    expect(events.filter((e) => e.action === 'task.acknowledged')).toHaveLength(1);
  });

  it('lists with filters, free text, sorting and cursor pages; exports CSV for the office', async () => {
    const made: string[] = [];
    const kinds: Partial<CaseInput>[] = [
      { title: '解放路垃圾堆放', category: '环境卫生', severity: 'general', source: 'complaint', leadDepartment: 'JD' },
      { title: '中山路违章搭建', category: '违法建设', severity: 'major', source: 'media', leadDepartment: 'SJ', location: { address: '中山路 12 号' } },
      { title: '公园噪声', category: '噪声扰民', severity: 'general', source: 'hotline', leadDepartment: 'JD', cooperatingDepartments: ['CG'] },
    ];
    for (const [i, over] of kinds.entries()) {
      const r = await api.as.office.POST('/api/v1/cases', { body: newCase(over) });
      expect(r.response.status, String(i)).toBe(201);
      made.push(dataOf(r).caseId);
    }
    // The client encodes the query (Chinese text, `%`) as the document's parameters say.
    const get = async (query: CaseQuery, as = api.as.office) => dataOf(await as.GET('/api/v1/cases', { params: { query } }));
    const ids = (page: { items: { id: string }[] }) => page.items.map((c) => c.id);
    expect(ids(await get({ category: '违法建设' }))).toEqual([made[1]]);
    expect(ids(await get({ severity: 'major', source: 'media' }))).toEqual([made[1]]);
    // Free text: a trigram match in the address, and a two-character word by scanning.
    expect(ids(await get({ q: '中山路 12' }))).toEqual([made[1]]);
    expect(ids(await get({ q: '噪声' }))).toEqual([made[2]]);
    expect((await get({ q: '100%' })).items).toEqual([]);
    // A department sees its own cases only, whatever it asks for.
    const jd = ids(await get({ limit: 200 }, api.as.JD));
    expect(jd).toEqual(expect.arrayContaining([made[0], made[2]]));
    expect(jd).not.toContain(made[1]);
    expect((await get({ department: 'SJ' }, api.as.JD)).items).toEqual([]);
    expect(ids(await get({ department: 'CG', limit: 200 }))).toContain(made[2]);
    expect((await get({ overdue: 'true' })).items).toEqual([]);
    expect((await get({ escalationLevel: 1 })).items).toEqual([]);

    // Pages: every case once, in order, whichever sort.
    for (const sort of ['-openedAt', 'openedAt', 'dueAt', '-dueAt'] as const) {
      const all = ids(await get({ limit: 200, sort }));
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; nextCursor: string | null } = await get({ limit: 2, sort, ...(cursor ? { cursor } : {}) });
        paged.push(...ids(page));
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged, sort).toEqual(all);
    }
    const dueAsc = (await get({ limit: 200, sort: 'dueAt' })).items.map((c) => c.dueAt).filter((d) => d !== null);
    expect([...dueAsc].sort((a, b) => Date.parse(a) - Date.parse(b))).toEqual(dueAsc);
    const badCursor = await api.as.office.GET('/api/v1/cases', { params: { query: { cursor: 'nonsense' } } });
    expect(badCursor.response.status).toBe(400);
    expect(badCursor.error?.error.details[0]?.path).toBe('querystring.cursor');
    // Any well-formed cursor is a position: the page after it, never a refusal.
    const anywhere = await api.as.office.GET('/api/v1/cases', { params: { query: { sort: 'openedAt', cursor: '2000-01-01T00:00:00.000Z_DB-2000-000001' } } });
    expect(anywhere.response.status).toBe(200);
    expect(dataOf(anywhere).items.length).toBeGreaterThan(0);
    const range = await get({ openedFrom: '2000-01-01', openedTo: '2000-01-02' });
    expect(range.items).toEqual([]);

    const csv = await api.as.office.GET('/api/v1/cases/export.csv', { params: { query: { severity: 'major' } }, parseAs: 'text' });
    expect(csv.response.status).toBe(200);
    expect(csv.response.headers.get('content-type')).toContain('text/csv');
    const lines = dataOf(csv).replace(/^\uFEFF/, '').trim().split('\n');
    expect(lines[0]).toBe('id,title,category,severity,source,status,leadDepartment,cooperatingDepartments,address,openedAt,dueAt,closedAt,overdue,escalationLevel');
    // Exactly the major cases, each once: the list's own answer to the same filter.
    const major = dataOf(await api.as.office.GET('/api/v1/cases', { params: { query: { severity: 'major', limit: 200 } } })).items.map((c) => c.id);
    expect(major).toContain(made[1]);
    expect(lines.slice(1).map((l) => l.split(',')[0]).sort()).toEqual([...major].sort());
    expect(lines.slice(1).every((l) => l.includes(',major,'))).toBe(true);
    expect((await api.as.CG.GET('/api/v1/cases/export.csv', { parseAs: 'text' })).response.status).toBe(403);
  });

  it('takes complaints from the public, tracks them by code without personal data, and triages them', async () => {
    const filed = await api.as.public.POST('/api/v1/complaints', {
      body: {
        description: '解放路 5 号门口垃圾三天没人清运',
        category: '环境卫生',
        location: { address: '解放路 5 号', lat: 30.25, lng: 120.16 },
        contact: { name: '李四', phone: '13800000000' },
        evidence: [{ url: 'https://example.org/rubbish.jpg' }],
      },
    });
    expect(filed.response.status).toBe(201);
    const code = dataOf(filed).trackingCode;
    expect(code).toMatch(/^TS-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    const complaint = { params: { path: { trackingCode: code } } };
    const tracked = dataOf(await api.as.public.GET('/api/v1/complaints/{trackingCode}', complaint));
    expect(tracked).toMatchObject({ status: 'received', address: '解放路 5 号', case: null });
    expect(JSON.stringify(tracked)).not.toContain('13800000000');
    expect(JSON.stringify(tracked)).not.toContain('李四');

    const queue = dataOf(await api.as.office.GET('/api/v1/complaints', { params: { query: { status: 'received', trackingCode: code } } }));
    expect(queue[0]?.contact).toEqual({ name: '李四', phone: '13800000000' });
    expect((await api.as.CG.GET('/api/v1/complaints')).response.status).toBe(403);

    const conversion: JsonBody<'/api/v1/complaints/{trackingCode}/convert', 'post'> = { title: '解放路垃圾未清运', category: '环境卫生', severity: 'serious', leadDepartment: 'JD' };
    const [first, second] = await Promise.all([
      api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', { ...complaint, body: conversion }),
      api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', { ...complaint, body: conversion }),
    ]);
    expect(first.response.status).toBe(200);
    const caseId = dataOf(first).case!.id;
    expect(second.data?.case?.id).toBe(caseId);
    const kase = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } })).case;
    expect(kase).toMatchObject({ source: 'complaint', complaintCode: code, leadDepartment: 'JD' });
    const followed = dataOf(await api.as.public.GET('/api/v1/complaints/{trackingCode}', complaint));
    expect(followed).toMatchObject({ status: 'in_progress', case: { id: caseId, agencyResponsible: '部门 JD' } });
    expect(followed.case?.expectedAt).toMatch(/\+08:00$/);

    const other = { params: { path: { trackingCode: dataOf(await api.as.public.POST('/api/v1/complaints', { body: { description: '重复投诉' } })).trackingCode } } };
    const dismissed = await api.as.office.POST('/api/v1/complaints/{trackingCode}/dismiss', { ...other, body: { reason: '与 TS 重复' } });
    expect(dismissed.data?.status).toBe('dismissed');
    expect((await api.as.public.GET('/api/v1/complaints/{trackingCode}', other)).data).toMatchObject({ status: 'dismissed', dismissReason: '与 TS 重复' });
    expect((await api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', { ...other, body: conversion })).response.status).toBe(409);
    expect((await api.as.public.GET('/api/v1/complaints/{trackingCode}', { params: { path: { trackingCode: 'TS-00000-00000' } } })).response.status).toBe(404);
  });

  it('speaks Open311 GeoReport v2 for complaints and their cases', async () => {
    const services = dataOf(await api.as.public.GET('/open311/v2/services.json'));
    expect(services.map((s) => s.service_code)).toContain('sanitation');
    // Form-encoded, as GeoReport clients send it (the client encodes the body as a form for this content type).
    const posted = await api.as.public.POST('/open311/v2/requests.json', {
      body: {
        service_code: 'municipal-facilities',
        lat: 30.26,
        long: 120.17,
        address_string: '延安路与庆春路口',
        description: '井盖松动，车辆经过有响声',
        email: 'resident@example.org',
        first_name: '五',
        last_name: '王',
        media_url: 'https://example.org/cover.jpg',
      },
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(posted.response.status).toBe(201);
    const id = dataOf(posted)[0]!.service_request_id;
    const request = { params: { path: { id } } };
    const one = dataOf(await api.as.public.GET('/open311/v2/requests/{id}.json', request))[0];
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
    expect((await api.as.public.GET('/open311/v2/tokens/{token}.json', { params: { path: { token: id } } })).data).toEqual([{ service_request_id: id, token: id }]);
    await api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', {
      params: { path: { trackingCode: id } },
      body: { title: '延安路井盖松动', category: '市政设施', severity: 'major', leadDepartment: 'SJ' },
    });
    const converted = dataOf(await api.as.public.GET('/open311/v2/requests/{id}.json', request))[0]!;
    expect(converted).toMatchObject({ status: 'open', agency_responsible: '部门 SJ' });
    expect(converted.expected_datetime).toMatch(/\+08:00$/);
    // The public list names it by its case, never by the tracking code.
    const caseId = /DB-\d{4}-\d{6}/.exec(converted.status_notes ?? '')![0];
    const listed = dataOf(await api.as.public.GET('/open311/v2/requests.json', { params: { query: { service_code: 'municipal-facilities' } } }));
    expect(listed.map((r) => r.service_request_id)).toContain(caseId);
    expect(JSON.stringify(listed)).not.toContain(id);
    const closed = dataOf(await api.as.public.GET('/open311/v2/requests.json', { params: { query: { status: 'closed' } } }));
    expect(closed.map((r) => r.service_request_id)).not.toContain(caseId);

    // Raw: without a location, and with an unknown service, both of which the document forbids.
    const missing = await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'noise', description: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual([{ code: 400, description: expect.stringContaining('lat') }]);
    const badService = await api.call('POST', '/open311/v2/requests.json', { body: { service_code: 'nope', description: 'x', lat: 1, long: 1 } });
    expect(badService.status).toBe(400);
    expect(badService.body[0].code).toBe(400);
    expect((await api.as.public.GET('/open311/v2/requests/{id}.json', { params: { path: { id: 'TS-00000-00000' } } })).error).toEqual([
      { code: 404, description: expect.any(String) },
    ]);
  });
});
