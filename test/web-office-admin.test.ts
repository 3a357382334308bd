import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';
import { launchBrowser, seriousViolations, type TestBrowser } from './support/browser';

// The office's remaining pages in Debian's chromium: complaint triage (convert one complaint,
// dismiss another as a duplicate naming the first), the extension decision (the new deadline
// shows), reassignment (the new department finds the task in its inbox), suspension and
// resumption, departments and people, tokens (shown once; revoked, its session ends); a
// department gets 404 on every office page; the English switch. axe-core checks every page.

let api: ApiStack;
let browser: TestBrowser;

async function expectAccessible(page: Page): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${api.url}/signin`);
  await page.locator('#token').fill(token);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/signin')), page.locator('form[action="/signin"] button[type=submit]').click()]);
}

/** Sends a form of the page and waits for the page it leads to. */
async function send(page: Page, formId: string): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.locator(`#${formId} button[type=submit]`).click()]);
}

async function events(caseId: string, action: string): Promise<{ payload: string }[]> {
  return api.db.selectFrom('events').select('payload').where('case_id', '=', caseId).where('action', '=', action).execute();
}

const openedCases: string[] = [];

async function openCase(title: string): Promise<string> {
  const opened = await api.call('POST', '/api/v1/cases', {
    token: api.tokens.office,
    body: { title, category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' },
  });
  expect(opened.status).toBe(201);
  openedCases.push(opened.body.caseId as string);
  return opened.body.caseId as string;
}

beforeAll(async () => {
  api = await startApiStack();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe("the office's pages in the browser", () => {
  let office: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    office = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    page = await office.newPage();
    await signIn(page, api.tokens.office);
  });
  afterAll(async () => {
    await office?.close();
  });

  it('triages complaints: converts one into a case, dismisses another as its duplicate', async () => {
    // The first through the public's form, with a photo (stored stripped), the second through the API.
    const visitor = await browser.phone();
    const form = await visitor.newPage();
    await form.goto(`${api.url}/report`);
    await form.getByLabel('问题描述').fill('人行道上堆满了建筑垃圾');
    await form.getByLabel('照片（可多张）').setInputFiles([{ name: 'IMG_0002.png', mimeType: 'image/png', buffer: await sharp({ create: { width: 32, height: 24, channels: 3, background: '#8e44ad' } }).png().toBuffer() }]);
    await form.locator('#phone').fill('13800138000');
    await Promise.all([form.waitForURL(/\/report\/filed\/TS-/), form.getByRole('button', { name: '提交' }).click()]);
    const a = (await form.textContent('#tracking-code'))!.trim();
    await visitor.close();
    const second = await api.call('POST', '/api/v1/complaints', { body: { description: '同一处建筑垃圾还在' } });
    const b = second.body.trackingCode as string;
    await page.goto(`${api.url}/office/complaints`);
    await expect(page.locator(`[data-code="${a}"] .contact`).textContent()).resolves.toContain('13800138000');
    // The office sees the complaint's photo, served through /files/.
    const src = (await page.locator(`[data-code="${a}"] .photos img`).getAttribute('src'))!;
    expect(src).toMatch(/^\/files\/[0-9a-f]{64}$/);
    const photo = await page.request.get(`${api.url}${src}`);
    expect(photo.status()).toBe(200);
    expect(photo.headers()['content-type']).toBe('image/png');
    await expectAccessible(page);

    // Converting without a title is refused at the title field, the other values kept.
    await page.locator(`#convert-${a}-leadDepartment`).selectOption('CG');
    await send(page, `convert-${a}`);
    await expect(page.locator(`#convert-${a}-title-error`).textContent()).resolves.toBeTruthy();
    await expect(page.locator(`#convert-${a}-leadDepartment`).inputValue()).resolves.toBe('CG');
    await page.locator(`#convert-${a}-title`).fill('人行道建筑垃圾');
    await page.locator(`#convert-${a}-category`).selectOption('市容秩序');
    await send(page, `convert-${a}`);
    expect(new URL(page.url()).pathname).toMatch(/^\/cases\/DB-\d{4}-\d+$/);
    const caseId = new URL(page.url()).pathname.split('/')[2]!;
    await expect(page.locator('main').textContent()).resolves.toContain(caseId);
    await expect(page.locator('main').textContent()).resolves.toContain(a);

    // A duplicate of a code that does not exist is refused at its field; naming the first is taken.
    await page.goto(`${api.url}/office/complaints`);
    await page.locator(`#dismiss-${b}-duplicateOf`).fill('TS-00000-00000');
    await send(page, `dismiss-${b}`);
    await expect(page.locator(`#dismiss-${b}-duplicateOf-error`).textContent()).resolves.toBeTruthy();
    await expect(page.locator(`#dismiss-${b}-duplicateOf`).inputValue()).resolves.toBe('TS-00000-00000');
    await page.locator(`#dismiss-${b}-duplicateOf`).fill(a);
    await send(page, `dismiss-${b}`);
    await expect(page.locator(`[data-code="${b}"]`).count()).resolves.toBe(0);
    const tracked = await api.call('GET', `/api/v1/complaints/${b}`);
    expect(tracked.body.status).toBe('dismissed');
    // It names the case the first became, never the first's tracking code (its complainant's credential).
    expect(tracked.body.dismissReason).toContain(caseId);
    expect(tracked.body.dismissReason).not.toContain(a);
  });

  it("approves a department's extension request, and the new deadline shows", async () => {
    const caseId = await openCase('延期审批');
    const taskId = `${caseId}-T1`;
    const task = `/api/v1/cases/${caseId}/tasks/${taskId}`;
    expect((await api.call('POST', `${task}/acknowledge`, { token: api.tokens.CG, body: {} })).status).toBe(200);
    expect((await api.call('POST', `${task}/extension-request`, { token: api.tokens.CG, body: { workingDays: 5, reason: '材料未到' } })).status).toBe(200);
    const before = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.tasks[0].rectificationDueAt as string;
    await page.goto(`${api.url}/cases/${caseId}`);
    await expectAccessible(page);
    // No decision chosen: refused at the decision field.
    await send(page, `extensionDecision-${taskId}`);
    await expect(page.locator(`#extensionDecision-${taskId}-decision-error`).textContent()).resolves.toBeTruthy();
    await page.locator(`#extensionDecision-${taskId} input[value=approve]`).check();
    await page.locator(`#extensionDecision-${taskId}-workingDays`).fill('3');
    await send(page, `extensionDecision-${taskId}`);
    const after = (await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office })).body.tasks[0].rectificationDueAt as string;
    expect(after > before).toBe(true);
    const shown = await page.locator(`#task-${taskId} dd time`).evaluateAll((times) => times.map((t) => t.getAttribute('datetime')));
    expect(shown.map((t) => Date.parse(t))).toContain(Date.parse(after));
    await expect(page.locator(`#extensionDecision-${taskId}`).count()).resolves.toBe(0);
    expect(await events(caseId, 'task.extension_granted')).toHaveLength(1);
  });

  it('suspends and resumes a task, then reassigns it: the new department finds it in its inbox', async () => {
    const caseId = await openCase('改派挂起');
    const taskId = `${caseId}-T1`;
    await page.goto(`${api.url}/cases/${caseId}`);
    await send(page, `suspend-${taskId}`);
    await expect(page.locator(`#suspend-${taskId}-reason-error`).textContent()).resolves.toBeTruthy();
    await page.locator(`#suspend-${taskId}-reason`).fill('等待天气好转');
    await send(page, `suspend-${taskId}`);
    await expect(page.locator(`#task-${taskId} .mark-suspended`).count()).resolves.toBe(1);
    await expectAccessible(page);
    await send(page, `resume-${taskId}`);
    await expect(page.locator(`#task-${taskId} .mark-suspended`).count()).resolves.toBe(0);
    await expect(page.locator(`#suspend-${taskId}`).count()).resolves.toBe(1);

    await page.locator(`#reassign-${taskId}-toDepartment`).selectOption('JD');
    await page.locator(`#reassign-${taskId}-reason`).fill('属于街道管辖');
    await send(page, `reassign-${taskId}`);
    await expect(page.locator('[data-department="JD"]').count()).resolves.toBeGreaterThan(0);
    const jd = await browser.browser.newContext();
    const jdPage = await jd.newPage();
    await signIn(jdPage, api.tokens.JD);
    await jdPage.goto(`${api.url}/inbox`);
    await expect(jdPage.locator(`[data-case="${caseId}"]`).count()).resolves.toBe(1);
    await jd.close();
  });

  it("decides a department's transfer requests (rejected at the comment field without one), and withdraws a case", async () => {
    const caseId = await openCase('转办与撤销');
    const taskId = `${caseId}-T1`;
    const request = () => api.call('POST', `/api/v1/cases/${caseId}/tasks/${taskId}/transfer-request`, { token: api.tokens.CG, body: { reason: '不属于本局', suggestedDepartment: 'SJ' } });
    expect((await request()).status).toBe(200);
    await page.goto(`${api.url}/cases/${caseId}`);
    await expect(page.locator(`#reassign-${taskId}`).count()).resolves.toBe(0);
    await expect(page.locator(`#transferDecision-${taskId}-toDepartment`).inputValue()).resolves.toBe('SJ');
    await page.locator(`#transferDecision-${taskId} input[value=reject]`).check();
    await send(page, `transferDecision-${taskId}`);
    await expect(page.locator(`#transferDecision-${taskId}-comment-error`).textContent()).resolves.toBeTruthy();
    await expect(page.locator(`#transferDecision-${taskId} input[value=reject]`).isChecked()).resolves.toBe(true);
    await page.locator(`#transferDecision-${taskId}-comment`).fill('属于本局职责');
    await send(page, `transferDecision-${taskId}`);
    await expect(page.locator(`#transferDecision-${taskId}`).count()).resolves.toBe(0);
    expect(await events(caseId, 'task.transfer_rejected')).toHaveLength(1);

    expect((await request()).status).toBe(200);
    await page.reload();
    await page.locator(`#transferDecision-${taskId} input[value=transfer]`).check();
    await page.locator(`#transferDecision-${taskId}-comment`).fill('转市场监管局办理');
    await send(page, `transferDecision-${taskId}`);
    const record = await api.call('GET', `/api/v1/cases/${caseId}`, { token: api.tokens.office });
    expect(record.body.tasks.map((t: { department: string; status: string }) => `${t.department}:${t.status}`)).toEqual(['CG:transferred', 'SJ:assigned']);

    await send(page, 'withdraw');
    await expect(page.locator('#withdraw-reason-error').textContent()).resolves.toBeTruthy();
    await page.locator('#withdraw-reason').fill('重复立案');
    await send(page, 'withdraw');
    await expect(page.locator('#case-status').getAttribute('data-status')).resolves.toBe('withdrawn');
    await expect(page.locator('#withdraw').count()).resolves.toBe(0);
  });

  it('drafts a bulletin now, takes out and adds items with reasons, approves it: the public list shows it', async () => {
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });
    await page.goto(`${api.url}/office/bulletins`);
    await expectAccessible(page);
    // A period that ends before it starts is refused at the end date, the dates kept.
    await page.locator('#draft-from').fill(day(0));
    await page.locator('#draft-to').fill(day(-7));
    await send(page, 'draft');
    await expect(page.locator('#draft-to-error').textContent()).resolves.toBeTruthy();
    await expect(page.locator('#draft-from').inputValue()).resolves.toBe(day(0));
    await page.locator('#draft-from').fill(day(-7));
    await page.locator('#draft-to').fill(day(0));
    await send(page, 'draft');
    expect(new URL(page.url()).pathname).toMatch(/^\/office\/bulletins\/bl_[0-9a-f]{12}$/);
    const id = new URL(page.url()).pathname.split('/')[3]!;
    await expect(page.locator('#bulletin-status').getAttribute('data-status')).resolves.toBe('draft');
    const title = (await page.locator('h1').textContent())!;

    const [first, second] = openedCases as [string, string];
    const add = async (kind: string, caseId: string, reason: string) => {
      await page.locator(`#add input[name=kind][value=${kind}]`).check();
      await page.locator('#add-caseId').fill(caseId);
      await page.locator('#add-summary').fill(`${caseId} 办理情况`);
      await page.locator('#add-reason').fill(reason);
      await send(page, 'add');
    };
    // Without a reason: refused at the reason field, the case kept.
    await add('criticism', first, '');
    await expect(page.locator('#add-reason-error').textContent()).resolves.toBeTruthy();
    await expect(page.locator('#add-caseId').inputValue()).resolves.toBe(first);
    await add('criticism', first, '逾期未签收');
    await add('exposure', second, '典型问题');
    await expect(page.locator(`[data-item="criticism:${first}"]`).count()).resolves.toBe(1);
    await expectAccessible(page);
    const removal = `#remove-criticism_${first}`;
    await page.locator(`${removal}-reason`).fill('情况已核实，不予通报');
    await send(page, `remove-criticism_${first}`);
    await expect(page.locator(`[data-item="criticism:${first}"]`).count()).resolves.toBe(0);
    await expect(page.locator(`[data-item="exposure:${second}"]`).count()).resolves.toBe(1);
    await expect(page.locator('#decisions').textContent()).resolves.toContain('情况已核实，不予通报');

    await send(page, 'approve');
    await expect(page.locator('#bulletin-status').getAttribute('data-status')).resolves.toBe('published');
    await expect(page.locator('#correct').count()).resolves.toBe(1);
    const published = await api.call('GET', `/api/v1/bulletins/${id}`);
    expect(published.status).toBe(200);
    expect(published.body.document.items.map((i: { id: string }) => i.id)).toEqual([`exposure:${second}`]);
    await page.goto(`${api.url}/bulletins`);
    await expect(page.locator(`a[href^="/bulletins/${id}"]`).count()).resolves.toBeGreaterThan(0);
    expect(await page.content()).toContain(published.body.number as string);
    expect(published.body.document.title).toBe(title);
  });

  it('adds a department and a person with a role', async () => {
    await page.goto(`${api.url}/office/departments`);
    await expectAccessible(page);
    await page.locator('#department-code').fill('HB');
    await send(page, 'department');
    await expect(page.locator('#department-name-error').textContent()).resolves.toBeTruthy();
    await expect(page.locator('#department-code').inputValue()).resolves.toBe('HB');
    await page.locator('#department-name').fill('环保局');
    await send(page, 'department');
    await expect(page.locator('#departments [data-department="HB"]').count()).resolves.toBe(1);

    await page.goto(`${api.url}/office/people?department=HB`);
    await page.locator('#person-name').fill('赵六');
    await page.locator('#person-post').fill('科长');
    await page.locator('#person input[name=roles][value=liaison]').check();
    await send(page, 'person');
    await expect(page.locator('#people').textContent()).resolves.toContain('赵六');
    await expectAccessible(page);
    const people = await api.call('GET', '/api/v1/departments/HB/people', { token: api.tokens.office });
    expect(people.body.items ?? people.body).toEqual(expect.arrayContaining([expect.objectContaining({ name: '赵六', roles: ['liaison'] })]));
  });

  it('creates a token, shown once, and revokes it: its session ends', async () => {
    await page.goto(`${api.url}/office/tokens`);
    await expectAccessible(page);
    await page.locator('#token-name').fill('城管值班');
    await page.locator('#token-department').selectOption('CG');
    await send(page, 'token');
    const token = (await page.locator('#new-token-value').textContent())!;
    expect(token).toMatch(/^dbn_/);
    await page.goto(`${api.url}/office/tokens`);
    await expect(page.locator('#new-token-value').count()).resolves.toBe(0);
    expect(await page.content()).not.toContain(token);

    const holder = await browser.browser.newContext();
    const holderPage = await holder.newPage();
    await signIn(holderPage, token);
    expect(new URL(holderPage.url()).pathname).toBe('/inbox');
    const id = (await page.locator('li[data-token]').filter({ hasText: '城管值班 · tok_' }).getAttribute('data-token'))!;
    await send(page, `revoke-${id}`);
    await expect(page.locator(`[data-token="${id}"]`).getAttribute('data-revoked')).resolves.toBe('yes');
    await holderPage.goto(`${api.url}/inbox`);
    expect(new URL(holderPage.url()).pathname).toBe('/signin');
    await holder.close();
  });

  it('gives a department 404 on every office page, and the public the sign-in page', async () => {
    const sj = await browser.browser.newContext();
    const sjPage = await sj.newPage();
    await signIn(sjPage, api.tokens.SJ);
    for (const path of ['/office/complaints', '/office/bulletins', '/office/departments', '/office/people', '/office/people?department=CG', '/office/tokens']) {
      const response = await sjPage.goto(`${api.url}${path}`);
      expect(response?.status(), path).toBe(404);
    }
    await sj.close();
    const visitor = await browser.browser.newContext();
    const visitorPage = await visitor.newPage();
    await visitorPage.goto(`${api.url}/office/tokens`);
    expect(new URL(visitorPage.url()).pathname).toBe('/signin');
    await visitor.close();
  });

  it('switches an office page to English', async () => {
    await page.goto(`${api.url}/office/complaints`);
    await Promise.all([page.waitForNavigation(), page.locator('a.lang').click()]);
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expect(page.locator('h1').textContent()).resolves.toBe('Complaint triage');
    await expectAccessible(page);
  });
});
