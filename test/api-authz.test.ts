import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../services/token.service';
import { type ApiStack, pngBytes, startApiStack } from './support/api';

type Who = 'public' | 'badToken' | 'office' | 'ownDept' | 'otherDept';
const everyone: Who[] = ['public', 'badToken', 'office', 'ownDept', 'otherDept'];

interface Row {
  method: string;
  /** The route as the OpenAPI document names it. */
  route: string;
  /** Builds a fresh request (a new case where the command changes state). */
  prepare: (api: ApiStack) => Promise<{ path: string; body?: unknown; multipart?: boolean }>;
  expect: Record<Who, number>;
}

type Step = { path: string; body: unknown; who: 'office' | 'CG' };

const ownCase = async (api: ApiStack, steps: Step[] = []) => {
  const opened = await api.call('POST', '/api/v1/cases', {
    token: api.tokens.office,
    body: { title: '权限矩阵', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
  });
  const caseId = opened.body.caseId as string;
  const task = `/api/v1/cases/${caseId}/tasks/${caseId}-T1`;
  for (const step of steps) {
    const r = await api.call('POST', `${task}/${step.path}`, { token: api.tokens[step.who === 'office' ? 'office' : 'CG'], body: step.body });
    if (r.status !== 200) throw new Error(`setup ${step.path}: ${r.status} ${r.text}`);
  }
  return { caseId, task };
};

const ack: Step = { path: 'acknowledge', body: {}, who: 'CG' };
const submit: Step = { path: 'submit', body: { report: '已整改', evidence: [{ url: 'https://example.org/a.jpg' }] }, who: 'CG' };
const byRole = (office: number, ownDept: number, otherDept: number, publicStatus = 401): Record<Who, number> => ({
  public: publicStatus,
  badToken: 401,
  office,
  ownDept,
  otherDept,
});
const open = (status: number): Record<Who, number> => ({ ...byRole(status, status, status, status), badToken: 401 });

const taskCommand = (path: string, body: unknown, expect: Record<Who, number>, steps: Step[] = []): Row => ({
  method: 'POST',
  route: `/api/v1/cases/{caseId}/tasks/{taskId}/${path}`,
  prepare: async (api) => ({ path: `${(await ownCase(api, steps)).task}/${path}`, body }),
  expect,
});

let departmentSeq = 0;
let sharedFile = '';
let sharedCase = '';

const rows: Row[] = [
  { method: 'GET', route: '/healthz', prepare: async () => ({ path: '/healthz' }), expect: open(200) },
  { method: 'GET', route: '/readyz', prepare: async () => ({ path: '/readyz' }), expect: open(200) },
  { method: 'GET', route: '/api/v1/departments', prepare: async () => ({ path: '/api/v1/departments' }), expect: byRole(200, 200, 200) },
  {
    method: 'POST',
    route: '/api/v1/departments',
    prepare: async () => ({ path: '/api/v1/departments', body: { code: `D${++departmentSeq}X`, name: '新部门' } }),
    expect: byRole(201, 403, 403),
  },
  {
    method: 'POST',
    route: '/api/v1/cases',
    prepare: async () => ({
      path: '/api/v1/cases',
      body: { title: 't', category: 'c', severity: 'major', source: 'other', leadDepartment: 'CG' },
    }),
    expect: byRole(201, 403, 403),
  },
  { method: 'GET', route: '/api/v1/cases', prepare: async () => ({ path: '/api/v1/cases' }), expect: byRole(200, 200, 200) },
  { method: 'GET', route: '/api/v1/cases/export.csv', prepare: async () => ({ path: '/api/v1/cases/export.csv' }), expect: byRole(200, 403, 403) },
  {
    method: 'GET',
    route: '/api/v1/cases/{caseId}',
    prepare: async (api) => ({ path: `/api/v1/cases/${(await ownCase(api)).caseId}` }),
    expect: byRole(200, 200, 404),
  },
  {
    method: 'POST',
    route: '/api/v1/cases/{caseId}/withdraw',
    prepare: async (api) => ({ path: `/api/v1/cases/${(await ownCase(api)).caseId}/withdraw`, body: { reason: '测试' } }),
    expect: byRole(200, 403, 403),
  },
  {
    method: 'POST',
    route: '/api/v1/cases/{caseId}/reassign',
    prepare: async (api) => {
      const { caseId } = await ownCase(api);
      return { path: `/api/v1/cases/${caseId}/reassign`, body: { taskId: `${caseId}-T1`, toDepartment: 'JD', reason: '转办' } };
    },
    expect: byRole(200, 403, 403),
  },
  taskCommand('acknowledge', {}, byRole(403, 200, 404)),
  taskCommand('progress', { note: '进行中' }, byRole(403, 200, 404), [ack]),
  taskCommand('submit', submit.body, byRole(403, 200, 404), [ack]),
  taskCommand('verify', { decision: 'accept' }, byRole(200, 403, 403), [ack, submit]),
  taskCommand('extension-request', { workingDays: 2, reason: '需要' }, byRole(403, 200, 404)),
  taskCommand('extension-decision', { decision: 'approve' }, byRole(200, 403, 403), [
    { path: 'extension-request', body: { workingDays: 2, reason: '需要' }, who: 'CG' },
  ]),
  taskCommand('transfer-request', { reason: '不归本部门' }, byRole(403, 200, 404)),
  taskCommand('transfer-rejection', { comment: '仍由你办' }, byRole(200, 403, 403), [
    { path: 'transfer-request', body: { reason: '不归本部门' }, who: 'CG' },
  ]),
  taskCommand('suspend', { reason: '等待审批' }, byRole(200, 403, 403)),
  taskCommand('resume', {}, byRole(200, 403, 403), [{ path: 'suspend', body: { reason: '等待审批' }, who: 'office' }]),
  { method: 'POST', route: '/api/v1/evidence', prepare: async () => ({ path: '/api/v1/evidence', multipart: true }), expect: byRole(201, 201, 201) },
  {
    method: 'GET',
    route: '/api/v1/evidence/{sha256}',
    prepare: async () => ({ path: `/api/v1/evidence/${sharedFile}` }),
    expect: byRole(200, 200, 404),
  },
  { method: 'POST', route: '/api/v1/complaints', prepare: async () => ({ path: '/api/v1/complaints', body: { description: '投诉' } }), expect: open(201) },
  {
    method: 'GET',
    route: '/api/v1/complaints/{trackingCode}',
    prepare: async (api) => ({ path: `/api/v1/complaints/${(await api.call('POST', '/api/v1/complaints', { body: { description: 'x' } })).body.trackingCode}` }),
    expect: open(200),
  },
  { method: 'GET', route: '/api/v1/complaints', prepare: async () => ({ path: '/api/v1/complaints' }), expect: byRole(200, 403, 403) },
  {
    method: 'POST',
    route: '/api/v1/complaints/{trackingCode}/convert',
    prepare: async (api) => {
      const code = (await api.call('POST', '/api/v1/complaints', { body: { description: 'x' } })).body.trackingCode;
      return { path: `/api/v1/complaints/${code}/convert`, body: { category: '其他', severity: 'general', leadDepartment: 'CG' } };
    },
    expect: byRole(200, 403, 403),
  },
  {
    method: 'POST',
    route: '/api/v1/complaints/{trackingCode}/dismiss',
    prepare: async (api) => {
      const code = (await api.call('POST', '/api/v1/complaints', { body: { description: 'x' } })).body.trackingCode;
      return { path: `/api/v1/complaints/${code}/dismiss`, body: { reason: '重复' } };
    },
    expect: byRole(200, 403, 403),
  },
  ...(['json', 'xml'] as const).flatMap((format): Row[] => [
    { method: 'GET', route: `/open311/discovery.${format}`, prepare: async () => ({ path: `/open311/discovery.${format}` }), expect: open(200) },
    { method: 'GET', route: `/open311/v2/services.${format}`, prepare: async () => ({ path: `/open311/v2/services.${format}` }), expect: open(200) },
    {
      method: 'GET',
      route: `/open311/v2/services/{service_code}.${format}`,
      prepare: async () => ({ path: `/open311/v2/services/noise.${format}` }),
      expect: open(200),
    },
    { method: 'GET', route: `/open311/v2/requests.${format}`, prepare: async () => ({ path: `/open311/v2/requests.${format}` }), expect: open(200) },
    {
      method: 'POST',
      route: `/open311/v2/requests.${format}`,
      prepare: async () => ({ path: `/open311/v2/requests.${format}`, body: { service_code: 'noise', description: '夜间施工', lat: 30.2, long: 120.1 } }),
      expect: open(201),
    },
    {
      method: 'GET',
      route: `/open311/v2/requests/{id}.${format}`,
      prepare: async (api) => ({ path: `/open311/v2/requests/${(await api.call('POST', '/api/v1/complaints', { body: { description: 'x' } })).body.trackingCode}.${format}` }),
      expect: open(200),
    },
    {
      method: 'GET',
      route: `/open311/v2/tokens/{token}.${format}`,
      prepare: async (api) => ({ path: `/open311/v2/tokens/${(await api.call('POST', '/api/v1/complaints', { body: { description: 'x' } })).body.trackingCode}.${format}` }),
      expect: open(200),
    },
  ]),
];

describe('authorisation matrix: every route, every kind of caller', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
    // A file uploaded by CG and referred to by a case of CG's: the evidence row's subject.
    const form = new FormData();
    // Bytes of its own: whoever uploads the same bytes is one of the file's uploaders too.
    form.append('file', new Blob([Buffer.concat([pngBytes, Buffer.from('shared evidence')])]), 'a.png');
    const uploaded = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', body: form, headers: { authorization: `Bearer ${api.tokens.CG}` } });
    sharedFile = ((await uploaded.json()) as { sha256: string }[])[0]!.sha256;
    const { caseId } = await ownCase(api, [ack, { ...submit, body: { report: 'r', evidence: [{ file: `sha256:${sharedFile}` }] } }]);
    sharedCase = caseId;
  });
  afterAll(() => api?.close());

  it('covers every route of the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(rows.map((r) => `${r.method} ${r.route}`).sort()).toEqual(documented.sort());
    expect(sharedCase).toMatch(/^DB-/);
  });

  it.each(rows.flatMap((row) => everyone.map((who) => [`${row.method} ${row.route}`, who, row] as const)))(
    '%s as %s',
    async (_name, who, row) => {
      const request = await row.prepare(api);
      const token =
        who === 'office' ? api.tokens.office : who === 'ownDept' ? api.tokens.CG : who === 'otherDept' ? api.tokens.SJ : who === 'badToken' ? 'dbn_revoked' : undefined;
      let status: number;
      let text: string;
      if (request.multipart) {
        const form = new FormData();
        form.append('file', new Blob([pngBytes]), 'p.png');
        const response = await fetch(`${api.url}${request.path}`, { method: row.method, body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
        status = response.status;
        text = await response.text();
      } else {
        ({ status, text } = await api.call(row.method, request.path, { token, body: request.body }));
      }
      expect(status, text).toBe(row.expect[who]);
      if (status >= 400 && !row.route.startsWith('/open311')) expect(JSON.parse(text)).toHaveProperty('error.code');
    },
  );

  it('refuses a revoked token', async () => {
    const tokens = createTokenService({ db: api.db });
    const made = await tokens.create({ role: 'office', name: 'to revoke' });
    expect((await api.call('GET', '/api/v1/cases', { token: made.token })).status).toBe(200);
    await tokens.revoke(made.id);
    expect((await api.call('GET', '/api/v1/cases', { token: made.token })).status).toBe(401);
    const stored = await api.db.selectFrom('tokens').select('token_hash').where('id', '=', made.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(made.token.slice(4));
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
