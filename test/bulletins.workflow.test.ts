import { sql } from 'kysely';
import type { DateTime } from 'luxon';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulletinDocument } from '../domain/bulletin.types';
import type { DepartmentIndicators } from '../domain/indicator.types';
import { type CaseService, createCaseService } from '../services/case.service';
import { createComplaintService } from '../services/complaint.service';
import type { bulletinDraftWorkflow } from '../workflows/bulletin.workflow';
import { systemActor } from '../domain/case.schema';
import { type ApiStack, dataOf, startApiStack } from './support/api';
import { quietMonday, sleepUntil } from './support/clock';
import { caseRequest, dept, office, photo } from './support/fixtures';

/**
 * Bulletins over three simulated weeks on the time-skipping server: cases move (or do not) day by
 * day, the bulletin's draft workflow runs every Monday at 09:30 as the Schedule would start it,
 * and each draft's figures, ranking, points and 通报批评 list are checked against figures worked
 * out by hand below from the default policy (严重 major: acknowledge within 1 working day,
 * rectify within 3; rungs at 1, 3, 5 and 10 working days overdue; acknowledgement rungs at 1
 * and 2) and the default assessment rules. Then the office decides, approves, corrects, and
 * completes the interview rung 4 called for; every public output is scanned for the
 * complainant's personal data.
 */
