import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReadModel } from '../bench/api';
import { caseTextMatch } from '../db/case-search';
import { listCases } from '../db/case.repository';
import { dialectOf } from '../db/dialect';
import type { Db } from '../db/database';
import { tempDatabase } from './support/database';

/** The list query on a real SQLite file with thousands of cases: both full-text plans, filters, keyset pages. */
describe('case list queries', () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
    await seedReadModel(db, 2500);
  });
  afterAll(() => db?.destroy());

  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

  it('answers a phrase every case contains (read in sort order) exactly as the unfiltered list', async () => {
    // Every seeded description says "…号附近…": 2,500 matches, past the threshold of 2,000.
    const all = await listCases(db, { limit: 60 });
    const matched = await listCases(db, { q: '号附近', limit: 60 });
    expect(ids(matched)).toEqual(ids(all));
    const byDue = await listCases(db, { q: '号附近', sort: 'dueAt', status: 'open', limit: 20 });
    expect(ids(byDue)).toEqual(ids(await listCases(db, { sort: 'dueAt', status: 'open', limit: 20 })));
  });

  it('answers a rare phrase (matches fetched and sorted) with exactly its cases, newest first', async () => {
    const street = await listCases(db, { q: '解放路 7 号', limit: 200 });
    // Exactly the cases whose text holds the phrase, found by reading every row.
    const rows = await db.selectFrom('cases').select(['id', 'title', 'description', 'location_address']).execute();
    const expected = rows.filter((r) => [r.title, r.description, r.location_address ?? ''].join('\n').includes('解放路 7 号')).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids(street).sort()).toEqual(expected.sort());
    const opened = street.map((c) => c.openedAt);
    expect([...opened].sort().reverse()).toEqual(opened);
    expect(await listCases(db, { q: '没有这样的地方', limit: 10 })).toEqual([]);
  });

  it('pages through a filtered list with keyset cursors, every case once', async () => {
    const everything = ids(await listCases(db, { status: 'open', sort: 'dueAt', limit: 5000 }));
    const paged: string[] = [];
    let after: { key: string | null; id: string } | undefined;
    for (;;) {
      const page = await listCases(db, { status: 'open', sort: 'dueAt', limit: 97, after });
      paged.push(...ids(page));
      const last = page.at(-1);
      if (page.length < 97 || !last) break;
      after = { key: last.dueAt, id: last.id };
    }
    expect(paged).toEqual(everything);
    expect(new Set(paged).size).toBe(everything.length);
  });
});

/** A common phrase is matched by instr() in sort order when it has no letters with case, by the index otherwise: the same cases either way. */
describe('common phrases, with and without letters that have case', () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
    await seedReadModel(db, 2500);
    // 2,250 cases (past the threshold of 2,000) carry both phrases; the search index follows
    // (SQLite's full-text table through its trigger, PostgreSQL's trigram index by itself).
    const all = (await db.selectFrom('cases').select('id').orderBy('id').execute()).map((r) => r.id);
    const phrased = all.filter((_, i) => i % 10 !== 0);
    for (let i = 0; i < phrased.length; i += 500) {
      await db
        .updateTable('cases')
        .set({ description: sql<string>`description || ${' Road ABC 测试短语'}` })
        .where('id', 'in', phrased.slice(i, i + 500))
        .execute();
    }
  });
  afterAll(() => db?.destroy());

  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

  it('finds exactly the cases holding the phrase, in sort order, page after page', async () => {
    const rows = await db.selectFrom('cases').select(['id', 'description', 'status', 'opened_at']).orderBy('opened_at', 'desc').orderBy('id', 'desc').execute();
    const expected = rows.filter((r) => r.description.includes('测试短语')).map((r) => r.id);
    expect(expected).toHaveLength(2250);
    expect(ids(await listCases(db, { q: '测试短语', limit: 60 }))).toEqual(expected.slice(0, 60));
    // Letters fold to one case in the index: "road abc" finds "Road ABC", through the index's plan.
    expect(ids(await listCases(db, { q: 'road abc', limit: 60 }))).toEqual(expected.slice(0, 60));
    expect(ids(await listCases(db, { q: 'ROAD ABC 测试', limit: 60 }))).toEqual(expected.slice(0, 60));
    const open = rows.filter((r) => r.status === 'open' && r.description.includes('测试短语')).map((r) => r.id);
    const everyOpen = await listCases(db, { q: '测试短语', status: 'open', limit: 5000 });
    expect(ids(everyOpen).sort()).toEqual([...open].sort());
    const byDue = await listCases(db, { q: '测试短语', status: 'open', sort: 'dueAt', limit: 40 });
    expect(ids(byDue)).toEqual(ids(await listCases(db, { q: 'road abc', status: 'open', sort: 'dueAt', limit: 40 })));
    const page2 = await listCases(db, { q: '测试短语', limit: 60, after: { key: (await listCases(db, { q: '测试短语', limit: 60 })).at(-1)!.openedAt, id: expected[59]! } });
    expect(ids(page2)).toEqual(expected.slice(60, 120));
  });

  it('is served by the database’s text index for a phrase of three characters or more (FTS5 trigrams on SQLite, pg_trgm on PostgreSQL)', async () => {
    const q = '解放路 7 号';
    const compiled = db.selectFrom('cases').select('cases.id').where(await caseTextMatch(db, q)).compile();
    if (dialectOf(db) === 'postgres') {
      // Whether the trigram indexes can serve each column's ILIKE: with sequential scans ruled out,
      // the plan must read them (at this size the planner may well prefer a scan otherwise).
      const plan = await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        const { rows } = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]));
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      for (const column of ['title', 'description', 'location_address']) expect(plan).toContain(`Bitmap Index Scan on cases_${column}_trgm`);
    } else {
      const { rows } = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${compiled.sql}`, [...compiled.parameters]));
      expect(rows.map((r) => r.detail).join('\n')).toMatch(/SCAN cases_fts VIRTUAL TABLE INDEX/);
    }
  });

  it('answers exactly while the plan chosen by a kept count of matches is stale, both ways', async () => {
    const holding = async (phrase: string) =>
      (await db.selectFrom('cases').select(['id', 'title', 'description', 'location_address']).orderBy('opened_at', 'desc').orderBy('id', 'desc').execute())
        .filter((r) => [r.title, r.description, r.location_address ?? ''].join('\n').includes(phrase))
        .map((r) => r.id);
    // Counted few (none), kept; then 2,250 cases come to hold it: the kept count says few.
    expect(await listCases(db, { q: '新的短语', limit: 50 })).toEqual([]);
    const all = (await db.selectFrom('cases').select('id').orderBy('id').execute()).map((r) => r.id);
    const phrased = all.filter((_, i) => i % 10 !== 0);
    for (let i = 0; i < phrased.length; i += 500) {
      await db.updateTable('cases').set({ title: sql<string>`title || ${'新的短语'}` }).where('id', 'in', phrased.slice(i, i + 500)).execute();
    }
    const expected = await holding('新的短语');
    expect(expected).toHaveLength(2250);
    expect(ids(await listCases(db, { q: '新的短语', limit: 50 }))).toEqual(expected.slice(0, 50));
    // Counted many (测试短语, above), kept; then it goes from all but a few: the kept count says many.
    await db.updateTable('cases').set({ description: sql<string>`replace(description, ${'测试短语'}, ${'短语'})` }).where('id', 'in', phrased.slice(5)).execute();
    expect(ids(await listCases(db, { q: '测试短语', limit: 50 }))).toEqual(await holding('测试短语'));
  });
});
