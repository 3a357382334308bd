import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDeliveries, insertNotices, insertWebhookSubscriber } from '../db/notice.repository';
import { interviewIdFor, recordEscalations } from '../db/outbox.repository';
import { deliveryId } from '../services/notice.dispatcher';
import { createTokenService } from '../services/token.service';
import type { operations } from './generated/openapi';
import { type ApiClient, type ApiStack, dataOf, type OperationKey, pngBytes, startApiStack } from './support/api';
import { complaintCase } from './support/follow-up';

// Every request goes through the client typed by the OpenAPI document (test/support/api.ts), so a
// route renamed or a body changed fails the typecheck here too; only uploads go by raw fetch.

type Who = 'public' | 'badToken' | 'office' | 'ownDept' | 'otherDept';
const everyone: Who[] = ['public', 'badToken', 'office', 'ownDept', 'otherDept'];

/** What a request answered: the response, and its body parsed (the error body when it failed). */
type Answer = { response: Response; data?: unknown; error?: unknown };
/** Sends a prepared request as one caller: their typed client, and their token for raw uploads. */
type Send = (as: ApiClient, token: string | undefined) => Promise<Answer>;

interface Row {
  /** Makes what the request needs (a new case where the command changes state); returns how to send it. */
  prepare: (api: ApiStack) => Promise<Send>;
  expect: Record<Who, number>;
}

/** The path parameters of task T1 of a case. */
type OnTask = { params: { path: { caseId: string; taskId: string } } };
/** A setup step on a fresh case's task, sent as whoever must send it. */
type Step = (api: ApiStack, task: OnTask) => Promise<Answer>;

