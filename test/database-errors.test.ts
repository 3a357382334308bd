import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { isBusy, isDatabaseUnavailable, isUniqueViolation } from '../db/errors';
import { tempDatabase, testDialect } from './support/database';

describe(`the database's errors, as db/errors.ts reads them (${testDialect})`, () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
    await sql`CREATE TABLE numbered (id INTEGER PRIMARY KEY, year INTEGER NOT NULL, sequence INTEGER NOT NULL)`.execute(db);
    await sql`CREATE UNIQUE INDEX numbered_number ON numbered (year, sequence)`.execute(db);
    await sql`INSERT INTO numbered VALUES (1, 2026, 1)`.execute(db);
  });
  afterAll(() => db?.destroy());

  it('tells which unique index refused a row, and that it is no passing trouble', async () => {
    const number = await sql`INSERT INTO numbered VALUES (2, 2026, 1)`.execute(db).catch((e: unknown) => e);
    expect(isUniqueViolation(number, 'numbered', ['year', 'sequence'])).toBe(true);
    expect(isUniqueViolation(number, 'numbered', ['id'])).toBe(false);
    expect(isUniqueViolation(number, 'bulletins', ['year', 'sequence'])).toBe(false);
    const key = await sql`INSERT INTO numbered VALUES (1, 2027, 1)`.execute(db).catch((e: unknown) => e);
    expect(isUniqueViolation(key, 'numbered', ['id'])).toBe(true);
    expect(isUniqueViolation(key, 'numbered', ['year', 'sequence'])).toBe(false);
    for (const error of [number, key]) {
      expect(isBusy(error)).toBe(false);
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
  });
});
