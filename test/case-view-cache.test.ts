import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseSchema } from '../api/schemas';
import { compileResponseWriter } from '../api/serializer';
import { seedReadModel } from '../bench/api';
import { findCaseRows, listCaseKeys, listCases, refreshCaseAggregates, saveCaseRow } from '../db/case.repository';
import type { Db } from '../db/database';
import type { CaseTable } from '../db/schema';
import { createCaseViewCache } from '../services/case-view.cache';
import { type CaseService, createCaseService } from '../services/case.service';
import { isSettled, settle } from '../services/settled';
import { tempDatabase } from './support/database';
import { Client, Connection } from '@temporalio/client';

const office = { role: 'office' as const, name: '创建办' };
const department = (code: string) => ({ role: 'department' as const, name: `${code} 联络员`, department: code });

/**
 * List pages take their cases from a per-process cache of views, checked against a revision the
 * database raises on every update of a case row (db/migrations/2026-12-06-case-revisions.ts).
 * What one write changes, the next page must show; what the office may see, a department must not.
 */
describe('case views cached for list pages', () => {
  let db: Db;
  let ids: string[];
  let clock: Date;
  let service: CaseService;
  let connection: Connection;

  beforeAll(async () => {
    ({ db } = await tempDatabase());
    ids = await seedReadModel(db, 120);
    clock = new Date();
    // Lists need no Temporal; the client is never called here.
    connection = Connection.lazy({ address: '127.0.0.1:1' });
    service = createCaseService({ client: new Client({ connection }), db, taskQueue: 'cache', timeZone: 'Asia/Shanghai', now: () => clock });
  });
  afterAll(async () => {
    await db?.destroy();
    await connection?.close();
  });

  const row = async (id: string) => (await findCaseRows(db, [id]))[0]!;

  it('raises a case row’s revision on every update, whoever writes it, and never on a write refused as stale', async () => {
    const id = ids[100]!;
    const before = await row(id);
    await saveCaseRow(db, { ...before, title: '改过的标题', version: before.version + 1 });
    const saved = await row(id);
    expect(saved.revision).toBe((before.revision ?? 0) + 1);
    // A stale snapshot (an older version) is refused by the upsert's condition: no update, no raise.
    await saveCaseRow(db, { ...before, title: '过时的标题' });
    expect(await row(id)).toMatchObject({ title: '改过的标题', revision: saved.revision });
    await refreshCaseAggregates(db, id);
    expect((await row(id)).revision).toBe(saved.revision! + 1);
    await sql`UPDATE cases SET severity = 'major' WHERE id = ${id}`.execute(db);
    expect((await row(id)).revision).toBe(saved.revision! + 2);
  });

  it('reads an export whole and leaves the cached views as they were', async () => {
    const listed = await service.listCases({ limit: 10 }, office);
    const exported = await service.listCases({ limit: 10 }, office, { cached: false });
    expect(exported.items).toEqual(listed.items);
    expect(exported.items.some((view, i) => view === listed.items[i])).toBe(false);
    expect((await service.listCases({ limit: 10 }, office)).items.every((view, i) => view === listed.items[i])).toBe(true);
  });

  it('shows every change a write makes, on the next page, and keeps unchanged views as they were', async () => {
    const first = await service.listCases({ limit: 20 }, office);
    const again = await service.listCases({ limit: 20 }, office);
    // Unchanged cases come from the cache: the very same settled views.
    expect(again.items.every((view, i) => view === first.items[i] && isSettled(view))).toBe(true);

    const target = first.items[3]!;
    const stored = await row(target.id);
    await saveCaseRow(db, { ...stored, title: `${stored.title}（已更新）`, status: 'closed', version: stored.version + 1 });
    const after = await service.listCases({ limit: 20 }, office);
    expect(after.items[3]).toMatchObject({ id: target.id, title: `${stored.title}（已更新）`, status: 'closed' });
    expect(after.items.filter((_, i) => i !== 3).every((view, i) => view === first.items[i < 3 ? i : i + 1])).toBe(true);

    // The aggregates of its tasks (a deadline moved) reach the page too.
    const open = first.items.find((view) => view.status === 'open')!;
    const moved = '2031-01-01T00:00:00.000Z';
    await db.updateTable('tasks').set({ rectification_due_at: moved }).where('case_id', '=', open.id).execute();
    await refreshCaseAggregates(db, open.id);
    expect((await service.listCases({ limit: 20 }, office)).items.find((view) => view.id === open.id)?.dueAt).toBe(moved);

    // A filtered page reads the same rows as the repository does, every field equal.
    const filtered = await service.listCases({ status: 'open', sort: 'dueAt', limit: 30 }, office);
    expect(filtered.items).toEqual(await listCases(db, { status: 'open', sort: 'dueAt', limit: 30, now: clock.toISOString() }));
  });

  it('tells overdue by the time of each request, both ways, from one cached view', async () => {
    const open = (await service.listCases({ status: 'open', limit: 5 }, office)).items[0]!;
    const workDue = (await row(open.id)).work_due_at!;
    const at = (instant: string) => {
      clock = new Date(instant);
    };
    const shown = async () => (await service.listCases({ status: 'open', limit: 5 }, office)).items.find((v) => v.id === open.id)!;
    at(new Date(Date.parse(workDue) - 1000).toISOString());
    expect((await shown()).overdue).toBe(false);
    at(new Date(Date.parse(workDue) + 1000).toISOString());
    expect((await shown()).overdue).toBe(true);
    at(new Date(Date.parse(workDue) - 1000).toISOString());
    expect((await shown()).overdue).toBe(false);
    clock = new Date();
  });

  it('never shows a department the complaint’s tracking code, whichever of the two views was cached first', async () => {
    const id = ids[7]!;
    const stored = await row(id);
    await saveCaseRow(db, { ...stored, complaint_code: 'TS-CACHE1', version: stored.version + 1 });
    const lead = stored.lead_department;
    const find = async (viewer: Parameters<CaseService['listCases']>[1]) =>
      (await service.listCases({ department: lead, limit: 100 }, viewer)).items.find((v) => v.id === id)!;
    expect((await find(department(lead))).complaintCode).toBeNull();
    expect((await find(office)).complaintCode).toBe('TS-CACHE1');
    expect((await find(department(lead))).complaintCode).toBeNull();
    // And the other way round, after a change: the office first.
    const now = await row(id);
    await saveCaseRow(db, { ...now, complaint_code: 'TS-CACHE2', version: now.version + 1 });
    expect((await find(office)).complaintCode).toBe('TS-CACHE2');
    expect((await find(department(lead))).complaintCode).toBeNull();
  });

  it('keeps at most its capacity and its budget of text, and refuses a page whose row changed between the two reads', async () => {
    const cache = createCaseViewCache(5);
    const now = new Date().toISOString();
    const keys = await listCaseKeys(db, { limit: 12, now });
    const views = await cache.views(keys, now, false, (wanted) => findCaseRows(db, wanted));
    expect(views?.map((v) => v.id)).toEqual(keys.map((k) => k.id));
    expect(cache.size).toBe(5);
    // A budget of text that holds about three of these rows keeps three, the most recently listed.
    const rows = await findCaseRows(db, keys.map((k) => k.id));
    const weights = rows.map((r) => Object.values(r).reduce<number>((sum, v) => sum + (typeof v === 'string' ? v.length : 8), 0));
    const small = createCaseViewCache(100, Math.max(...weights) * 3);
    expect(await small.views(keys, now, false, (wanted) => findCaseRows(db, wanted))).toHaveLength(12);
    expect(small.size).toBeGreaterThanOrEqual(2);
    expect(small.size).toBeLessThanOrEqual(4);
    expect(small.weight).toBeLessThanOrEqual(Math.max(...weights) * 3);
    // The last listed are the ones kept: listing them again reads nothing.
    const last = keys.slice(-small.size);
    expect(await small.views(last, now, false, () => Promise.reject(new Error('read although kept')))).toHaveLength(last.length);
    // The fill read sees a newer revision than the page did: the caller must read the page again.
    const changed = async (wanted: string[]): Promise<CaseTable[]> =>
      (await findCaseRows(db, wanted)).map((r) => (r.id === keys[0]!.id ? { ...r, revision: (r.revision ?? 0) + 1 } : r));
    expect(await createCaseViewCache().views(keys, now, false, changed)).toBeUndefined();
  });
});

