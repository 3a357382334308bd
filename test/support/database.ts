import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type Db, migrateToLatest, openDatabase } from '../../db/database';
import { insertDepartment } from '../../db/department.repository';

/**
 * The PostgreSQL server the tests run against instead of SQLite files: a URL of a role that may
 * create databases (e.g. postgres://postgres@127.0.0.1:5432/postgres), or unset for SQLite.
 * `.ci/run` runs the read-model tests a second time with it set.
 */
export const testPostgresServer = process.env.DUBAN_TEST_DATABASE || undefined;

/** Which database this run of the tests uses. */
export const testDialect: 'sqlite' | 'postgres' = testPostgresServer ? 'postgres' : 'sqlite';

/**
 * A fresh migrated read model with departments added: a SQLite file in a fresh temporary
 * directory, or, when DUBAN_TEST_DATABASE is set, a new PostgreSQL database of its own on that
 * server. `file` is what openDatabase takes to open it again (the file's path or the database's URL).
 */
export async function tempDatabase(departments: string[] = []): Promise<{ db: Db; file: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-test-'));
  const file = testPostgresServer ? await createPostgresDatabase(testPostgresServer) : path.join(dir, 'duban.sqlite');
  const db = openDatabase(file);
  await migrateToLatest(db);
  for (const code of departments) {
    await insertDepartment(db, { code, name: `部门 ${code}` }, new Date().toISOString());
  }
  return { db, file, dir };
}

/**
 * A new empty database on `server`, named uniquely, and its URL. UTF-8 with the C.UTF-8 locale:
 * text sorts by code point as in SQLite, and pg_trgm reads Chinese characters as word characters.
 */
async function createPostgresDatabase(server: string): Promise<string> {
  const name = `duban_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}
