import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeopleService } from '../services/people.service';
import { createTokenService } from '../services/token.service';
import { type ApiStack, pngBytes, startApiStack } from './support/api';
import { launchBrowser, phoneViewport, postFromAnotherSite, seriousViolations, type TestBrowser } from './support/browser';

// The staff's pages in Debian's chromium: the office (desktop) opens a case with a photo; the
// department CG (phone) finds it in its inbox, acknowledges it and submits with a photo; the
// office sends it back once with a comment the department reads, then accepts it and the case
// closes. A double-clicked submit acts once; errors show at their fields; another department
// gets 404 and no office action; sign-in refuses wrong and revoked tokens at the token field;
// sign-out works; a cross-site POST is refused. axe-core checks every page.

let api: ApiStack;
let browser: TestBrowser;

async function expectAccessible(page: Page): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

async function events(caseId: string, action: string): Promise<{ payload: string }[]> {
  return api.db.selectFrom('events').select('payload').where('case_id', '=', caseId).where('action', '=', action).execute();
}

async function fileCount(): Promise<number> {
  const row = await api.db.selectFrom('evidence_files').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${api.url}/signin`);
  await page.locator('#token').fill(token);
  await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/signin')), page.locator('form[action="/signin"] button[type=submit]').click()]);
}

/** A photo the evidence store accepts (its type is sniffed from the content), each name its own picture. */
const photos = new Map<string, Buffer>();
const photo = (name: string) => ({ name, mimeType: 'image/png', buffer: photos.get(name) ?? pngBytes });

beforeAll(async () => {
  for (const [name, background] of [['after.png', '#2e86de'], ['night.png', '#222f3e']] as const) {
    photos.set(name, await sharp({ create: { width: 32, height: 24, channels: 3, background } }).png().toBuffer());
  }
  api = await startApiStack();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('the office and the departments in the browser', () => {
  let office: BrowserContext;
  let officePage: Page;
  let cg: BrowserContext;
  let cgPage: Page;
  let caseId: string;
  let personId: string;

  beforeAll(async () => {
    office = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    officePage = await office.newPage();
    cg = await browser.phone();
    cgPage = await cg.newPage();
    personId = (await createPeopleService({ db: api.db }).addPerson({ department: 'CG' }, { name: '王五', post: '中队长' })).id;
  });
  afterAll(async () => {
    await office?.close();
    await cg?.close();
  });

  it('refuses a wrong or a revoked token at the token field, and a page needs signing in', async () => {
    const response = await officePage.goto(`${api.url}/office`);
    expect(new URL(officePage.url()).pathname).toBe('/signin');
    expect(response?.status()).toBe(200);
    await expectAccessible(officePage);

    await officePage.locator('#token').fill(`dbn_${'x'.repeat(43)}`);
    await Promise.all([officePage.waitForLoadState(), officePage.locator('form[action="/signin"] button[type=submit]').click()]);
    await expect.poll(() => officePage.locator('#token-error').textContent()).toContain('令牌无效或已吊销');
    expect(await officePage.getAttribute('#token', 'aria-invalid')).toBe('true');
    expect(await officePage.getAttribute('#token', 'aria-describedby')).toContain('token-error');
    await expectAccessible(officePage);

    const tokens = createTokenService({ db: api.db });
    const revoked = await tokens.create({ role: 'office', name: 'gone' });
    await tokens.revoke(revoked.id);
    await officePage.locator('#token').fill(revoked.token);
    await Promise.all([officePage.waitForLoadState(), officePage.locator('form[action="/signin"] button[type=submit]').click()]);
    await expect.poll(() => officePage.locator('#token-error').textContent()).toContain('令牌无效或已吊销');
    expect((await office.cookies(api.url)).some((c) => c.name === 'duban_session')).toBe(false);
  });

  it('the office signs in and opens a case with a photo (desktop)', async () => {
    await signIn(officePage, api.tokens.office);
    expect(new URL(officePage.url()).pathname).toBe('/office');
    await expectAccessible(officePage);
    const session = (await office.cookies(api.url)).find((c) => c.name === 'duban_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // The cookie holds no token in the clear.
    expect(session!.value).not.toContain(api.tokens.office);
    expect(session!.value).not.toContain(api.tokens.office.slice(4, 20));

    await officePage.goto(`${api.url}/cases/new`);
    await expectAccessible(officePage);
    await officePage.getByLabel('标题').fill('人民路 12 号占道经营');
    await officePage.getByLabel('情况说明').fill('夜间摊位堵住人行道');
    await officePage.getByLabel('类别').selectOption('市容秩序');
    await officePage.getByLabel('牵头单位').selectOption('CG');
    await officePage.getByLabel('地点').fill('人民路 12 号');
    await officePage.getByLabel('现场照片（可多张）').setInputFiles([photo('before.png')]);
    await Promise.all([officePage.waitForURL(/\/cases\/DB-\d{4}-\d+$/), officePage.getByRole('button', { name: '交办', exact: true }).click()]);
    caseId = new URL(officePage.url()).pathname.split('/').pop()!;
    expect(await officePage.locator('#case-status').getAttribute('data-status')).toBe('open');
    const before = officePage.locator('.side-by-side img').first();
    expect(await before.getAttribute('src')).toMatch(/^\/files\/[0-9a-f]{64}$/);
    const file = await officePage.request.get(`${api.url}${await before.getAttribute('src')}`);
    expect(file.status()).toBe(200);
    expect(Buffer.from(await file.body()).equals(pngBytes)).toBe(true);
    await expectAccessible(officePage);
    expect((await events(caseId, 'case.opened')).length).toBe(1);

    // The dashboard counts the new task: open, by status and by department.
    await officePage.goto(`${api.url}/office`);
    expect(await officePage.locator('#open-count').textContent()).toBe('1');
    expect(await officePage.locator('#overdue-count').textContent()).toBe('0');
    expect(await officePage.locator('#departments tr[data-department="CG"] td').first().textContent()).toBe('1');
  });

  it('the department CG signs in on a phone, finds the task in its inbox and acknowledges it', async () => {
    expect(cgPage.viewportSize()).toEqual(phoneViewport);
    await signIn(cgPage, api.tokens.CG);
    expect(new URL(cgPage.url()).pathname).toBe('/inbox');
    const card = cgPage.locator(`[data-case="${caseId}"]`);
    expect(await card.count()).toBe(1);
    expect(await card.textContent()).toContain('待签收');
    await expectAccessible(cgPage);
    // No office action anywhere for a department.
    expect(await cgPage.locator('a[href="/office"], a[href="/cases/new"]').count()).toBe(0);

    await Promise.all([cgPage.waitForURL(`**/cases/${caseId}`), card.getByRole('link').click()]);
    await expectAccessible(cgPage);
    expect(await cgPage.locator('form[action$="/verify"]').count()).toBe(0);
    await cgPage.getByLabel('责任人（可选）').selectOption(personId);
    await Promise.all([cgPage.waitForURL(`**/cases/${caseId}**`), cgPage.getByRole('button', { name: '签收任务' }).click()]);
    expect(await cgPage.locator('#task-status').getAttribute('data-status')).toBe('acknowledged');
    expect(await cgPage.locator('#responsible-person').textContent()).toContain('王五');
  });

  it('shows an error at its field (a rectification without a report) and stores nothing', async () => {
    const uploads = await fileCount();
    await cgPage.getByLabel('整改后照片').setInputFiles([photo('after.png')]);
    await Promise.all([cgPage.waitForLoadState(), cgPage.getByRole('button', { name: '提交整改', exact: true }).click()]);
    await expect.poll(() => cgPage.locator('#submit-report-error').count()).toBe(1);
    expect(await cgPage.getAttribute('#submit-report', 'aria-invalid')).toBe('true');
    expect(await cgPage.locator('#task-status').getAttribute('data-status')).toBe('acknowledged');
    expect(await events(caseId, 'task.submitted')).toHaveLength(0);
    expect(await fileCount()).toBe(uploads);
    await expectAccessible(cgPage);
  });

  it('a double-clicked submit with a photo acts once', async () => {
    await cgPage.getByLabel('整改情况报告').fill('已清理摊位，恢复通行');
    await cgPage.getByLabel('整改后照片').setInputFiles([photo('after.png')]);
    const submitForm = cgPage.locator('form[action$="/submit"]');
    const sent = { _csrf: await submitForm.locator('input[name=_csrf]').inputValue(), formToken: await submitForm.locator('input[name=formToken]').inputValue() };
    const button = cgPage.getByRole('button', { name: '提交整改', exact: true });
    await Promise.all([cgPage.waitForURL(`**/cases/${caseId}**`), button.dblclick()]);
    await expect.poll(() => cgPage.locator('#task-status').getAttribute('data-status')).toBe('submitted');
    expect(await events(caseId, 'task.submitted')).toHaveLength(1);
    expect(await cgPage.locator('#last-report').textContent()).toContain('已清理摊位');
    // The form's token, sent again, does nothing more: the answer is where the first one went.
    const taskId = (await api.db.selectFrom('tasks').select('id').where('case_id', '=', caseId).executeTakeFirstOrThrow()).id;
    const again = await cgPage.request.post(`${api.url}/cases/${caseId}/tasks/${taskId}/submit`, {
      form: { ...sent, report: '再交一次' },
      maxRedirects: 0,
    });
    expect(again.status()).toBe(303);
    expect(again.headers().location).toBe(`/cases/${caseId}#task-${taskId}`);
    expect(await events(caseId, 'task.submitted')).toHaveLength(1);
  });

  it('the office sends it back once with a comment; the department reads it and submits again', async () => {
    await officePage.goto(`${api.url}/cases/${caseId}`);
    const task = officePage.locator(`section.task[data-department="CG"]`);
    expect(await task.locator('.side-by-side img').count()).toBe(2);
    await expectAccessible(officePage);
    // A rejection without a comment: refused at the comment field.
    await task.getByLabel('退回返工').check();
    await Promise.all([officePage.waitForLoadState(), task.getByRole('button', { name: '提交核查结论' }).click()]);
    const refused = officePage.locator('section.task[data-department="CG"]');
    await expect.poll(() => refused.locator('textarea[aria-invalid="true"]').count()).toBe(1);
    expect(await events(caseId, 'task.rejected')).toHaveLength(0);
    await refused.getByLabel('核查意见').fill('请补拍夜间照片');
    await Promise.all([officePage.waitForURL(`**/cases/${caseId}**`), refused.getByRole('button', { name: '提交核查结论' }).click()]);
    expect(await events(caseId, 'task.rejected')).toHaveLength(1);

    await cgPage.goto(`${api.url}/cases/${caseId}`);
    expect(await cgPage.locator('#task-status').getAttribute('data-status')).toBe('rework');
    expect(await cgPage.locator('#timeline [data-action="task.rejected"]').textContent()).toContain('请补拍夜间照片');
    await cgPage.getByLabel('整改情况报告').fill('已补拍夜间照片');
    await cgPage.getByLabel('整改后照片').setInputFiles([photo('night.png')]);
    await Promise.all([cgPage.waitForURL(`**/cases/${caseId}**`), cgPage.getByRole('button', { name: '提交整改', exact: true }).click()]);
    expect(await cgPage.locator('#task-status').getAttribute('data-status')).toBe('submitted');
    expect(await events(caseId, 'task.submitted')).toHaveLength(2);
  });

  it('the office accepts and the case shows closed', async () => {
    await officePage.goto(`${api.url}/cases/${caseId}`);
    const task = officePage.locator(`section.task[data-department="CG"]`);
    await task.getByLabel('通过（办结）').check();
    await Promise.all([officePage.waitForURL(`**/cases/${caseId}**`), task.getByRole('button', { name: '提交核查结论' }).click()]);
    await expect
      .poll(async () => {
        await officePage.goto(`${api.url}/cases/${caseId}`);
        return officePage.locator('#case-status').getAttribute('data-status');
      })
      .toBe('closed');
    await expectAccessible(officePage);
    await cgPage.goto(`${api.url}/inbox`);
    expect(await cgPage.locator(`[data-case="${caseId}"]`).count()).toBe(0);
  });

  it("SJ gets 404 for CG's task and never sees an office action", async () => {
    const sj = await browser.phone();
    const page = await sj.newPage();
    await signIn(page, api.tokens.SJ);
    for (const path of [`/cases/${caseId}`, '/office', '/cases/new']) {
      const response = await page.goto(`${api.url}${path}`);
      expect(response?.status()).toBe(404);
      expect(await page.locator('form[action$="/verify"], a[href="/cases/new"], a[href="/office"]').count()).toBe(0);
    }
    await expectAccessible(page);
    // Posting a command to CG's task by its URL: 404 as well, nothing recorded.
    await page.goto(`${api.url}/inbox`);
    const csrf = await page.locator('form.signout input[name=_csrf]').inputValue();
    const taskId = (await api.db.selectFrom('tasks').select('id').where('case_id', '=', caseId).executeTakeFirstOrThrow()).id;
    const posted = await page.request.post(`${api.url}/cases/${caseId}/tasks/${taskId}/transfer`, { form: { _csrf: csrf, reason: '不归我们管' } });
    expect(posted.status()).toBe(404);
    expect(await events(caseId, 'task.transfer_requested')).toHaveLength(0);
    await sj.close();
  });

  it('signs out, and refuses a sign-out posted from another site', async () => {
    expect(await postFromAnotherSite(cg, `${api.url}/signout`)).toBe(403);
    await cgPage.goto(`${api.url}/inbox`);
    expect(new URL(cgPage.url()).pathname).toBe('/inbox');

    await Promise.all([cgPage.waitForURL('**/signin**'), cgPage.getByRole('button', { name: '退出登录' }).click()]);
    expect((await cg.cookies(api.url)).some((c) => c.name === 'duban_session')).toBe(false);
    await cgPage.goto(`${api.url}/inbox`);
    expect(new URL(cgPage.url()).pathname).toBe('/signin');
  });

  it('a revoked token signs its user out on the next page', async () => {
    const tokens = createTokenService({ db: api.db });
    const soon = await tokens.create({ role: 'department', department: 'CG', name: 'CG 临时' });
    const context = await browser.phone();
    const page = await context.newPage();
    await signIn(page, soon.token);
    expect(new URL(page.url()).pathname).toBe('/inbox');
    await tokens.revoke(soon.id);
    await page.goto(`${api.url}/inbox`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await context.close();
  });
});
