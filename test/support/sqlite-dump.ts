import SQLite from 'better-sqlite3';

/**
 * Everything a SQLite file holds, as comparable text: every schema object with its SQL and every
 * row of every table (full-text shadow tables included), rows in a stable order.
 */
export function dumpDatabase(file: string): string {
  const sqlite = new SQLite(file);
  try {
    const objects = sqlite
      .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
      .all() as { type: string; name: string; sql: string | null }[];
    const tables = objects.filter((o) => o.type === 'table' && !/^CREATE VIRTUAL TABLE/i.test(o.sql ?? ''));
    const rows = tables.map((t) => {
      const all = sqlite.prepare(`SELECT * FROM "${t.name}"`).all().map((r) => JSON.stringify(r, bufferAsHex));
      return { table: t.name, rows: all.sort() };
    });
    return JSON.stringify({ objects, rows }, null, 1);
  } finally {
    sqlite.close();
  }
}

function bufferAsHex(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}
