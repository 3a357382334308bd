/**
 * Writes screenshots of the web pages to docs/screenshots/ (for the README and docs/web.md), from
 * a real stack (the test support's API on the time-skipping server) in Debian's chromium, at phone
 * size and on a desktop. Not a test (it asserts nothing); run it with vitest, which runs the
 * TypeScript and the stack's global set-up:
 *
 *   npx vitest run --config scripts/screenshots.config.mts
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, it } from 'vitest';
import sharp from 'sharp';
import { type ApiStack, dataOf, startApiStack } from '../test/support/api';
import { launchBrowser, type TestBrowser } from '../test/support/browser';
import { complaintCase } from '../test/support/follow-up';

const out = path.join(__dirname, '..', 'docs', 'screenshots');
let api: ApiStack;
let browser: TestBrowser;

beforeAll(async () => {
  fs.mkdirSync(out, { recursive: true });
  api = await startApiStack({ officeName: '某某区创建文明城市工作办公室' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
}

it('writes a screenshot of each public page', async () => {
  const phone = await browser.phone();
  const page = await phone.newPage();
  await page.goto(`${api.url}/report`);
  await shoot(page, 'web-report-phone');
  await page.getByLabel('电子邮件').fill('不是邮件地址');
  await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/report"] button[type=submit]').click()]);
  await shoot(page, 'web-report-errors-phone');
  await page.getByLabel('问题描述').fill('人民路 12 号门口夜间占道经营，堵住人行道');
  await page.getByLabel('电子邮件').fill('');
  await Promise.all([page.waitForURL(/\/report\/filed\//), page.locator('form[action="/report"] button[type=submit]').click()]);
  await shoot(page, 'web-filed-phone');
  await page.goto(`${api.url}/track`);
  await shoot(page, 'web-track-lookup-phone');

  // A complaint the office converted, the department rectified, and the office answered with a photo.
  const after = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#5d8a66' } }).jpeg().toBuffer();
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(after)], { type: 'image/jpeg' }), 'after.jpg');
  const upload = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', headers: { authorization: `Bearer ${api.tokens.CG}` }, body: form });
  const [photo] = (await upload.json()) as { sha256: string }[];
  const { trackingCode } = await complaintCase(api, 'answered', photo!.sha256);
  await page.goto(`${api.url}/track/${trackingCode}`);
  await shoot(page, 'web-track-answered-phone');
  await page.goto(`${api.url}/track/${trackingCode}?lang=en`);
  await shoot(page, 'web-track-answered-en-phone');
  await phone.close();

  const desktop = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const wide = await desktop.newPage();
  await wide.goto(`${api.url}/report`);
  await shoot(wide, 'web-report-desktop');
  const tracked = dataOf(await api.as.public.GET('/api/v1/complaints/{trackingCode}', { params: { path: { trackingCode } } }));
  await wide.goto(`${api.url}/track/${tracked.trackingCode}`);
  await shoot(wide, 'web-track-desktop');
  await desktop.close();
});

it("writes a screenshot of each staff page: the office's (desktop) and a department's (phone)", async () => {
  const signIn = async (page: Page, token: string) => {
    await page.goto(`${api.url}/signin`);
    await page.locator('#token').fill(token);
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/signin')), page.locator('form[action="/signin"] button[type=submit]').click()]);
  };
  const picture = (background: string) => sharp({ create: { width: 640, height: 480, channels: 3, background } }).jpeg().toBuffer();

  const desktop = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const office = await desktop.newPage();
  await office.goto(`${api.url}/signin`);
  await shoot(office, 'web-signin-desktop');
  await signIn(office, api.tokens.office);
  await office.goto(`${api.url}/cases/new`);
  await shoot(office, 'web-case-new-desktop');
  await office.getByLabel('标题').fill('人民路 12 号占道经营');
  await office.getByLabel('情况说明').fill('夜间摊位堵住人行道，行人只能走机动车道。');
  await office.getByLabel('类别').selectOption('市容秩序');
  await office.getByLabel('牵头单位').selectOption('CG');
  await office.getByLabel('地点').fill('人民路 12 号');
  await office.getByLabel('现场照片（可多张）').setInputFiles([{ name: 'before.jpg', mimeType: 'image/jpeg', buffer: await picture('#b33939') }]);
  await Promise.all([office.waitForURL(/\/cases\/DB-/), office.locator('form[action="/cases/new"] button[type=submit]').click()]);
  const caseUrl = office.url();

  const phone = await browser.phone();
  const cg = await phone.newPage();
  await signIn(cg, api.tokens.CG);
  await shoot(cg, 'web-inbox-phone');
  await cg.goto(caseUrl);
  await shoot(cg, 'web-task-phone');
  await Promise.all([cg.waitForURL(`${caseUrl}**`), cg.locator('form[action$="/acknowledge"] button[type=submit]').click()]);
  await cg.getByLabel('整改情况报告').fill('已清理摊位，恢复通行。');
  await cg.getByLabel('整改后照片').setInputFiles([{ name: 'after.jpg', mimeType: 'image/jpeg', buffer: await picture('#5d8a66') }]);
  await Promise.all([cg.waitForURL(`${caseUrl}**`), cg.locator('form[action$="/submit"] button[type=submit]').click()]);
  await shoot(cg, 'web-task-submitted-phone');
  await phone.close();

  await office.goto(caseUrl);
  await shoot(office, 'web-case-verify-desktop');
  await office.goto(`${api.url}/office`);
  await shoot(office, 'web-office-desktop');
  await desktop.close();
});

it("writes a screenshot of the office's other pages: triage, a bulletin draft, people, tokens (desktop)", async () => {
  const desktop = await browser.browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const office = await desktop.newPage();
  await office.goto(`${api.url}/signin`);
  await office.locator('#token').fill(api.tokens.office);
  await Promise.all([office.waitForURL((url) => !url.pathname.startsWith('/signin')), office.locator('form[action="/signin"] button[type=submit]').click()]);
  await api.call('POST', '/api/v1/complaints', {
    body: { description: '解放路菜场门口污水外溢，气味很大', category: '环境卫生', location: { address: '解放路 88 号' }, contact: { name: '李女士', phone: '13900139000' } },
  });
  await office.goto(`${api.url}/office/complaints`);
  await shoot(office, 'web-office-complaints-desktop');

  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' });
  await office.goto(`${api.url}/office/bulletins`);
  await office.locator('#draft-from').fill(day(-7));
  await office.locator('#draft-to').fill(day(0));
  await Promise.all([office.waitForURL(/\/office\/bulletins\/bl_/), office.locator('#draft button[type=submit]').click()]);
  const cases = dataOf(await api.as.office.GET('/api/v1/cases'));
  const caseId = cases.items[0]?.id;
  if (caseId) {
    await office.locator('#add input[name=kind][value=notable_closure]').check();
    await office.locator('#add-caseId').fill(caseId);
    await office.locator('#add-summary').fill('当日清理占道摊位，恢复人行道通行。');
    await office.locator('#add-reason').fill('整改迅速，效果明显');
    await Promise.all([office.waitForNavigation(), office.locator('#add button[type=submit]').click()]);
  }
  await shoot(office, 'web-office-bulletin-desktop');
  await office.goto(`${api.url}/office/people?department=CG`);
  await shoot(office, 'web-office-people-desktop');
  await office.goto(`${api.url}/office/tokens`);
  await shoot(office, 'web-office-tokens-desktop');
  await desktop.close();
});