const ownCase = async (api: ApiStack, steps: Step[] = []) => {
  const opened = await api.as.office.POST('/api/v1/cases', {
    body: { title: '权限矩阵', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
  });
  const caseId = dataOf(opened).caseId;
  const task: OnTask = { params: { path: { caseId, taskId: `${caseId}-T1` } } };
  for (const step of steps) {
    const r = await step(api, task);
    if (r.response.status !== 200) throw new Error(`setup ${r.response.url}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return { caseId, task };
};

const submission = { report: '已整改', evidence: [{ url: 'https://example.org/a.jpg' }] };
const ack: Step = (api, task) => api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { ...task, body: {} });
const submit: Step = (api, task) => api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', { ...task, body: submission });
const byRole = (office: number, ownDept: number, otherDept: number, publicStatus = 401): Record<Who, number> => ({
  public: publicStatus,
  badToken: 401,
  office,
  ownDept,
  otherDept,
});
const open = (status: number): Record<Who, number> => ({ ...byRole(status, status, status, status), badToken: 401 });

/** A command on task T1 of a fresh case of CG's, after `steps`. */
const onTask =
  (steps: Step[], send: (as: ApiClient, task: OnTask) => Promise<Answer>): Row['prepare'] =>
  async (api) => {
    const { task } = await ownCase(api, steps);
    return (as) => send(as, task);
  };

/** A complaint freshly filed by the public: its tracking code. */
const newComplaint = async (api: ApiStack) => dataOf(await api.as.public.POST('/api/v1/complaints', { body: { description: 'x' } })).trackingCode;

type StoredFiles = operations['uploadEvidence']['responses'][201]['content']['application/json'];

/**
 * An upload by raw multipart fetch: the document names the media type of uploads but not their
 * parts, so the typed client has no body to send. Answered in the typed client's shape.
 */
async function upload(api: ApiStack, token: string | undefined, bytes: Buffer, name: string): Promise<Answer & { data?: StoredFiles }> {
  const form = new FormData();
  form.append('file', new Blob([bytes]), name);
  const response = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return response.ok ? { response, data: body as StoredFiles } : { response, error: body };
}

/** A delivery that failed for good, as the dispatcher leaves one: its id. */
let failedSeq = 0;
async function failedDelivery(api: ApiStack): Promise<string> {
  const key = `authz#${++failedSeq}`;
  const at = new Date().toISOString();
  await insertNotices(api.db, [
    { notice_key: key, case_id: 'DB-2026-000001', task_id: null, department_code: null, kind: 'alert', roles: '[]', urgent: 0, event_action: null, payload: '{}', event_at: at, status: 'planned', not_before: at, created_at: at },
  ]);
  // Its subscriber is still active: a retry is allowed.
  const subscriber = `wh_authz${String(failedSeq).padStart(3, '0')}`;
  await insertWebhookSubscriber(api.db, { id: subscriber, name: 'x', department_code: null, url: `https://example.org/${subscriber}`, active: 1, created_at: at });
  const deliveryKey = `${key}:${subscriber}:webhook`;
  await insertDeliveries(api.db, [
    { delivery_key: deliveryKey, id: deliveryId(deliveryKey), notice_key: key, recipient_kind: 'webhook', recipient_id: subscriber, recipient_name: 'x', role: null, channel: 'webhook', address: 'https://example.org', language: 'zh-CN', status: 'failed', attempts: 8, next_attempt_at: at, last_error: 'HTTP 503', claim_id: null, claimed_at: null, sent_at: null, created_at: at, updated_at: at },
  ]);
  return deliveryId(deliveryKey);
}
/** A person of CG's freshly added by the office: their id. */
const newPerson = async (api: ApiStack) =>
  dataOf(
    await api.as.office.POST('/api/v1/departments/{code}/people', {
      params: { path: { code: 'CG' } },
      body: { name: '张三', post: '科长', phone: '0571-88000001', email: 'zhang@example.org' },
    }),
  ).id;

let departmentSeq = 0;
let webhookSeq = 0;
let sharedFile = '';
let sharedCase = '';

/** XML answers are read as text; the typed client would parse JSON. */
const asText = { parseAs: 'text' } as const;

/** The period bulletins of the matrix are drafted for. */
const bulletinPeriod = { from: '2026-06-01', to: '2026-06-07' };
/** A bulletin draft made by the office: its id. */
const bulletinDraft = async (api: ApiStack) => dataOf(await api.as.office.POST('/api/v1/bulletins', { body: bulletinPeriod })).id;
/** A bulletin drafted and approved by the office: its id. */
async function publishedBulletin(api: ApiStack): Promise<string> {
  const id = await bulletinDraft(api);
  dataOf(await api.as.office.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id } } }));
  return id;
}
/** The interview a rung 4 on a fresh case of CG's calls for: its id. */
let interviewSeq = 0;
async function interviewOfCg(api: ApiStack): Promise<string> {
  const { caseId } = await ownCase(api);
  const key = `${caseId}-T1:rectification:4#authz${++interviewSeq}`;
  const at = new Date().toISOString();
  await recordEscalations(api.db, [{ key, caseId, taskId: `${caseId}-T1`, department: 'CG', record: { deadline: 'rectification', level: 4, at, dueAt: at } }]);
  return interviewIdFor(key);
}

