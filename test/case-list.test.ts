import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedReadModel } from '../bench/api';
import { listCases } from '../db/case.repository';
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
