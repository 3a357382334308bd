import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createPostgresDatabase, type Db, migrateToLatest, openDatabase } from '../../db/database';
import { insertDepartment } from '../../db/department.repository';
import { dumpDatabase } from './sqlite-dump';

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
 * Everything the read model at `file` (a SQLite path or a PostgreSQL URL, as tempDatabase gives)
 * holds, as comparable text: its schema objects and every row of every table, in a stable order.
 */
export async function dumpReadModel(file: string): Promise<string> {
  if (!/^postgres(ql)?:\/\//.test(file)) return dumpDatabase(file);
  const client = new Client({ connectionString: file });
  await client.connect();
  try {
    const objects = await client.query(
      `SELECT 'column' AS type, table_name AS name, column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS sql
         FROM information_schema.columns WHERE table_schema = 'public'
       UNION ALL SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
       UNION ALL SELECT 'trigger', tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND NOT t.tgisinternal
       ORDER BY 1, 2, 3`,
    );
    const tables = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    const rows = [];
    for (const { name } of tables.rows) {
      const all = await client.query(`SELECT * FROM "${name}"`);
      rows.push({ table: name, rows: all.rows.map((r) => JSON.stringify(r)).sort() });
    }
    return JSON.stringify({ objects: objects.rows, rows }, null, 1);
  } finally {
    await client.end();
  }
}

/**
 * The read model of `duban` processes a test starts with DUBAN_DATA_DIR=`dataDir`: their default
 * SQLite file there, or, when DUBAN_TEST_DATABASE is set, a fresh PostgreSQL database, named to
 * them in `env` (DATABASE_URL). `url` is what openDatabase and dumpReadModel take to look inside.
 */
export async function processDatabase(dataDir: string): Promise<{ url: string; env: NodeJS.ProcessEnv }> {
  if (!testPostgresServer) return { url: path.join(dataDir, 'duban.sqlite'), env: {} };
  const url = await createPostgresDatabase(testPostgresServer);
  return { url, env: { DATABASE_URL: url } };
}