describe('settled values and the response writer', () => {
  const write = compileResponseWriter(caseSchema, 'Asia/Shanghai')!;
  const view = () => ({
    id: 'DB-2026-000001',
    title: '人民路占道经营',
    description: '夜间占道',
    category: '市容秩序',
    severity: 'general',
    source: 'inspection',
    leadDepartment: 'CG',
    cooperatingDepartments: ['JD'],
    location: { address: '人民路', lat: 30.27, lng: 120.15 },
    dueDate: null,
    evidence: [],
    status: 'open',
    openedAt: '2026-11-20T01:00:00.000Z',
    openedBy: { role: 'office', name: '督查科' },
    closedAt: null,
    withdrawnReason: null,
    dueAt: '2026-12-01T09:59:59.999Z',
    overdue: false,
    escalationLevel: 0,
    complaintCode: null,
  });

  it('writes a settled object as it would any other, and the same text every time', () => {
    const plain = view();
    const settled = settle(view());
    expect(write(settled)).toBe(write(plain));
    expect(write(settled)).toBe(write(plain));
  });

  it('keeps nothing for an object that is not settled, even a frozen one', () => {
    const open = view();
    const first = write(open);
    open.title = '改了';
    expect(write(open)).not.toBe(first);
    expect(JSON.parse(write(open)).title).toBe('改了');
    // Frozen on the outside only: its members can still change, so nothing is kept for it either.
    const shallow = Object.freeze(view());
    const before = write(shallow);
    shallow.cooperatingDepartments.push('SJ');
    expect(write(shallow)).not.toBe(before);
  });

  it('freezes everything in a settled value, members of an object frozen before included', () => {
    const inner = { list: ['a'] };
    const outer = { inner: Object.freeze(inner) };
    settle(outer);
    expect(() => inner.list.push('b')).toThrow(TypeError);
    expect(isSettled(outer)).toBe(true);
    expect(isSettled(inner)).toBe(false);
  });
});
