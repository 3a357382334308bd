import fs from 'node:fs';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/database';
import { saveCaseRow } from '../db/case.repository';
import { createBulletinService, type BulletinService } from '../services/bulletin.service';
import { createCalendarSource } from '../services/calendar.source';
import { createIndicatorService } from '../services/indicator.service';
import { refusal } from './support/assertions';
import { tempDatabase } from './support/database';
import { office } from './support/fixtures';

const zone = 'Asia/Shanghai';
const week = { from: '2026-06-08', to: '2026-06-14' };

/** The bulletin service over its own connection to `file`, as another process would have it. */
function serviceOn(db: Db, now = () => new Date('2026-06-15T02:00:00Z')): BulletinService {
  const calendar = createCalendarSource({ db, timeZone: zone });
  return createBulletinService({ db, zone, indicators: createIndicatorService({ db, calendar }), now });
}

/**
 * The office's commands on bulletins from two connections to one SQLite file (the API and the CLI,
 * or two API processes), sent at once: none is lost, none acts twice.
 */
describe('bulletin commands at once', () => {
  let dir: string;
  let one: Db;
  let two: Db;
  let first: BulletinService;
  let second: BulletinService;

  beforeEach(async () => {
    const created = await tempDatabase(['CG', 'JD']);
    dir = created.dir;
    one = created.db;
    two = openDatabase(created.file);
    first = serviceOn(one);
    second = serviceOn(two);
    for (const id of ['DB-2026-000001', 'DB-2026-000002', 'DB-2026-000003']) {
      await saveCaseRow(one, {
        id,
        title: `案件 ${id}`,
        description: '',
        category: '市容秩序',
        severity: 'general',
        source: 'inspection',
        lead_department: 'CG',
        cooperating_departments: '[]',
        location_address: null,
        location_lat: null,
        location_lng: null,
        due_date: null,
        evidence: '[]',
        status: 'open',
        opened_at: '2026-06-08T02:00:00.000Z',
        opened_by: JSON.stringify(office),
        closed_at: null,
        withdrawn_reason: null,
        version: 1,
        updated_at: '2026-06-08T02:00:00.000Z',
      });
    }
  });
  afterEach(async () => {
    await two.destroy();
    await one.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const addition = (caseId: string) => ({ kind: 'exposure', caseId, summary: `曝光 ${caseId}`, reason: '典型问题' });

  it('keeps both of two decisions made at once on one draft', async () => {
    const draft = await first.draft({ period: week, origin: 'office', actor: office });
    await Promise.all([
      first.addItem(draft.id, addition('DB-2026-000001'), office),
      second.addItem(draft.id, addition('DB-2026-000002'), office),
      first.addItem(draft.id, addition('DB-2026-000003'), office),
    ]);
    const after = await second.get(draft.id);
    expect(after.document.items.map((i) => i.caseId).sort()).toEqual(['DB-2026-000001', 'DB-2026-000002', 'DB-2026-000003']);
    expect(after.decisions).toHaveLength(3);
    expect(after.revision).toBe(4);
  });

  it('keeps every decision: an item removed and added again is listed once, the removal on record', async () => {
    const draft = await first.draft({ period: week, origin: 'office', actor: office });
    await first.addItem(draft.id, addition('DB-2026-000001'), office);
    await first.removeItem(draft.id, { itemId: 'exposure:DB-2026-000001', reason: '内部说明：暂缓' }, office);
    const readded = await second.addItem(draft.id, { ...addition('DB-2026-000001'), summary: '复核后重新曝光' }, office);
    expect(readded.document.items.map((i) => [i.id, i.summary])).toEqual([['exposure:DB-2026-000001', '复核后重新曝光']]);
    expect(readded.decisions.map((d) => [d.action, d.itemId, d.reason])).toEqual([
      ['add', 'exposure:DB-2026-000001', '典型问题'],
      ['remove', 'exposure:DB-2026-000001', '内部说明：暂缓'],
      ['add', 'exposure:DB-2026-000001', '典型问题'],
    ]);
    // Listed already: adding it a third time is refused, nothing changes.
    expect((await refusal(first.addItem(draft.id, addition('DB-2026-000001'), office))).code).toBe('conflict');
    const published = await first.approve(draft.id, office);
    expect(published.document.items).toHaveLength(1);
  });

  it('lets a discarded correction be followed by another', async () => {
    const draft = await first.draft({ period: week, origin: 'office', actor: office });
    const published = await first.approve(draft.id, office);
    const discarded = await first.correct(published.id, { reason: '更正一' }, office);
    await first.discard(discarded.id, { reason: '不更正了' }, office);
    const next = await second.correct(published.id, { reason: '更正二' }, office);
    expect(next.id).not.toBe(discarded.id);
    expect(next).toMatchObject({ status: 'draft', version: 2, document: { correctionReason: '更正二' } });
    expect((await first.approve(next.id, office)).status).toBe('published');
    expect((await first.get(published.id)).status).toBe('superseded');
  });

  it('numbers two drafts approved at once apart', async () => {
    const a = await first.draft({ period: week, origin: 'office', actor: office });
    const b = await second.draft({ period: { from: '2026-06-01', to: '2026-06-07' }, origin: 'office', actor: office });
    const [pa, pb] = await Promise.all([first.approve(a.id, office), second.approve(b.id, office)]);
    expect([pa.number, pb.number].sort()).toEqual(['2026年第1期', '2026年第2期']);
  });

  it('lets one of an approval and a discard at once act, and refuses the other as the state’s', async () => {
    const draft = await first.draft({ period: week, origin: 'office', actor: office });
    const outcomes = await Promise.allSettled([first.approve(draft.id, office), second.discard(draft.id, { reason: '不发布' }, office)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ code: 'invalid_state' });
    const final = await first.get(draft.id);
    expect(['published', 'discarded']).toContain(final.status);
  });

  it('drafts a scheduled period once, and opens one correction, however many ask at once', async () => {
    const drafts = await Promise.all([
      first.draft({ period: week, origin: 'schedule', actor: office }),
      second.draft({ period: week, origin: 'schedule', actor: office }),
    ]);
    expect(drafts[0].id).toBe(drafts[1].id);
    const published = await first.approve(drafts[0].id, office);
    const corrections = await Promise.all([
      first.correct(published.id, { reason: '更正一' }, office),
      second.correct(published.id, { reason: '更正二' }, office),
    ]);
    expect(corrections[0].id).toBe(corrections[1].id);
    expect(corrections[0]).toMatchObject({ version: 2, correctsId: published.id });
  });

  it('refuses rules that would rescore a period already begun, and never changes a version', async () => {
    const refused = await refusal(first.addRules({ effectiveFrom: '2026-06-14', rules: {} }, office));
    expect(refused).toMatchObject({ code: 'invalid_input', details: [{ path: 'effectiveFrom' }] });
    const version = await first.addRules({ effectiveFrom: '2026-06-15', rules: { pointsOff: { rework: 2 } } }, office);
    expect(version).toMatchObject({ version: 1, effectiveFrom: '2026-06-15', rules: { pointsOff: { rework: 2, criticism: 2 } } });
    expect((await first.rulesFor('2026-06-14')).version).toBeNull();
    expect((await first.rulesFor('2026-06-15')).version?.version).toBe(1);
    await expect(sql`UPDATE assessment_rules SET rules = '{}'`.execute(one)).rejects.toThrow(/never changed/);
    await expect(sql`DELETE FROM assessment_rules`.execute(two)).rejects.toThrow(/never deleted/);
    // Bad content names the field.
    const bad = await refusal(first.addRules({ effectiveFrom: '2026-07-01', rules: { weights: { points: 2 } } }, office));
    expect(bad.details[0]?.path).toBe('rules.weights.points');
  });
});
