import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { tempDatabase, testDialect } from './support/database';

/**
 * Rows as the repositories read them (db/database.ts keeps each SQLite statement and builds its
 * row objects with a constructor compiled for its columns): every column by its name, the same
 * objects after the schema changed under a kept statement, through this connection or another.
 */
describe(`rows read from the read model (${testDialect})`, () => {
  let db: Db;
  let file: string;
  beforeAll(async () => {
    ({ db, file } = await tempDatabase(['CG', 'SJ']));
  });
  afterAll(() => db?.destroy());

  const departments = () => db.selectFrom('departments').selectAll().where('code', '=', 'CG').execute();

  it('reads every column by its name, values of every type as stored', async () => {
    const [row] = await sql<Record<string, unknown>>`SELECT 'CG' AS code, 42 AS n, 1.5 AS x, NULL AS empty, '区城管局' AS "名称"`.execute(db).then((r) => r.rows);
    expect(row).toEqual({ code: 'CG', n: 42, x: 1.5, empty: null, 名称: '区城管局' });
    // Of two columns of one name, the last (as better-sqlite3 and node-postgres both have it).
    const [twice] = await sql<Record<string, unknown>>`SELECT 'first' AS code, 'second' AS code`.execute(db).then((r) => r.rows);
    expect(twice).toEqual({ code: 'second' });
    // A name that is no identifier in JavaScript is still a key.
    const [odd] = await sql<Record<string, unknown>>`SELECT 1 AS "a'b\\c""d", 2 AS "}); throw 1; ({"`.execute(db).then((r) => r.rows);
    expect(odd).toEqual({ 'a\'b\\c"d': 1, '}); throw 1; ({': 2 });
  });

  it('sees a column added by a migration through the same connection in a statement kept from before', async () => {
    const before = await departments();
    expect(Object.keys(before[0]!)).not.toContain('motto');
    await sql`ALTER TABLE departments ADD COLUMN motto TEXT`.execute(db);
    await db.updateTable('departments').set({ motto: '马上就办' } as never).where('code', '=', 'CG').execute();
    const after = await departments();
    expect(after[0]).toMatchObject({ ...before[0], motto: '马上就办' });
    // A column renamed: as many columns as before, under another name.
    await sql`ALTER TABLE departments RENAME COLUMN motto TO slogan`.execute(db);
    const renamed = (await departments())[0]!;
    expect(renamed).toMatchObject({ slogan: '马上就办' });
    expect(Object.keys(renamed)).not.toContain('motto');
  });

  it('sees a column added through another connection in a statement kept from before', async () => {
    expect(Object.keys((await departments())[0]!)).not.toContain('fax_line');
    const other = openDatabase(file);
    try {
      await sql`ALTER TABLE departments ADD COLUMN fax_line TEXT`.execute(other);
      await other.updateTable('departments').set({ fax_line: '12345' } as never).where('code', '=', 'CG').execute();
    } finally {
      await other.destroy();
    }
    expect((await departments())[0]).toMatchObject({ code: 'CG', slogan: '马上就办', fax_line: '12345' });
    // Renamed through the other connection: as many columns as before, under another name.
    const again = openDatabase(file);
    try {
      await sql`ALTER TABLE departments RENAME COLUMN fax_line TO hotline`.execute(again);
    } finally {
      await again.destroy();
    }
    const renamed = (await departments())[0]!;
    expect(renamed).toMatchObject({ code: 'CG', slogan: '马上就办', hotline: '12345' });
    expect(Object.keys(renamed)).not.toContain('fax_line');
  });

  // Nothing in duban streams, and kysely streams from PostgreSQL only with a cursor configured: the
  // statement wrapper's stream is SQLite's, so it is tested on a SQLite file in either run.
  it('streams SQLite rows as objects too', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-rows-'));
    const sqlite = openDatabase(path.join(dir, 'rows.sqlite'));
    try {
      await migrateToLatest(sqlite);
      for (const code of ['SJ', 'CG']) await insertDepartment(sqlite, { code, name: `部门 ${code}` }, new Date().toISOString());
      const streamed: Record<string, unknown>[] = [];
      for await (const row of sqlite.selectFrom('departments').select(['code', 'name']).orderBy('code').stream()) streamed.push(row);
      expect(streamed).toEqual([
        { code: 'CG', name: '部门 CG' },
        { code: 'SJ', name: '部门 SJ' },
      ]);
    } finally {
      await sqlite.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