// Keyed by every operation of the generated document: an operation added without a row here
// fails the typecheck, and the first test below checks the same against the served document.
const rows: Record<OperationKey, Row> = {
  'GET /api/v1/bulletins': { prepare: async () => (as) => as.GET('/api/v1/bulletins'), expect: open(200) },
  'GET /api/v1/bulletins/{id}': {
    prepare: async (api) => {
      const id = await publishedBulletin(api);
      return (as) => as.GET('/api/v1/bulletins/{id}', { params: { path: { id } } });
    },
    expect: open(200),
  },
  'GET /api/v1/bulletins/drafts': { prepare: async () => (as) => as.GET('/api/v1/bulletins/drafts'), expect: byRole(200, 403, 403) },
  'GET /api/v1/bulletins/{id}/record': {
    prepare: async (api) => {
      const id = await bulletinDraft(api);
      return (as) => as.GET('/api/v1/bulletins/{id}/record', { params: { path: { id } } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/bulletins': {
    prepare: async () => (as) => as.POST('/api/v1/bulletins', { body: bulletinPeriod }),
    expect: byRole(201, 403, 403),
  },
  'POST /api/v1/bulletins/{id}/items': {
    prepare: async (api) => {
      const id = await bulletinDraft(api);
      const { caseId } = await ownCase(api);
      return (as) => as.POST('/api/v1/bulletins/{id}/items', { params: { path: { id } }, body: { kind: 'exposure', caseId, summary: '曝光', reason: '典型' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/bulletins/{id}/removals': {
    prepare: async (api) => {
      const id = await bulletinDraft(api);
      const { caseId } = await ownCase(api);
      await api.as.office.POST('/api/v1/bulletins/{id}/items', { params: { path: { id } }, body: { kind: 'exposure', caseId, summary: '曝光', reason: '典型' } });
      return (as) => as.POST('/api/v1/bulletins/{id}/removals', { params: { path: { id } }, body: { itemId: `exposure:${caseId}`, reason: '已整改' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/bulletins/{id}/approval': {
    prepare: async (api) => {
      const id = await bulletinDraft(api);
      return (as) => as.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id } } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/bulletins/{id}/discard': {
    prepare: async (api) => {
      const id = await bulletinDraft(api);
      return (as) => as.POST('/api/v1/bulletins/{id}/discard', { params: { path: { id } }, body: { reason: '不发布' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/bulletins/{id}/corrections': {
    prepare: async (api) => {
      const id = await publishedBulletin(api);
      return (as) => as.POST('/api/v1/bulletins/{id}/corrections', { params: { path: { id } }, body: { reason: '数据更正' } });
    },
    expect: byRole(201, 403, 403),
  },
  'GET /bulletins': { prepare: async () => (as) => as.GET('/bulletins', asText), expect: open(200) },
  'GET /bulletins/feed.atom': { prepare: async () => (as) => as.GET('/bulletins/feed.atom', asText), expect: open(200) },
  'GET /bulletins/{id}': {
    prepare: async (api) => {
      const id = await publishedBulletin(api);
      return (as) => as.GET('/bulletins/{id}', { params: { path: { id } }, ...asText });
    },
    expect: open(200),
  },
  'GET /api/v1/escalations': { prepare: async () => (as) => as.GET('/api/v1/escalations'), expect: byRole(200, 200, 200) },
  'GET /api/v1/interviews': { prepare: async () => (as) => as.GET('/api/v1/interviews'), expect: byRole(200, 200, 200) },
  'GET /api/v1/interviews/{id}': {
    prepare: async (api) => {
      const id = await interviewOfCg(api);
      return (as) => as.GET('/api/v1/interviews/{id}', { params: { path: { id } } });
    },
    expect: byRole(200, 200, 404),
  },
  'POST /api/v1/interviews/{id}/record': {
    prepare: async (api) => {
      const id = await interviewOfCg(api);
      const record = { interviewees: '区城管局 王局长', interviewers: '创建办 李主任', heldAt: new Date().toISOString(), outcome: '限期整改' };
      return (as) => as.POST('/api/v1/interviews/{id}/record', { params: { path: { id } }, body: record });
    },
    expect: byRole(200, 403, 403),
  },
  'GET /api/v1/assessment-rules': { prepare: async () => (as) => as.GET('/api/v1/assessment-rules'), expect: byRole(200, 200, 200) },
  'POST /api/v1/assessment-rules': {
    prepare: async () => (as) => as.POST('/api/v1/assessment-rules', { body: { effectiveFrom: '2099-01-01', rules: {}, note: null } }),
    expect: byRole(201, 403, 403),
  },
  'GET /api/v1/notifications': { prepare: async () => (as) => as.GET('/api/v1/notifications'), expect: byRole(200, 403, 403) },
  'POST /api/v1/notifications/{id}/retry': {
    prepare: async (api) => {
      const id = await failedDelivery(api);
      return (as) => as.POST('/api/v1/notifications/{id}/retry', { params: { path: { id } } });
    },
    expect: byRole(202, 403, 403),
  },
  'GET /api/v1/webhooks': { prepare: async () => (as) => as.GET('/api/v1/webhooks'), expect: byRole(200, 403, 403) },
  'POST /api/v1/webhooks': {
    prepare: async () => (as) => as.POST('/api/v1/webhooks', { body: { name: '业务系统', url: `https://example.org/hooks/${++webhookSeq}` } }),
    expect: byRole(201, 403, 403),
  },
  'POST /api/v1/webhooks/{id}/deactivate': {
    prepare: async (api) => {
      const { id } = dataOf(await api.as.office.POST('/api/v1/webhooks', { body: { name: '待停用', url: `https://example.org/old/${++webhookSeq}` } }));
      return (as) => as.POST('/api/v1/webhooks/{id}/deactivate', { params: { path: { id } } });
    },
    expect: byRole(200, 403, 403),
  },
  'GET /healthz': { prepare: async () => (as) => as.GET('/healthz'), expect: open(200) },
  'GET /readyz': { prepare: async () => (as) => as.GET('/readyz'), expect: open(200) },
  'GET /api/v1/departments': { prepare: async () => (as) => as.GET('/api/v1/departments'), expect: byRole(200, 200, 200) },
  'POST /api/v1/departments': {
    prepare: async () => {
      const body = { code: `D${++departmentSeq}X`, name: '新部门' };
      return (as) => as.POST('/api/v1/departments', { body });
    },
    expect: byRole(201, 403, 403),
  },
  'GET /api/v1/departments/{code}/people': {
    // Everyone with a token sees who is who; contact data is their own department's (test/people-api.test.ts).
    prepare: async () => (as) => as.GET('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } } }),
    expect: byRole(200, 200, 200),
  },
  'POST /api/v1/departments/{code}/people': {
    prepare: async () => (as) =>
      as.POST('/api/v1/departments/{code}/people', { params: { path: { code: 'CG' } }, body: { name: '李四', post: '联络员', roles: ['liaison'] } }),
    expect: byRole(201, 403, 403),
  },
  'GET /api/v1/office/people': { prepare: async () => (as) => as.GET('/api/v1/office/people'), expect: byRole(200, 200, 200) },
  'POST /api/v1/office/people': {
    prepare: async () => (as) => as.POST('/api/v1/office/people', { body: { name: '王五', post: '督查员', roles: ['clerk'] } }),
    expect: byRole(201, 403, 403),
  },
  'GET /api/v1/people/{personId}': {
    prepare: async (api) => {
      const personId = await newPerson(api);
      return (as) => as.GET('/api/v1/people/{personId}', { params: { path: { personId } } });
    },
    expect: byRole(200, 200, 200),
  },
  'PATCH /api/v1/people/{personId}': {
    prepare: async (api) => {
      const personId = await newPerson(api);
      return (as) => as.PATCH('/api/v1/people/{personId}', { params: { path: { personId } }, body: { post: '副科长' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/people/{personId}/deactivate': {
    prepare: async (api) => {
      const personId = await newPerson(api);
      return (as) => as.POST('/api/v1/people/{personId}/deactivate', { params: { path: { personId } } });
    },
    expect: byRole(200, 403, 403),
  },
  'PUT /api/v1/people/{personId}/roles': {
    prepare: async (api) => {
      const personId = await newPerson(api);
      return (as) => as.PUT('/api/v1/people/{personId}/roles', { params: { path: { personId } }, body: { roles: ['head'] } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases': {
    prepare: async () => (as) =>
      as.POST('/api/v1/cases', { body: { title: 't', category: 'c', severity: 'major', source: 'other', leadDepartment: 'CG' } }),
    expect: byRole(201, 403, 403),
  },
  'GET /api/v1/cases': { prepare: async () => (as) => as.GET('/api/v1/cases'), expect: byRole(200, 200, 200) },
  'GET /api/v1/scorecards': {
    prepare: async () => (as) => as.GET('/api/v1/scorecards', { params: { query: { from: '2026-03-01', to: '2026-03-31', department: 'CG' } } }),
    expect: byRole(200, 200, 403),
  },
  'GET /api/v1/scorecards/export.csv': {
    prepare: async () => (as) => as.GET('/api/v1/scorecards/export.csv', { params: { query: { from: '2026-03-01', to: '2026-03-31', department: 'CG' } }, ...asText }),
    expect: byRole(200, 200, 403),
  },
  'GET /api/v1/scorecards/export.xlsx': {
    prepare: async () => (as) =>
      as.GET('/api/v1/scorecards/export.xlsx', { params: { query: { from: '2026-03-01', to: '2026-03-31', department: 'CG' } }, parseAs: 'arrayBuffer' }),
    expect: byRole(200, 200, 403),
  },
  'GET /api/v1/cases/export.csv': { prepare: async () => (as) => as.GET('/api/v1/cases/export.csv', asText), expect: byRole(200, 403, 403) },
  'GET /api/v1/cases/{caseId}': {
    prepare: async (api) => {
      const { caseId } = await ownCase(api);
      return (as) => as.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } });
    },
    expect: byRole(200, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/withdraw': {
    prepare: async (api) => {
      const { caseId } = await ownCase(api);
      return (as) => as.POST('/api/v1/cases/{caseId}/withdraw', { params: { path: { caseId } }, body: { reason: '测试' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/reassign': {
    prepare: async (api) => {
      const { caseId } = await ownCase(api);
      return (as) =>
        as.POST('/api/v1/cases/{caseId}/reassign', { params: { path: { caseId } }, body: { taskId: `${caseId}-T1`, toDepartment: 'JD', reason: '转办' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/acknowledge': {
    prepare: onTask([], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { ...task, body: {} })),
    expect: byRole(403, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/responsible-person': {
    // The office or the task's own department; to a department outside the case, the case does not exist.
    prepare: async (api) => {
      const personId = await newPerson(api);
      const { task } = await ownCase(api);
      return (as) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/responsible-person', { ...task, body: { personId } });
    },
    expect: byRole(200, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/progress': {
    prepare: onTask([ack], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/progress', { ...task, body: { note: '进行中' } })),
    expect: byRole(403, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/submit': {
    prepare: onTask([ack], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', { ...task, body: submission })),
    expect: byRole(403, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/verify': {
    prepare: onTask([ack, submit], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/verify', { ...task, body: { decision: 'accept' } })),
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/extension-request': {
    prepare: onTask([], (as, task) =>
      as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/extension-request', { ...task, body: { workingDays: 2, reason: '需要' } }),
    ),
    expect: byRole(403, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/extension-decision': {
    prepare: onTask(
      [(api, task) => api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/extension-request', { ...task, body: { workingDays: 2, reason: '需要' } })],
      (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/extension-decision', { ...task, body: { decision: 'approve' } }),
    ),
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/transfer-request': {
    prepare: onTask([], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/transfer-request', { ...task, body: { reason: '不归本部门' } })),
    expect: byRole(403, 200, 404),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/transfer-rejection': {
    prepare: onTask(
      [(api, task) => api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/transfer-request', { ...task, body: { reason: '不归本部门' } })],
      (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/transfer-rejection', { ...task, body: { comment: '仍由你办' } }),
    ),
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/suspend': {
    prepare: onTask([], (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/suspend', { ...task, body: { reason: '等待审批' } })),
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/tasks/{taskId}/resume': {
    prepare: onTask(
      [(api, task) => api.as.office.POST('/api/v1/cases/{caseId}/tasks/{taskId}/suspend', { ...task, body: { reason: '等待审批' } })],
      (as, task) => as.POST('/api/v1/cases/{caseId}/tasks/{taskId}/resume', { ...task, body: {} }),
    ),
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/evidence': {
    prepare: async (api) => (_as, token) => upload(api, token, pngBytes, 'p.png'),
    expect: byRole(201, 201, 201),
  },
  'GET /api/v1/evidence/{sha256}': {
    prepare: async () => (as) => as.GET('/api/v1/evidence/{sha256}', { params: { path: { sha256: sharedFile } }, parseAs: 'arrayBuffer' }),
    expect: byRole(200, 200, 404),
  },
  'POST /api/v1/complaints': { prepare: async () => (as) => as.POST('/api/v1/complaints', { body: { description: '投诉' } }), expect: open(201) },
  'GET /api/v1/complaints/{trackingCode}': {
    prepare: async (api) => {
      const trackingCode = await newComplaint(api);
      return (as) => as.GET('/api/v1/complaints/{trackingCode}', { params: { path: { trackingCode } } });
    },
    expect: open(200),
  },
  'POST /api/v1/complaints/{trackingCode}/rating': {
    prepare: async (api) => {
      const { trackingCode } = await complaintCase(api, 'answered', sharedFile);
      return (as) => as.POST('/api/v1/complaints/{trackingCode}/rating', { params: { path: { trackingCode } }, body: { rating: 'satisfied' } });
    },
    expect: open(200),
  },
  'GET /api/v1/complaints/{trackingCode}/photos/{sha256}': {
    prepare: async (api) => {
      const { trackingCode } = await complaintCase(api, 'answered', sharedFile);
      return (as) =>
        as.GET('/api/v1/complaints/{trackingCode}/photos/{sha256}', { params: { path: { trackingCode, sha256: sharedFile } }, parseAs: 'arrayBuffer' });
    },
    expect: open(200),
  },
  'POST /api/v1/cases/{caseId}/answer': {
    prepare: async (api) => {
      const { caseId } = await complaintCase(api, 'closed', sharedFile);
      return (as) => as.POST('/api/v1/cases/{caseId}/answer', { params: { path: { caseId } }, body: { answer: '已处理' } });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/cases/{caseId}/follow-up-decision': {
    prepare: async (api) => {
      const { caseId } = await complaintCase(api, 'dissatisfied', sharedFile);
      return (as) =>
        as.POST('/api/v1/cases/{caseId}/follow-up-decision', { params: { path: { caseId } }, body: { decision: 'dismiss', reason: '已按标准处理' } });
    },
    expect: byRole(200, 403, 403),
  },
  'GET /api/v1/complaints': { prepare: async () => (as) => as.GET('/api/v1/complaints'), expect: byRole(200, 403, 403) },
  'POST /api/v1/complaints/{trackingCode}/convert': {
    prepare: async (api) => {
      const trackingCode = await newComplaint(api);
      return (as) =>
        as.POST('/api/v1/complaints/{trackingCode}/convert', {
          params: { path: { trackingCode } },
          body: { title: '受理', category: '其他', severity: 'general', leadDepartment: 'CG' },
        });
    },
    expect: byRole(200, 403, 403),
  },
  'POST /api/v1/complaints/{trackingCode}/dismiss': {
    prepare: async (api) => {
      const trackingCode = await newComplaint(api);
      return (as) => as.POST('/api/v1/complaints/{trackingCode}/dismiss', { params: { path: { trackingCode } }, body: { reason: '重复' } });
    },
    expect: byRole(200, 403, 403),
  },
  'GET /open311/discovery.json': { prepare: async () => (as) => as.GET('/open311/discovery.json'), expect: open(200) },
  'GET /open311/discovery.xml': { prepare: async () => (as) => as.GET('/open311/discovery.xml', asText), expect: open(200) },
  'GET /open311/v2/services.json': { prepare: async () => (as) => as.GET('/open311/v2/services.json'), expect: open(200) },
  'GET /open311/v2/services.xml': { prepare: async () => (as) => as.GET('/open311/v2/services.xml', asText), expect: open(200) },
  'GET /open311/v2/services/{service_code}.json': {
    prepare: async () => (as) => as.GET('/open311/v2/services/{service_code}.json', { params: { path: { service_code: 'noise' } } }),
    expect: open(200),
  },
  'GET /open311/v2/services/{service_code}.xml': {
    prepare: async () => (as) => as.GET('/open311/v2/services/{service_code}.xml', { params: { path: { service_code: 'noise' } }, ...asText }),
    expect: open(200),
  },
  'GET /open311/v2/requests.json': { prepare: async () => (as) => as.GET('/open311/v2/requests.json'), expect: open(200) },
  'GET /open311/v2/requests.xml': { prepare: async () => (as) => as.GET('/open311/v2/requests.xml', asText), expect: open(200) },
  'POST /open311/v2/requests.json': {
    prepare: async () => (as) => as.POST('/open311/v2/requests.json', { body: { service_code: 'noise', description: '夜间施工', lat: 30.2, long: 120.1 } }),
    expect: open(201),
  },
  'POST /open311/v2/requests.xml': {
    prepare: async () => (as) =>
      as.POST('/open311/v2/requests.xml', { body: { service_code: 'noise', description: '夜间施工', lat: 30.2, long: 120.1 }, ...asText }),
    expect: open(201),
  },
  'GET /open311/v2/requests/{id}.json': {
    prepare: async (api) => {
      const id = await newComplaint(api);
      return (as) => as.GET('/open311/v2/requests/{id}.json', { params: { path: { id } } });
    },
    expect: open(200),
  },
  'GET /open311/v2/requests/{id}.xml': {
    prepare: async (api) => {
      const id = await newComplaint(api);
      return (as) => as.GET('/open311/v2/requests/{id}.xml', { params: { path: { id } }, ...asText });
    },
    expect: open(200),
  },
  'GET /open311/v2/tokens/{token}.json': {
    prepare: async (api) => {
      const token = await newComplaint(api);
      return (as) => as.GET('/open311/v2/tokens/{token}.json', { params: { path: { token } } });
    },
    expect: open(200),
  },
  'GET /open311/v2/tokens/{token}.xml': {
    prepare: async (api) => {
      const token = await newComplaint(api);
      return (as) => as.GET('/open311/v2/tokens/{token}.xml', { params: { path: { token } }, ...asText });
    },
    expect: open(200),
  },
};

describe('authorisation matrix: every route, every kind of caller', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
    // A file uploaded by CG and referred to by a case of CG's: the evidence row's subject.
    // Bytes of its own: whoever uploads the same bytes is one of the file's uploaders too.
    const uploaded = await upload(api, api.tokens.CG, Buffer.concat([pngBytes, Buffer.from('shared evidence')]), 'a.png');
    sharedFile = dataOf(uploaded)[0]!.sha256;
    const { caseId } = await ownCase(api, [
      ack,
      (api, task) => api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', { ...task, body: { report: 'r', evidence: [{ file: `sha256:${sharedFile}` }] } }),
    ]);
    sharedCase = caseId;
  });
  afterAll(() => api?.close());

  it('covers every route of the OpenAPI document', async () => {
    // The served document itself (not an operation of it): raw fetch.
    const doc = (await api.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(Object.keys(rows).sort()).toEqual(documented.sort());
    expect(sharedCase).toMatch(/^DB-/);
  });

  it.each((Object.entries(rows) as [OperationKey, Row][]).flatMap(([operation, row]) => everyone.map((who) => [operation, who, row] as const)))(
    '%s as %s',
    async (operation, who, row) => {
      const send = await row.prepare(api);
      const token =
        who === 'office' ? api.tokens.office : who === 'ownDept' ? api.tokens.CG : who === 'otherDept' ? api.tokens.SJ : who === 'badToken' ? 'dbn_revoked' : undefined;
      const { response, data, error } = await send(api.client(token), token);
      expect(response.status, JSON.stringify(error ?? data)).toBe(row.expect[who]);
      if (response.status >= 400 && !operation.includes(' /open311/')) expect(error).toHaveProperty('error.code');
    },
  );

  it('refuses a revoked token', async () => {
    const tokens = createTokenService({ db: api.db });
    const made = await tokens.create({ role: 'office', name: 'to revoke' });
    expect((await api.client(made.token).GET('/api/v1/cases')).response.status).toBe(200);
    await tokens.revoke(made.id);
    expect((await api.client(made.token).GET('/api/v1/cases')).response.status).toBe(401);
    const stored = await api.db.selectFrom('tokens').select('token_hash').where('id', '=', made.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(made.token.slice(4));
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
