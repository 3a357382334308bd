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
