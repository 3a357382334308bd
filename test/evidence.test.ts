import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvidenceService } from '../services/evidence.service';
import { DirectoryEvidenceStore } from '../services/evidence.store';
import { createTokenService } from '../services/token.service';
import { type ApiStack, pngBytes, startApiStack } from './support/api';

/** A PNG of its own: the same image with a unique trailer, so that each test's file is distinct. */
const uniquePng = () => Buffer.concat([pngBytes, crypto.randomBytes(16)]);

async function upload(api: ApiStack, token: string, files: Buffer[], name?: string) {
  const form = new FormData();
  files.forEach((bytes, i) => form.append('file', new Blob([bytes]), name ?? `photo-${i}.png`));
  const response = await fetch(`${api.url}/api/v1/evidence`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as any, headers: response.headers };
}

describe('evidence files: who may attach and read them, quotas, faults and clean-up', () => {
  let api: ApiStack;
  const quota = 3 * (pngBytes.length + 16);
  beforeAll(async () => {
    api = await startApiStack({ uploadQuotaBytes: quota });
  });
  afterAll(() => api?.close());

  const openCase = async (lead = 'CG') =>
    (
      await api.call('POST', '/api/v1/cases', {
        token: api.tokens.office,
        body: { title: '佐证', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: lead },
      })
    ).body.caseId as string;
  const progress = (caseId: string, token: string, file: string) =>
    api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/progress`, { token, body: { note: '进展', evidence: [{ file }] } });

  it('lets only the uploader, or whoever sees a case referring to it, attach or download a file', async () => {
    const { body } = await upload(api, api.tokens.CG, [uniquePng()]);
    const ref = body[0].file as string;
    const sha = body[0].sha256 as string;
    const sjCase = await openCase('SJ');
    await api.call('POST', `/api/v1/cases/${sjCase}/tasks/${sjCase}-T1/acknowledge`, { token: api.tokens.SJ, body: {} });
    // SJ learnt the hash somehow: knowing it is not enough to attach or to read the file.
    const stolen = await progress(sjCase, api.tokens.SJ, ref);
    expect(stolen.status).toBe(409);
    expect(stolen.body.error.details[0].path).toBe('evidence[0].file');
    const read = (token: string) => fetch(`${api.url}/api/v1/evidence/${sha}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read(api.tokens.SJ)).status).toBe(404);
    // Not even the office reads an upload that no case refers to.
    expect((await read(api.tokens.office)).status).toBe(404);
    expect((await read(api.tokens.CG)).status).toBe(200);

    const cgCase = await openCase('CG');
    await api.call('POST', `/api/v1/cases/${cgCase}/tasks/${cgCase}-T1/acknowledge`, { token: api.tokens.CG, body: {} });
    expect((await progress(cgCase, api.tokens.CG, ref)).status).toBe(200);
    // Now a case refers to it: the office reads it; SJ, who sees no such case, still does not.
    expect((await read(api.tokens.office)).status).toBe(200);
    expect((await read(api.tokens.SJ)).status).toBe(404);
    const office = await api.call('POST', '/api/v1/cases', {
      token: api.tokens.office,
      body: { title: '引用', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'JD', evidence: [{ file: ref }] },
    });
    expect(office.status).toBe(201);
  });

  it('holds each token to its daily upload quota', async () => {
    const token = (await createTokenService({ db: api.db }).create({ role: 'department', department: 'JD', name: '配额' })).token;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await upload(api, token, [uniquePng()])).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const refused = await upload(api, token, [uniquePng()]);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(refused.headers.get('retry-after')).toBe('3600');
    // Other tokens have their own quota.
    expect((await upload(api, api.tokens.JD, [uniquePng()])).status).toBe(201);
  });

  it('holds the quota when one token uploads in parallel', async () => {
    const token = (await createTokenService({ db: api.db }).create({ role: 'department', department: 'SJ', name: '并发上传' })).token;
    const statuses = await Promise.all(Array.from({ length: 6 }, () => upload(api, token, [uniquePng()]).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
  });

  it('shows each uploader of the same bytes the name they gave them, never another’s', async () => {
    const bytes = uniquePng();
    expect((await upload(api, api.tokens.CG, [bytes], '举报人张三-身份证.png')).status).toBe(201);
    const theirs = await upload(api, api.tokens.JD, [bytes], 'mine.png');
    expect(theirs.body[0].name).toBe('mine.png');
    const download = await fetch(`${api.url}/api/v1/evidence/${theirs.body[0].sha256}`, { headers: { authorization: `Bearer ${api.tokens.JD}` } });
    expect(download.status).toBe(200);
    expect(decodeURIComponent(download.headers.get('content-disposition')!)).toContain('mine.png');
    expect(decodeURIComponent(download.headers.get('content-disposition')!)).not.toContain('张三');
  });

  it('answers a fault of the server as a plain 500, a broken body as a 400', async () => {
    const incoming = path.join(api.dir, 'evidence', '.incoming');
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(incoming), { recursive: true });
    // The disk refuses: where uploads are written is not a directory.
    fs.writeFileSync(incoming, 'not a directory');
    try {
      const failed = await upload(api, api.tokens.office, [uniquePng()]);
      expect(failed.status).toBe(500);
      expect(failed.body.error).toEqual({ code: 'internal', message: '服务器内部错误 / internal error', details: [] });
    } finally {
      fs.rmSync(incoming, { force: true });
    }
    const broken = await fetch(`${api.url}/api/v1/evidence`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.tokens.office}`, 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nunterminated',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as any).error.code).toBe('bad_request');
    expect((await upload(api, api.tokens.office, [uniquePng()])).status).toBe(201);
  });

  it('removes uploads that no case refers to once their grace period is over, and keeps the rest', async () => {
    // A token of its own: the others have spent their quotas above.
    const token = (await createTokenService({ db: api.db }).create({ role: 'department', department: 'CG', name: '清理' })).token;
    const referenced = (await upload(api, token, [uniquePng()])).body[0];
    const forgotten = (await upload(api, token, [uniquePng()])).body[0];
    const caseId = await openCase('CG');
    await api.call('POST', `/api/v1/cases/${caseId}/tasks/${caseId}-T1/acknowledge`, { token, body: {} });
    expect((await progress(caseId, token, referenced.file)).status).toBe(200);
    const store = new DirectoryEvidenceStore(path.join(api.dir, 'evidence'));
    const later = new Date(Date.now() + 2 * 3_600_000);
    const service = (graceMs: number) => createEvidenceService({ db: api.db, store, quotaBytes: quota, graceMs, now: () => later });
    // Within the grace period nothing goes.
    expect(await service(3 * 3_600_000).collectGarbage()).toBe(0);
    const removed = await service(3_600_000).collectGarbage();
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(fs.existsSync(store.pathOf(forgotten.sha256))).toBe(false);
    expect(await api.db.selectFrom('evidence_files').select('sha256').where('sha256', '=', forgotten.sha256).executeTakeFirst()).toBeUndefined();
    expect(fs.existsSync(store.pathOf(referenced.sha256))).toBe(true);
    const kept = await fetch(`${api.url}/api/v1/evidence/${referenced.sha256}`, { headers: { authorization: `Bearer ${api.tokens.office}` } });
    expect(kept.status).toBe(200);
  });

  it('serves a file’s bytes through the store, and answers 404, not a broken 200, once they are gone from it', async () => {
    const token = (await createTokenService({ db: api.db }).create({ role: 'department', department: 'CG', name: '读取' })).token;
    const bytes = uniquePng();
    const stored = (await upload(api, token, [bytes])).body[0];
    const get = () => fetch(`${api.url}/api/v1/evidence/${stored.sha256}`, { headers: { authorization: `Bearer ${token}` } });
    const served = await get();
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    const store = new DirectoryEvidenceStore(path.join(api.dir, 'evidence'));
    await store.remove(stored.sha256);
    expect(await store.open(stored.sha256)).toBeUndefined();
    const gone = await get();
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as any).error.code).toBe('not_found');
  });
});
