import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, dataOf, pngBytes, startApiStack } from './support/api';
import { complaintCase } from './support/follow-up';

/** 答复 and 回访 over HTTP: the tracking page, the public rating, the office's routes and their statuses. */
describe('follow-up over HTTP', () => {
  let api: ApiStack;
  let shown: string;
  let hidden: string;
  let stranger: string;

  async function upload(bytes: Buffer, name: string): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([bytes]), name);
    const response = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', body: form, headers: { authorization: `Bearer ${api.tokens.CG}` } });
    expect(response.status).toBe(201);
    return ((await response.json()) as { sha256: string }[])[0]!.sha256;
  }

  beforeAll(async () => {
    api = await startApiStack();
    shown = await upload(Buffer.concat([pngBytes, Buffer.from('after photo')]), 'after.png');
    // Submitted with the rectification but not chosen by the office for its answer.
    hidden = await upload(Buffer.concat([pngBytes, Buffer.from('another photo')]), '李四家门口.png');
    // Uploaded by CG but never part of this case.
    stranger = await upload(Buffer.concat([pngBytes, Buffer.from('a foreign photo')]), 'foreign.png');
  });
  afterAll(() => api?.close());

  const track = (trackingCode: string) => api.as.public.GET('/api/v1/complaints/{trackingCode}', { params: { path: { trackingCode } } });
  const rate = (trackingCode: string, body: { rating: 'satisfied' | 'basically_satisfied' | 'dissatisfied'; reason?: string }) =>
    api.as.public.POST('/api/v1/complaints/{trackingCode}/rating', { params: { path: { trackingCode } }, body: body as never });

  it('shows the answer and exactly the chosen after-photos on the tracking page, never contact data', async () => {
    // The case holds two photos; the office chooses one.
    const { trackingCode, caseId } = await complaintCase(api, 'closed', [shown, hidden]);
    expect(dataOf(await track(trackingCode)).answer).toBeNull();
    expect((await rate(trackingCode, { rating: 'satisfied' })).response.status).toBe(409);

    const leaking = await api.as.office.POST('/api/v1/cases/{caseId}/answer', {
      params: { path: { caseId } },
      body: { answer: '已联系投诉人 13800138000 确认' },
    });
    expect(leaking.response.status).toBe(422);
    expect(leaking.error).toMatchObject({ error: { code: 'invalid_input', details: [{ path: 'answer' }] } });
    const missing = await api.as.office.POST('/api/v1/cases/{caseId}/answer', { params: { path: { caseId } }, body: {} as never });
    expect(missing.response.status).toBe(400);
    expect(JSON.stringify(missing.error)).toContain('答复须有内容 / an answer needs its text');
    const foreign = await api.as.office.POST('/api/v1/cases/{caseId}/answer', {
      params: { path: { caseId } },
      body: { answer: '已处理', evidence: [`sha256:${stranger}`] },
    });
    expect(foreign.response.status).toBe(422);
    expect(foreign.error).toMatchObject({ error: { details: [{ path: 'evidence[0]' }] } });

    const answered = await api.as.office.POST('/api/v1/cases/{caseId}/answer', {
      params: { path: { caseId } },
      body: { answer: '摊点已清理，恢复通行。', evidence: [`sha256:${shown}`] },
    });
    expect(answered.response.status).toBe(200);
    expect(dataOf(answered).followUp?.status).toBe('awaiting_rating');
    const again = await api.as.office.POST('/api/v1/cases/{caseId}/answer', { params: { path: { caseId } }, body: { answer: '再答复' } });
    expect(again.response.status).toBe(409);

    const page = dataOf(await track(trackingCode));
    expect(page.status).toBe('closed');
    expect(page.answer).toMatchObject({
      text: '摊点已清理，恢复通行。',
      // Named by its place in the answer: not the uploader's file name, not the department's note.
      photos: [{ url: `/api/v1/complaints/${trackingCode}/photos/${shown}`, name: 'photo-1.png', mediaType: 'image/png' }],
      followUpStatus: 'awaiting_rating',
      rating: null,
      decision: null,
    });
    expect(page.answer?.followUpDueAt).toMatch(/T23:59:59\.999\+08:00$/);
    const text = JSON.stringify(page);
    for (const secret of ['李四', '13800138000', 'lisi@example.org', 'contact', '整改后']) expect(text).not.toContain(secret);

    const photo = await fetch(`${api.url}${page.answer!.photos[0]!.url}`);
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/png');
    expect(photo.headers.get('content-disposition')).toBe('inline; filename="photo-1.png"');
    expect(Buffer.from(await photo.arrayBuffer())).toEqual(Buffer.concat([pngBytes, Buffer.from('after photo')]));
    // Nothing else by that code: not a photo of the case the answer did not choose, not under another code.
    expect((await fetch(`${api.url}/api/v1/complaints/${trackingCode}/photos/${hidden}`)).status).toBe(404);
    const other = await complaintCase(api, 'closed', shown);
    expect((await fetch(`${api.url}/api/v1/complaints/${other.trackingCode}/photos/${shown}`)).status).toBe(404);
    expect((await fetch(`${api.url}/api/v1/complaints/TS-00000-00000/photos/${shown}`)).status).toBe(404);

    const rated = await rate(trackingCode, { rating: 'basically_satisfied' });
    expect(rated.response.status).toBe(200);
    expect(dataOf(rated).answer).toMatchObject({ followUpStatus: 'rated', rating: { rating: 'basically_satisfied' } });
    expect((await rate(trackingCode, { rating: 'satisfied' })).response.status).toBe(409);
    const record = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    expect(record.events.filter((e) => e.action === 'case.rated').map((e) => e.payload)).toEqual([{ rating: 'basically_satisfied', reason: null }]);
  });

  it('takes a 不满意 with its reason and lets the office reopen the case or refuse out of state', async () => {
    const { trackingCode, caseId } = await complaintCase(api, 'answered', shown);
    expect((await rate(trackingCode, { rating: 'dissatisfied' })).response.status).toBe(400);
    expect((await rate('TS-00000-00000', { rating: 'satisfied' })).response.status).toBe(404);
    const decideEarly = await api.as.office.POST('/api/v1/cases/{caseId}/follow-up-decision', {
      params: { path: { caseId } },
      body: { decision: 'dismiss', reason: '不予采纳' },
    });
    expect(decideEarly.response.status).toBe(409);
    expect(dataOf(await rate(trackingCode, { rating: 'dissatisfied', reason: '晚上又来了' })).answer?.followUpStatus).toBe('awaiting_decision');

    const byDepartment = await api.as.CG.POST('/api/v1/cases/{caseId}/follow-up-decision', {
      params: { path: { caseId } },
      body: { decision: 'uphold', reason: '重办' },
    });
    expect(byDepartment.response.status).toBe(403);
    const upheld = await api.as.office.POST('/api/v1/cases/{caseId}/follow-up-decision', {
      params: { path: { caseId } },
      body: { decision: 'uphold', reason: '经核实夜间仍有占道' },
    });
    expect(upheld.response.status).toBe(200);
    expect(dataOf(upheld)).toMatchObject({ status: 'open', closedAt: null, followUp: { status: 'reopened', reopens: 1 } });
    expect(dataOf(upheld).tasks.at(-1)).toMatchObject({ taskId: `${caseId}-T2`, departmentCode: 'CG', role: 'lead', outcome: null });

    const page = dataOf(await track(trackingCode));
    expect(page.status).toBe('in_progress');
    expect(page.case?.closedAt).toBeNull();
    expect(page.answer).toMatchObject({ followUpStatus: 'reopened', decision: 'uphold', rating: { rating: 'dissatisfied' } });
    const record = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    expect(record.case.status).toBe('open');
    const t2 = record.tasks.find((t) => t.id === `${caseId}-T2`)!;
    expect(record.events.find((e) => e.action === 'case.reopened')?.payload).toEqual({
      reason: '经核实夜间仍有占道',
      taskId: t2.id,
      department: 'CG',
      ackDueAt: t2.ackDueAt,
      rectificationDueAt: t2.rectificationDueAt,
    });
    // Open again: no answer until it closes.
    const early = await api.as.office.POST('/api/v1/cases/{caseId}/answer', { params: { path: { caseId } }, body: { answer: '答复' } });
    expect(early.response.status).toBe(409);
    // A department sees the follow-up of its case, but not the tracking code.
    const asDept = dataOf(await api.as.CG.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
    expect(asDept.followUp?.status).toBe('reopened');
    expect(asDept.case.complaintCode).toBeNull();
  });
});
