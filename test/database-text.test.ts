import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { findDepartment, insertDepartment, listDepartments } from '../db/department.repository';
import { tempDatabase, testDialect } from './support/database';

describe(`text in the read model (${testDialect})`, () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
  });
  afterAll(() => db?.destroy());

  // U+0000 cannot be stored in PostgreSQL's text, U+E000 is the mark that escapes it there: both,
  // and the mark followed by what its escapes look like, read back exactly as written.
  const names = ['城\u0000管', '\uE000', '\uE0000', '\uE000\uE000', '\u0000\uE000\u00000', '𠀀 astral', '区城管局'];

  it('reads back any text exactly as written, U+0000 and private-use characters included', async () => {
    for (const [i, name] of names.entries()) {
      expect(await insertDepartment(db, { code: `T${i}`, name }, '2026-11-26T00:00:00.000Z')).toBe(true);
    }
    for (const [i, name] of names.entries()) expect((await findDepartment(db, `T${i}`))?.name).toBe(name);
    expect((await listDepartments(db)).map((d) => d.name).sort()).toEqual([...names].sort());
  });
});
