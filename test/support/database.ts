import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Db, migrateToLatest, openDatabase } from '../../db/database';
import { insertDepartment } from '../../db/department.repository';

/** A migrated SQLite file in a fresh temporary directory, with departments added. */
export async function tempDatabase(departments: string[] = []): Promise<{ db: Db; file: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-test-'));
  const file = path.join(dir, 'duban.sqlite');
  const db = openDatabase(file);
  await migrateToLatest(db);
  for (const code of departments) {
    await insertDepartment(db, { code, name: `部门 ${code}` }, new Date().toISOString());
  }
  return { db, file, dir };
}
