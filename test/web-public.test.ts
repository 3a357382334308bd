import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackingCodePattern } from '../services/complaint.service';
import { DirectoryEvidenceStore } from '../services/evidence.store';
import { type ApiStack, dataOf, pngBytes, startApiStack } from './support/api';
import { launchBrowser, postFromAnotherSite, seriousViolations, type TestBrowser } from './support/browser';

// The public's pages in Debian's chromium at phone size: filing a complaint with a photo (its
// EXIF GPS gone from what is stored), following it by code as the office works it, the answer
// and the rating, the English switch, errors at their fields, one complaint per form however
// often it is sent, and no posting from another site. axe-core checks every page.

let api: ApiStack;
let browser: TestBrowser;

/** A JPEG from a camera that wrote where it stood (EXIF GPS) and who owns it. */
async function photoWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 96, height: 64, channels: 3, background: '#c0392b' } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'DubanTestCam', Copyright: 'owner-secret-name' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '31/1 14/1 1234/100', GPSLongitudeRef: 'E', GPSLongitude: '121/1 28/1 500/100' },
    })
    .toBuffer();
}

/** Whether EXIF data holds a pointer to a GPS block (tag 0x8825, in either byte order). */
const hasGpsPointer = (exif: Buffer) => exif.includes(Buffer.from([0x88, 0x25])) || exif.includes(Buffer.from([0x25, 0x88]));