describe('bulletins over several weeks', () => {
  let api: ApiStack;
  let cases: CaseService;
  let monday: DateTime;
  const ids: Record<'A' | 'B' | 'C' | 'D', string> = { A: '', B: '', C: '', D: '' };
  // What the complainant of case C gave: none of it may reach a public page.
  const personal = { name: '李秀兰', phone: '13912345678', email: 'lixiulan@example.com', home: '幸福小区3栋2单元501室' };

  beforeAll(async () => {
    api = await startApiStack();
    cases = createCaseService({ client: api.env.client, db: api.db, taskQueue: api.taskQueue, timeZone: 'Asia/Shanghai' });
    monday = await quietMonday(api.env);
  });
  afterAll(() => api?.close());

  const at = (week: number, day: number, hour: number, minute = 0) => monday.plus({ weeks: week, days: day }).set({ hour, minute });
  const major = (leadDepartment: string, title: string) => caseRequest({ leadDepartment, severity: 'major', title, dueDate: undefined });

  /** Starts the draft workflow now, as the Schedule starts it: the period is the week before. */
  async function scheduledDraft(): Promise<string> {
    const result = await api.env.client.workflow.execute<typeof bulletinDraftWorkflow>('bulletinDraftWorkflow', {
      taskQueue: api.taskQueue,
      workflowId: `bulletin-test-${crypto.randomUUID()}`,
      args: [{ periodKind: 'week', origin: 'schedule', actor: systemActor }],
    });
    return result.bulletinId;
  }
  const record = async (id: string) => dataOf(await api.as.office.GET('/api/v1/bulletins/{id}/record', { params: { path: { id } } }));
  const byDept = (doc: { indicators: readonly DepartmentIndicators[] }, code: string) => doc.indicators.find((i) => i.departmentCode === code)!;
  const week = (n: number) => ({ from: at(n, 0, 0).toISODate()!, to: at(n, 6, 0).toISODate()! });

  let week1 = '';
  let week2 = '';

  it('week 1: one case fixed on time, one acknowledged and left, one never acknowledged', async () => {
    await sleepUntil(api.env, at(0, 0, 10));
    ids.A = (await cases.openCase(major('CG', '人民路占道经营'), office)).caseId;
    ids.B = (await cases.openCase(major('JD', '解放路垃圾堆放'), office)).caseId;
    // Case C comes from a complaint whose complainant left their name, phone, e-mail and home.
    const complaints = createComplaintService({ db: api.db, cases });
    const filed = await complaints.file({
      description: `我住在${personal.home}，楼下早市占道，电话${personal.phone}`,
      location: { address: '建设路菜场东门', lat: 30.2712, lng: 120.1534 },
      contact: { name: personal.name, phone: personal.phone, email: personal.email },
    });
    const converted = await complaints.convert(filed.trackingCode, { title: '建设路菜场周边占道经营', category: '市容秩序', severity: 'major', leadDepartment: 'SJ', cooperatingDepartments: [] }, office);
    ids.C = converted.case!.id;
    await cases.acknowledgeTask(ids.A, dept('CG'), {});
    await cases.acknowledgeTask(ids.B, dept('JD'), {});
    await sleepUntil(api.env, at(0, 1, 10));
    await cases.submitRectification(ids.A, dept('CG'), { report: '已清理', evidence: [photo] });
    await sleepUntil(api.env, at(0, 2, 10));
    await cases.verifyRectification(ids.A, office, { decision: 'accept' });

    await sleepUntil(api.env, at(1, 0, 9, 30));
    week1 = await scheduledDraft();
    // The Schedule may start the workflow again (a retry, a catch-up): the same draft.
    expect(await scheduledDraft()).toBe(week1);
    const draft = await record(week1);
    expect(draft).toMatchObject({ status: 'draft', origin: 'schedule', period: week(0), number: null });
    const doc = draft.document;

    // CG: A assigned, acknowledged on time, accepted Wednesday before its Thursday deadline.
    expect(byDept(doc, 'CG').counts).toMatchObject({ tasksAssigned: 1, acknowledged: 1, acknowledgedOnTime: 1, closed: 1, closedOnTime: 1, submissions: 1, rejections: 0 });
    expect(byDept(doc, 'CG').onTimeClosureRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    // Monday to Wednesday: two working days.
    expect(byDept(doc, 'CG').workingDaysToClose).toEqual({ count: 1, mean: 2, p90: 2 });
    // JD: B acknowledged on time; its Thursday deadline passed (judged late); rung 1 on Friday.
    expect(byDept(doc, 'JD').ackOnTimeRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(byDept(doc, 'JD').onTimeClosureRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    expect(byDept(doc, 'JD').overdueByRung).toEqual({ 0: 0, 1: 1, 2: 0, 3: 0, 4: 0 });
    // SJ: C never acknowledged: late on both deadlines; acknowledgement rungs 1 (Wed) and 2 (Thu),
    // rectification rung 1 (Fri): at the week's end overdue at its highest rung, 2.
    expect(byDept(doc, 'SJ').ackOnTimeRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    expect(byDept(doc, 'SJ').counts.rungsReached).toEqual({ 1: 1, 2: 1, 3: 0, 4: 0 });
    expect(byDept(doc, 'SJ').overdueByRung).toEqual({ 0: 0, 1: 0, 2: 1, 3: 0, 4: 0 });
    // From the public: its acknowledgement counts in SJ's 响应率.
    expect(byDept(doc, 'SJ').hotline.responseRate).toEqual({ numerator: 0, denominator: 1, value: 0 });

    // Points (default rules): CG none off: 100 points, rates 100% → 100.
    // JD: 0.5 off (one task overdue at rung 1): 99.5 × 0.6 + 0% × 0.2 + 100% × 0.1 = 69.7, over
    // the weights that had something to rate (0.9): 77.444… → 77.44.
    // SJ: 1 off (overdue at rung 2): 99 × 0.6 + 0 + 0 = 59.4 / 0.9 = 66.
    expect(doc.ranking.map((r) => [r.rank, r.departmentCode, r.score, r.deductions])).toEqual([
      [1, 'CG', 100, {}],
      [2, 'JD', 77.44, { overdue_rung_1: 0.5 }],
      [3, 'SJ', 66, { overdue_rung_2: 1 }],
    ]);
    expect(doc.summary).toEqual({ casesOpened: 3, casesClosed: 1, tasksAssigned: 3, tasksClosed: 1, tasksClosedOnTime: 1, overdueAtEnd: 2, onTimeClosureRate: 1 / 3 });
    // No rung 3 yet: no criticism; A, a major problem, was fixed: a notable closure.
    expect(doc.items.map((i) => i.id)).toEqual([`notable_closure:${ids.A}`]);
    expect(doc.trend.map((t) => t.onTimeClosureRate)).toEqual([null, null, null, null, null, 1 / 3]);
  });

  it('week 2: a rework fixed on time; the two late tasks reach 通报批评', async () => {
    await sleepUntil(api.env, at(1, 0, 10));
    ids.D = (await cases.openCase(major('CG', '中山路广告牌破损'), office)).caseId;
    await cases.acknowledgeTask(ids.D, dept('CG'), {});
    await cases.acknowledgeTask(ids.C, dept('SJ'), {});
    await sleepUntil(api.env, at(1, 1, 10));
    await cases.submitRectification(ids.D, dept('CG'), { report: '已修复', evidence: [photo] });
    await sleepUntil(api.env, at(1, 2, 10));
    await cases.verifyRectification(ids.D, office, { decision: 'reject', comment: '仍有破损' });
    await sleepUntil(api.env, at(1, 3, 10));
    await cases.submitRectification(ids.D, dept('CG'), { report: '已更换', evidence: [photo] });
    await sleepUntil(api.env, at(1, 4, 10));
    await cases.verifyRectification(ids.D, office, { decision: 'accept' });

    await sleepUntil(api.env, at(2, 0, 9, 30));
    week2 = await scheduledDraft();
    const doc = (await record(week2)).document;
    expect(doc.period).toEqual(week(1));
    // CG: D resubmitted on Thursday before its deadline (the department did its part in time),
    // accepted Friday: on time; one rejection, two submissions.
    expect(byDept(doc, 'CG').counts).toMatchObject({ tasksAssigned: 1, closed: 1, closedOnTime: 1, submissions: 2, rejections: 1 });
    // JD: B reached rung 2 (Tuesday) and 3 (Thursday); nothing judged this week.
    expect(byDept(doc, 'JD').counts.rungsReached).toEqual({ 1: 0, 2: 1, 3: 1, 4: 0 });
    expect(byDept(doc, 'JD').onTimeClosureRate.denominator).toBe(0);
    // SJ: C acknowledged late (Monday), rectification rungs 2 and 3.
    expect(byDept(doc, 'SJ').counts).toMatchObject({ acknowledged: 1, acknowledgedOnTime: 0, rungsReached: { 1: 0, 2: 1, 3: 1, 4: 0 } });
    expect(byDept(doc, 'SJ').overdueByRung).toEqual({ 0: 0, 1: 0, 2: 0, 3: 1, 4: 0 });
    // Points: CG 0.5 off (one rework): (99.5 × 0.6 + 100 × 0.2 + 100 × 0.1) / 0.9 = 99.666… → 99.67.
    // JD: overdue at rung 3 (2) + 通报批评 (2) = 4 off; no rate to weigh: 96.
    // SJ: the same 4 + a late acknowledgement (0.2) = 4.2 off: 95.8.
    expect(doc.ranking.map((r) => [r.rank, r.departmentCode, r.score])).toEqual([
      [1, 'CG', 99.67],
      [2, 'JD', 96],
      [3, 'SJ', 95.8],
    ]);
    expect(doc.ranking[2]!.deductions).toEqual({ overdue_rung_3: 2, criticism: 2, late_acknowledgement: 0.2 });
    // 通报批评 proposed for both tasks at rung 3, then D as a notable closure.
    expect(doc.items.map((i) => [i.id, i.kind, i.departmentCode])).toEqual([
      [`criticism:${ids.B}-T1`, 'criticism', 'JD'],
      [`criticism:${ids.C}-T1`, 'criticism', 'SJ'],
      [`notable_closure:${ids.D}`, 'notable_closure', 'CG'],
    ]);
    expect(doc.items[1]!.title).toBe('建设路菜场周边占道经营');
    expect(doc.trend.map((t) => t.onTimeClosureRate)).toEqual([null, null, null, null, 1 / 3, 1]);
  });

  it('the office decides: removes with a reason, adds an exposure, approves; published bulletins are numbered and immutable', async () => {
    // Week 1 first: it gets the year's first free number.
    const first = dataOf(await api.as.office.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id: week1 } } }));
    const removed = await api.as.office.POST('/api/v1/bulletins/{id}/removals', {
      params: { path: { id: week2 } },
      body: { itemId: `criticism:${ids.C}-T1`, reason: '市场监管局已书面说明，本周已签收并整改' },
    });
    expect(dataOf(removed).document.items.map((i) => i.id)).toEqual([`criticism:${ids.B}-T1`, `notable_closure:${ids.D}`]);
    // Removing it again: the draft no longer holds it (refused as the state's, nothing changes).
    const again = await api.as.office.POST('/api/v1/bulletins/{id}/removals', { params: { path: { id: week2 } }, body: { itemId: `criticism:${ids.C}-T1`, reason: '重复' } });
    expect(again.response.status).toBe(409);
    const added = dataOf(
      await api.as.office.POST('/api/v1/bulletins/{id}/items', {
        params: { path: { id: week2 } },
        body: { kind: 'exposure', caseId: ids.B, taskId: `${ids.B}-T1`, summary: '垃圾堆放逾期两周未清理，予以曝光', reason: '群众反映强烈' },
      }),
    );
    expect(added.decisions.map((d) => [d.action, d.itemId])).toEqual([
      ['remove', `criticism:${ids.C}-T1`],
      ['add', `exposure:${ids.B}-T1`],
    ]);
    const published = dataOf(await api.as.office.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id: week2 } } }));
    const year = Number(first.publishedAt!.slice(0, 4)) === Number(published.publishedAt!.slice(0, 4)) ? Number(published.publishedAt!.slice(0, 4)) : null;
    expect(year).not.toBeNull();
    const firstNumber = Number(/第(\d+)期/.exec(first.number!)![1]);
    expect(published.number).toBe(`${year}年第${firstNumber + 1}期`);
    expect(published.document.items.map((i) => i.id)).toEqual([`criticism:${ids.B}-T1`, `notable_closure:${ids.D}`, `exposure:${ids.B}-T1`]);
    // Shown in the office's zone.
    expect(published.publishedAt).toMatch(/\+08:00$/);

    // Approved once: a second approval or a change is refused as the state's, not the content's.
    for (const refused of [
      await api.as.office.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id: week2 } } }),
      await api.as.office.POST('/api/v1/bulletins/{id}/removals', { params: { path: { id: week2 } }, body: { itemId: `criticism:${ids.B}-T1`, reason: 'x' } }),
    ]) {
      expect(refused.response.status).toBe(409);
    }
    // Not even the database lets a published bulletin change.
    await expect(sql`UPDATE bulletins SET document = '{}' WHERE id = ${week2}`.execute(api.db)).rejects.toThrow(/never changed/);
    expect((await record(week2)).document.items).toHaveLength(3);
    // The rungs it criticised are marked as published in it.
    const rungs = dataOf(await api.as.office.GET('/api/v1/escalations', { params: { query: { level: 3 } } }));
    expect(rungs.items.map((e) => [e.taskId, e.bulletinId]).sort()).toEqual([
      [`${ids.B}-T1`, week2],
      [`${ids.C}-T1`, null],
    ]);
    // A department sees only its own rungs.
    const own = dataOf(await api.as.JD.GET('/api/v1/escalations'));
    expect(new Set(own.items.map((e) => e.department))).toEqual(new Set(['JD']));
  });

  it('a correction is a new version with its reason; both stay readable', async () => {
    const correction = await api.as.office.POST('/api/v1/bulletins/{id}/corrections', {
      params: { path: { id: week2 } },
      body: { reason: '经复核，市场监管局逾期情况属实，恢复通报批评' },
    });
    expect(correction.response.status).toBe(201);
    const draft = dataOf(correction);
    expect(draft).toMatchObject({ status: 'draft', version: 2, correctsId: week2 });
    // Asking again gives the same open correction.
    const twice = dataOf(await api.as.office.POST('/api/v1/bulletins/{id}/corrections', { params: { path: { id: week2 } }, body: { reason: '再次' } }));
    expect(twice.id).toBe(draft.id);
    await api.as.office.POST('/api/v1/bulletins/{id}/items', {
      params: { path: { id: draft.id } },
      body: { kind: 'criticism', caseId: ids.C, taskId: `${ids.C}-T1`, summary: '整改期限逾期，已达第3级（通报批评）', reason: '复核属实' },
    });
    const v2 = dataOf(await api.as.office.POST('/api/v1/bulletins/{id}/approval', { params: { path: { id: draft.id } } }));
    const v1 = dataOf(await api.as.public.GET('/api/v1/bulletins/{id}', { params: { path: { id: week2 } } }));
    expect(v1.status).toBe('superseded');
    expect(v2.number).toBe(v1.number);
    expect(v2.document).toMatchObject({ version: 2, correctionReason: '经复核，市场监管局逾期情况属实，恢复通报批评' });
    expect(v2.document.items.map((i) => i.id)).toContain(`criticism:${ids.C}-T1`);
    expect(v1.document.items.map((i) => i.id)).not.toContain(`criticism:${ids.C}-T1`);
    // The page of the new version names the reason and links the old one.
    const page = (await api.call('GET', `/bulletins/${draft.id}`)).text;
    expect(page).toContain('经复核，市场监管局逾期情况属实');
    expect(page).toContain(`/bulletins/${week2}`);
    // It shows the number, the ranking in order with its scores, both charts and the approved
    // 通报批评 list with the exposure.
    expect(page).toContain(v2.number);
    const rankingRows = [...page.matchAll(/<tr><td class="num">(\d+)<\/td><td>([^<]+)<\/td><td class="num">([\d.]+)<\/td>/g)].map((m) => [m[1], m[2], m[3]]);
    expect(rankingRows).toEqual([
      ['1', '部门 CG', '99.67'],
      ['2', '部门 JD', '96'],
      ['3', '部门 SJ', '95.8'],
    ]);
    expect(page.match(/<svg/g)).toHaveLength(2);
    for (const title of ['解放路垃圾堆放', '建设路菜场周边占道经营', '中山路广告牌破损', '垃圾堆放逾期两周未清理，予以曝光']) expect(page).toContain(title);
    // The superseded version's page still shows what it published.
    const old = (await api.call('GET', `/bulletins/${week2}`)).text;
    expect(old).toContain('垃圾堆放逾期两周未清理，予以曝光');
    expect(old).not.toContain('建设路菜场周边占道经营');
    // The superseded version cannot be corrected again; the current one could.
    expect((await api.as.office.POST('/api/v1/bulletins/{id}/corrections', { params: { path: { id: week2 } }, body: { reason: 'x' } })).response.status).toBe(409);
  });

  it('week 3: rung 4 calls two interviews, which the office records once', async () => {
    // Ten working days after Thursday's deadline: Thursday of week 3.
    await sleepUntil(api.env, at(2, 3, 10));
    const pending = dataOf(await api.as.office.GET('/api/v1/interviews', { params: { query: { status: 'pending' } } }));
    expect(pending.map((i) => [i.caseId, i.department]).sort()).toEqual([
      [ids.B, 'JD'],
      [ids.C, 'SJ'],
    ]);
    const interview = pending.find((i) => i.department === 'JD')!;
    const body = { interviewees: '区住建局 王局长', interviewers: '创建办 李主任', heldAt: at(2, 3, 9, 45).toISO()!, outcome: '三日内清运完毕，纳入年度考核' };
    const done = dataOf(await api.as.office.POST('/api/v1/interviews/{id}/record', { params: { path: { id: interview.id } }, body }));
    expect(done).toMatchObject({ status: 'completed', outcome: '三日内清运完毕，纳入年度考核', interviewees: '区住建局 王局长' });
    expect((await api.as.office.POST('/api/v1/interviews/{id}/record', { params: { path: { id: interview.id } }, body })).response.status).toBe(409);
    // A department sees its own interview, not another's.
    expect((await api.as.JD.GET('/api/v1/interviews/{id}', { params: { path: { id: interview.id } } })).response.status).toBe(200);
    expect((await api.as.SJ.GET('/api/v1/interviews/{id}', { params: { path: { id: interview.id } } })).response.status).toBe(404);

    await sleepUntil(api.env, at(3, 0, 9, 30));
    const doc = (await record(await scheduledDraft())).document as BulletinDocument;
    expect(doc.period).toEqual(week(2));
    // Both tasks reached 约谈 this week: proposed at their highest rung; 4 (interview) + 3 (overdue at rung 4) off.
    expect(doc.items.filter((i) => i.kind === 'criticism').map((i) => [i.taskId, i.summary.includes('第4级（约谈）')])).toEqual([
      [`${ids.B}-T1`, true],
      [`${ids.C}-T1`, true],
    ]);
    expect(doc.ranking.find((r) => r.departmentCode === 'JD')!.deductions).toEqual({ overdue_rung_4: 3, interview: 3 });
    // CG had nothing in week 3: not ranked.
    expect(doc.ranking.map((r) => r.departmentCode)).toEqual(['JD', 'SJ']);
  });

  it('the public reads every published version as HTML, JSON and Atom, and no personal data anywhere', async () => {
    const list = dataOf(await api.as.public.GET('/api/v1/bulletins'));
    expect(list.items.map((b) => b.status)).toEqual(['published', 'superseded', 'published']);
    const index = await api.call('GET', '/bulletins');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const feed = await api.call('GET', '/bulletins/feed.atom');
    expect(feed.headers.get('content-type')).toMatch(/application\/atom\+xml/);
    const parsed = new XMLParser({ ignoreAttributes: false }).parse(feed.text) as { feed: { entry: unknown[] } };
    expect(parsed.feed.entry).toHaveLength(3);
    const outputs = [index.text, feed.text, JSON.stringify(list)];
    for (const item of list.items) {
      outputs.push((await api.call('GET', `/bulletins/${item.id}`)).text, (await api.call('GET', `/bulletins/${item.id}?lang=en`)).text);
      outputs.push((await api.call('GET', `/api/v1/bulletins/${item.id}`)).text);
    }
    outputs.push((await api.call('GET', '/open311/v2/requests.json')).text, (await api.call('GET', '/open311/v2/requests.xml')).text);
    // The case from the complaint is in them, by its office title...
    expect(outputs.join('\n')).toContain('建设路菜场周边占道经营');
    // ...but nothing the complainant gave about themselves, nor the office's reasons for its decisions.
    for (const text of outputs) {
      for (const value of [...Object.values(personal), '市场监管局已书面说明', '群众反映强烈', '复核属实']) expect(text).not.toContain(value);
    }
    // A draft is not public in any form.
    const draft = dataOf(await api.as.office.GET('/api/v1/bulletins/drafts')).at(0)!;
    expect(draft.status).toBe('draft');
    expect((await api.call('GET', `/api/v1/bulletins/${draft.id}`)).status).toBe(404);
    expect((await api.call('GET', `/bulletins/${draft.id}`)).status).toBe(404);
    expect(feed.text).not.toContain(draft.id);
  });
});