async function complaintCount(): Promise<number> {
  const row = await api.db.selectFrom('complaints').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function expectAccessible(page: Page): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

const statusOf = (page: Page) => page.locator('#complaint-status').getAttribute('data-status');

beforeAll(async () => {
  api = await startApiStack();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

describe('the public pages', () => {
  let context: BrowserContext;
  let page: Page;
  let trackingCode: string;

  beforeAll(async () => {
    context = await browser.phone({ geolocation: { latitude: 31.2304, longitude: 121.4737 } });
    page = await context.newPage();
  });
  afterAll(async () => context?.close());

  it('files a complaint with a photo from the phone; the stored photo has no EXIF, no GPS', async () => {
    const original = await photoWithGps();
    const originalMeta = await sharp(original).metadata();
    expect(originalMeta.exif && hasGpsPointer(originalMeta.exif)).toBe(true);
    const before = await complaintCount();

    const response = await page.goto(`${api.url}/report`);
    expect(response?.status()).toBe(200);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await expect.poll(() => page.isVisible('[data-geolocate]')).toBe(true);
    await expectAccessible(page);

    await page.getByLabel('问题描述').fill('人民路 12 号门口夜间占道经营，堵住人行道');
    await page.getByLabel('类别').selectOption('市容秩序');
    await page.getByRole('button', { name: '使用我的位置' }).click();
    await expect.poll(() => page.textContent('#location-status')).toContain('31.230400');
    await page.getByLabel('照片（可多张）').setInputFiles([{ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: original }]);
    await page.getByLabel('电子邮件').fill('citizen@example.org');
    await Promise.all([page.waitForURL(/\/report\/filed\/TS-/), page.getByRole('button', { name: '提交' }).click()]);

    trackingCode = (await page.textContent('#tracking-code'))!.trim();
    expect(trackingCode).toMatch(trackingCodePattern);
    await expectAccessible(page);
    expect(await complaintCount()).toBe(before + 1);

    const row = await api.db.selectFrom('complaints').selectAll().where('tracking_code', '=', trackingCode).executeTakeFirstOrThrow();
    expect(row.location_lat).toBeCloseTo(31.2304, 4);
    expect(row.location_lng).toBeCloseTo(121.4737, 4);
    expect(JSON.parse(row.contact)).toMatchObject({ email: 'citizen@example.org', language: 'zh-CN' });
    const evidence = JSON.parse(row.evidence) as { url: string }[];
    expect(evidence).toHaveLength(1);
    const sha256 = /\/api\/v1\/evidence\/([0-9a-f]{64})$/.exec(evidence[0]!.url)![1]!;

    // What is stored, and what the office downloads, is the picture without any metadata.
    const stored = fs.readFileSync(DirectoryEvidenceStore.inDataDir(api.dir).pathOf(sha256));
    const storedMeta = await sharp(stored).metadata();
    expect(storedMeta.format).toBe('jpeg');
    expect(storedMeta.width).toBe(96);
    expect(storedMeta.exif).toBeUndefined();
    expect(storedMeta.xmp).toBeUndefined();
    expect(stored.includes(Buffer.from('Exif\0\0'))).toBe(false);
    expect(stored.includes(Buffer.from('owner-secret-name'))).toBe(false);
    const downloaded = await fetch(new URL(evidence[0]!.url).pathname.replace(/^/, api.url), { headers: { authorization: `Bearer ${api.tokens.office}` } });
    expect(downloaded.status).toBe(200);
    expect(Buffer.from(await downloaded.arrayBuffer()).equals(stored)).toBe(true);
    // Nobody else: not the public, not a department without a case referring to it.
    expect((await api.call('GET', `/api/v1/evidence/${sha256}`)).status).toBe(401);
    expect((await api.call('GET', `/api/v1/evidence/${sha256}`, { token: api.tokens.CG })).status).toBe(404);
    // Nor is a file nobody refers to ever collected while the complaint is there.
    expect(await api.db.selectFrom('evidence_refs').select('sha256').where('case_id', '=', trackingCode).execute()).toEqual([{ sha256 }]);
  });

  it('follows the complaint by its code as the office converts it, closes the case and answers; the public rates it', async () => {
    await page.goto(`${api.url}/track`);
    await expectAccessible(page);
    await page.getByLabel('查询码').fill(trackingCode.toLowerCase());
    await Promise.all([page.waitForURL(`**/track/${trackingCode}`), page.getByRole('button', { name: '查询' }).click()]);
    expect(await statusOf(page)).toBe('received');
    expect(await page.locator('#progress li').evaluateAll((items) => items.map((li) => li.getAttribute('data-step')))).toEqual(['received']);
    // Times in the office's zone (Asia/Shanghai): the stored UTC instant plus eight hours.
    const received = await page.locator('#progress time').first().getAttribute('datetime');
    const local = new Date(Date.parse(received!) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    expect(await page.locator('#progress time').first().textContent()).toBe(local);
    await expectAccessible(page);

    const converted = await api.as.office.POST('/api/v1/complaints/{trackingCode}/convert', {
      params: { path: { trackingCode } },
      body: { title: '人民路占道经营', category: '市容秩序', severity: 'general', leadDepartment: 'CG' },
    });
    const caseId = dataOf(converted).case!.id;
    // htmx loaded (its integrity hash matched) refreshes the status in place, as its polling does.
    await page.evaluate(() => {
      const htmx = (globalThis as unknown as { htmx: { ajax: (verb: string, path: string, o: unknown) => Promise<void> } }).htmx;
      const here = (globalThis as unknown as { location: { pathname: string } }).location.pathname;
      return htmx.ajax('GET', here, { target: '#live', select: '#live', swap: 'outerHTML' });
    });
    await expect.poll(() => statusOf(page)).toBe('in_progress');
    expect(await page.locator('#progress li').evaluateAll((items) => items.map((li) => li.getAttribute('data-step')))).toEqual(['received', 'accepted']);

    // The department rectifies with an after-photo; the office accepts; the case closes.
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pngBytes)], { type: 'image/png' }), 'after.png');
    const upload = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', headers: { authorization: `Bearer ${api.tokens.CG}` }, body: form });
    const [after] = (await upload.json()) as { sha256: string }[];
    const task = { params: { path: { caseId, taskId: `${caseId}-T1` } } };
    dataOf(await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { ...task, body: {} }));
    dataOf(
      await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/submit', {
        ...task,
        body: { report: '已清理', evidence: [{ file: `sha256:${after!.sha256}`, note: '整改后' }] },
      }),
    );
    dataOf(await api.as.office.POST('/api/v1/cases/{caseId}/tasks/{taskId}/verify', { ...task, body: { decision: 'accept' } }));
    for (;;) {
      const record = dataOf(await api.as.office.GET('/api/v1/cases/{caseId}', { params: { path: { caseId } } }));
      if (record.followUp?.status === 'awaiting_answer') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await page.reload();
    expect(await statusOf(page)).toBe('closed');
    expect(await page.textContent('#answer')).toContain('尚无答复');

    dataOf(
      await api.as.office.POST('/api/v1/cases/{caseId}/answer', {
        params: { path: { caseId } },
        body: { answer: '摊点已清理，恢复通行。', evidence: [`sha256:${after!.sha256}`] },
      }),
    );
    await page.reload();
    expect(await page.textContent('#answer-text')).toBe('摊点已清理，恢复通行。');
    const photo = page.locator('#answer img');
    await expect.poll(() => photo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    expect(await page.locator('#progress li').evaluateAll((items) => items.map((li) => li.getAttribute('data-step')))).toEqual([
      'received',
      'accepted',
      'closed',
      'answered',
    ]);
    await expectAccessible(page);

    // 不满意 without a reason: refused, the error at the reason field, the choice kept.
    await page.getByRole('radio', { name: '不满意', exact: true }).check();
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '提交评价' }).click()]);
    await expect.poll(() => page.locator('#reason-error').textContent()).toContain('不满意须说明理由');
    expect(await page.getAttribute('#reason', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#reason', 'aria-describedby')).toBe('reason-error');
    expect(await page.getByRole('radio', { name: '不满意', exact: true }).isChecked()).toBe(true);
    await expectAccessible(page);

    await page.getByRole('radio', { name: '基本满意', exact: true }).check();
    await Promise.all([page.waitForURL(`**/track/${trackingCode}#answer`), page.getByRole('button', { name: '提交评价' }).click()]);
    expect(await page.textContent('#your-rating')).toContain('基本满意');
    expect(await page.locator('#progress li').last().getAttribute('data-step')).toBe('rated');
    expect(await page.locator('form[action$="/rating"]').count()).toBe(0);
    const tracked = dataOf(await api.as.public.GET('/api/v1/complaints/{trackingCode}', { params: { path: { trackingCode } } }));
    expect(tracked.answer?.rating?.rating).toBe('basically_satisfied');
  });

  it('switches to English and keeps the choice; <html lang> follows', async () => {
    await page.goto(`${api.url}/track/${trackingCode}`);
    await Promise.all([page.waitForURL(`**/track/${trackingCode}`), page.locator('a.lang').click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.textContent('h1')).toBe(`Report ${trackingCode}`);
    expect(await page.textContent('#complaint-status')).toBe('Dealt with');
    await page.goto(`${api.url}/report`);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByLabel('What is the problem?').count()).toBe(1);
    await expectAccessible(page);
    // ?lang= chooses for one page; the link back to Chinese works the same way.
    await page.goto(`${api.url}/report?lang=zh-CN`);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    await Promise.all([page.waitForURL('**/report'), page.locator('a.lang').click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    await Promise.all([page.waitForURL('**/report'), page.locator('a.lang').click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
  });

  it('shows each error next to its field, keeps the values, and files nothing', async () => {
    const before = await complaintCount();
    await page.goto(`${api.url}/report`);
    await page.getByLabel('标题（可不填）').fill('保留的标题');
    await page.getByLabel('问题描述').fill('   ');
    await page.getByLabel('电子邮件').fill('not-an-address');
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '提交' }).click()]);
    await expect.poll(() => page.locator('#description-error').count()).toBe(1);
    expect(await page.textContent('#description-error')).toContain('不能为空白');
    expect(await page.textContent('#email-error')).toContain('须为电子邮件地址');
    expect(await page.getAttribute('#email', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#email', 'aria-describedby')).toContain('email-error');
    expect(await page.getAttribute('#description', 'aria-describedby')).toContain('description-error');
    expect(await page.inputValue('#email')).toBe('not-an-address');
    expect(await page.inputValue('#title')).toBe('保留的标题');
    expect(await page.getAttribute('#error-summary', 'role')).toBe('alert');
    await expectAccessible(page);
    expect(await complaintCount()).toBe(before);

    // Corrected, the same page files it.
    await page.getByLabel('问题描述').fill('垃圾桶满溢');
    await page.getByLabel('电子邮件').fill('');
    await Promise.all([page.waitForURL(/\/report\/filed\/TS-/), page.getByRole('button', { name: '提交' }).click()]);
    expect(await complaintCount()).toBe(before + 1);
  });

  it('refuses a photo that is not a picture, at the photo field', async () => {
    const before = await complaintCount();
    await page.goto(`${api.url}/report`);
    await page.getByLabel('问题描述').fill('井盖缺失');
    await page.getByLabel('照片（可多张）').setInputFiles([{ name: 'x.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('%PDF-1.4 not a photo') }]);
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name: '提交' }).click()]);
    await expect.poll(() => page.locator('#photos-error').count()).toBe(1);
    expect(await page.textContent('#photos-error')).toContain('JPEG');
    expect(await page.inputValue('#description')).toBe('井盖缺失');
    expect(await complaintCount()).toBe(before);
  });

  it('files one complaint however often the form is sent', async () => {
    const before = await complaintCount();
    await page.goto(`${api.url}/report`);
    await page.getByLabel('问题描述').fill('路灯不亮（双击测试）');
    const fields = await page.locator('form[action="/report"] input[type=hidden]').evaluateAll((inputs) =>
      Object.fromEntries(inputs.map((i) => [i.getAttribute('name'), (i as unknown as { value: string }).value])),
    );
    await Promise.all([page.waitForURL(/\/report\/filed\/TS-/), page.getByRole('button', { name: '提交' }).dblclick()]);
    const code = (await page.textContent('#tracking-code'))!.trim();
    expect(await complaintCount()).toBe(before + 1);

    // The same form sent twice more (as a browser without the script would): the same complaint.
    const resend = () =>
      page.request.post(`${api.url}/report`, {
        multipart: { ...fields, description: '路灯不亮（双击测试）' },
        maxRedirects: 0,
      });
    const [again, onceMore] = [await resend(), await resend()];
    expect(again.status()).toBe(303);
    expect(again.headers().location).toBe(`/report/filed/${code}`);
    expect(onceMore.headers().location).toBe(`/report/filed/${code}`);
    expect(await complaintCount()).toBe(before + 1);
  });

  it('refuses a form posted from another site (no CSRF token)', async () => {
    const before = await complaintCount();
    expect(await postFromAnotherSite(context, `${api.url}/report`, { description: '伪造' })).toBe(403);
    // A token from the visitor's own page does not help a request without their cookie.
    await page.goto(`${api.url}/report`);
    const token = await page.inputValue('input[name=_csrf]');
    const plain = await fetch(`${api.url}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, description: '伪造' }),
      redirect: 'manual',
    });
    expect(plain.status).toBe(403);
    expect(await complaintCount()).toBe(before);
    // The CSRF secret's cookie: HttpOnly, SameSite=Lax.
    const cookie = (await context.cookies(api.url)).find((c) => c.name === 'duban_csrf');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
  });
});

describe('the pages and the API document', () => {
  it('keeps the pages out of the OpenAPI document, and serves htmx with a long cache', async () => {
    const document = (await api.call('GET', '/openapi.json')).body as { paths: Record<string, unknown> };
    for (const page of ['/report', '/track', '/track/{code}', '/lang/{lang}', '/assets/{name}']) expect(document.paths[page]).toBeUndefined();
    const html = await (await fetch(`${api.url}/report`)).text();
    const src = /<script src="(\/assets\/htmx\.min\.[0-9a-f]{12}\.js)" integrity="(sha384-[^"]+)"/.exec(html);
    expect(src).not.toBeNull();
    const htmx = await fetch(`${api.url}${src![1]}`);
    expect(htmx.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const bytes = Buffer.from(await htmx.arrayBuffer());
    const { createHash } = await import('node:crypto');
    expect(`sha384-${createHash('sha384').update(bytes).digest('base64')}`).toBe(src![2]);
    expect(bytes.equals(fs.readFileSync(path.join(path.dirname(require.resolve('htmx.org/package.json')), 'dist', 'htmx.min.js')))).toBe(true);
  });
});
