import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { listCalendarDays, listCalendarYears } from '../db/calendar.repository';
import { findCase, listCases, listCaseTasks, saveCaseRow } from '../db/case.repository';
import { findComplaint, listComplaintViews } from '../db/complaint.repository';
import { findFollowUp } from '../db/follow-up.repository';
import { fileVisibleTo } from '../db/evidence.repository';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { listDepartments } from '../db/department.repository';
import { holdersOf, listPeople } from '../db/person.repository';
import { appendEvents, listCaseEvents } from '../db/event.repository';
import { migrations } from '../db/migrations';
import { listCaseEscalations, listPendingNotifications } from '../db/outbox.repository';
import type { CaseTable } from '../db/schema';
import { listTokens } from '../db/token.repository';
import { createCalendarSource } from '../services/calendar.source';

/**
 * Every migration applied to a database holding data written by every earlier schema. Each
 * migration has a fixture, test/fixtures/migrations/<migration>.sql: rows valid at that
 * migration's schema. For each migration N, the fixtures are loaded each at its own schema (1 at
 * schema 1, 2 at schema 2, …, N at schema N), then the file is migrated to the latest schema, and
 * every row must still be there unchanged and read back through the repositories.
 */
const fixturesDir = path.join(__dirname, 'fixtures', 'migrations');
const names = Object.keys(migrations).sort();
const fixture = (name: string) => path.join(fixturesDir, `${name}.sql`);
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('migration fixtures', () => {
  it('has one fixture per migration, each inserting rows, and none without a migration', () => {
    const missing = names.filter((name) => !fs.existsSync(fixture(name)));
    expect(
      missing,
      `migrations without a fixture: ${missing.join(', ')}. Add test/fixtures/migrations/<migration>.sql with INSERTs of ` +
        'representative rows valid at that migration’s schema (docs/architecture.md, "Migrations").',
    ).toEqual([]);
    const orphans = fs.readdirSync(fixturesDir).filter((f) => f.endsWith('.sql') && !names.includes(f.slice(0, -4)));
    expect(orphans, `fixtures without a migration: ${orphans.join(', ')}`).toEqual([]);
    for (const name of names) {
      expect(/\bINSERT\s+INTO\b/i.test(fs.readFileSync(fixture(name), 'utf8')), `${name}.sql inserts nothing`).toBe(true);
    }
  });
});

type Row = Record<string, unknown>;

/** Rows of every data table by rowid (full-text shadow tables and bookkeeping left out). */
function snapshot(file: string): Map<string, Map<number, Row>> {
  const sqlite = new SQLite(file);
  try {
    const tables = sqlite.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table'`).all() as { name: string; sql: string }[];
    const virtual = tables.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql)).map((t) => t.name);
    const data = tables.filter(
      (t) => !/^(sqlite_|kysely_)/.test(t.name) && !virtual.some((v) => t.name === v || t.name.startsWith(`${v}_`)),
    );
    return new Map(
      data.map((t) => {
        const rows = sqlite.prepare(`SELECT rowid AS "__rowid", * FROM "${t.name}"`).all() as Row[];
        return [t.name, new Map(rows.map(({ __rowid, ...row }) => [Number(__rowid), row]))];
      }),
    );
  } finally {
    sqlite.close();
  }
}

/** The database with fixtures 1..n each loaded at its own migration, not yet migrated further. */
async function databaseUpTo(n: number): Promise<{ db: Db; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-fixtures-'));
  dirs.push(dir);
  const file = path.join(dir, 'duban.sqlite');
  const db = openDatabase(file);
  for (const name of names.slice(0, n)) {
    await migrateToLatest(db, Object.fromEntries(names.slice(0, names.indexOf(name) + 1).map((m) => [m, migrations[m]!])));
    const sqlite = new SQLite(file);
    try {
      sqlite.exec(fs.readFileSync(fixture(name), 'utf8'));
    } catch (error) {
      throw new Error(`fixture ${name}.sql does not load at its schema: ${(error as Error).message}`);
    } finally {
      sqlite.close();
    }
  }
  return { db, file };
}

const noDue = '9999-12-31T23:59:59.999Z';

describe.each(names.map((name, i) => ({ name, n: i + 1 })))('data written by every schema up to $name', ({ name, n }) => {
  it('migrates to the latest schema with every row unchanged and readable through the repositories', async () => {
    const { db, file } = await databaseUpTo(n);
    try {
      const before = snapshot(file);
      await migrateToLatest(db);
      const after = snapshot(file);

      for (const [table, rows] of before) {
        const now = after.get(table);
        expect(now, `${table} is gone after migrating from ${name}`).toBeDefined();
        expect(now!.size, `${table} rows`).toBe(rows.size);
        for (const [rowid, row] of rows) {
          const migrated = now!.get(rowid);
          expect(migrated && Object.fromEntries(Object.keys(row).map((k) => [k, migrated[k]])), `${table} rowid ${rowid}`).toEqual(row);
        }
      }

      const raw = <T>(table: string) => [...(after.get(table)?.values() ?? [])] as T[];
      const cases = raw<CaseTable>('cases');
      expect(cases.length).toBeGreaterThan(0);

      expect((await listDepartments(db)).map((d) => d.code)).toEqual(raw<{ code: string }>('departments').map((d) => d.code).sort());

      for (const row of cases) {
        const view = await findCase(db, row.id);
        expect(view).toMatchObject({
          id: row.id,
          title: row.title,
          description: row.description,
          status: row.status,
          leadDepartment: row.lead_department,
          cooperatingDepartments: JSON.parse(row.cooperating_departments) as string[],
          evidence: JSON.parse(row.evidence) as unknown[],
          openedAt: row.opened_at,
          dueAt: row.due_at ?? null,
          escalationLevel: row.escalation_level ?? 0,
        });
        const tasks = raw<{
          id: string;
          case_id: string;
          status: string;
          rectification_due_at: string | null;
          responsible_person_id?: string | null;
          responsible_person_name?: string | null;
        }>('tasks').filter((t) => t.case_id === row.id);
        expect(
          (await listCaseTasks(db, row.id)).map((t) => [t.id, t.status, t.rectificationDueAt, t.responsiblePerson?.id ?? null, t.responsiblePerson?.name ?? null]),
        ).toEqual(
          tasks
            .sort((a, b) => a.id.localeCompare(b.id))
            .map((t) => [t.id, t.status, t.rectification_due_at ?? null, t.responsible_person_id ?? null, t.responsible_person_name ?? null]),
        );
        const events = raw<{ case_id: string; action: string; payload: string; at: string; position: number }>('events')
          .filter((e) => e.case_id === row.id)
          .sort((a, b) => (a.at === b.at ? a.position - b.position : a.at < b.at ? -1 : 1));
        expect((await listCaseEvents(db, row.id)).map((e) => [e.action, e.payload])).toEqual(
          events.map((e) => [e.action, JSON.parse(e.payload) as unknown]),
        );
        expect((await listCaseEscalations(db, row.id)).map((e) => e.escalation_key).sort()).toEqual(
          raw<{ case_id: string; escalation_key: string }>('escalations')
            .filter((e) => e.case_id === row.id)
            .map((e) => e.escalation_key)
            .sort(),
        );
      }

      // Lists: everything, by status, by deadline, and full-text search with its exact matches.
      const ids = (views: { id: string }[]) => views.map((v) => v.id);
      expect(ids(await listCases(db, { limit: 1000 })).sort()).toEqual(cases.map((c) => c.id).sort());
      for (const status of new Set(cases.map((c) => c.status))) {
        expect(ids(await listCases(db, { status, limit: 1000 })).sort()).toEqual(cases.filter((c) => c.status === status).map((c) => c.id).sort());
      }
      const byDue = [...cases].sort((a, b) => {
        const [x, y] = [a.due_at ?? noDue, b.due_at ?? noDue];
        return x === y ? a.id.localeCompare(b.id) : x < y ? -1 : 1;
      });
      expect(ids(await listCases(db, { sort: 'dueAt', limit: 1000 }))).toEqual(byDue.map((c) => c.id));
      const searchable = (c: CaseTable) => `${c.title}\n${c.description}\n${c.location_address ?? ''}`;
      for (const phrase of cases.flatMap((c) => [c.title, c.location_address].filter((p): p is string => !!p && [...p].length >= 3))) {
        expect(ids(await listCases(db, { q: phrase, limit: 1000 })).sort(), `search "${phrase}"`).toEqual(
          cases.filter((c) => searchable(c).includes(phrase)).map((c) => c.id).sort(),
        );
      }

      const complaints = raw<{ tracking_code: string; title: string; status: string; id: number }>('complaints');
      for (const c of complaints) expect(await findComplaint(db, c.tracking_code)).toMatchObject({ title: c.title, status: c.status });
      expect((await listComplaintViews(db, { limit: 1000 })).map((c) => c.tracking_code).sort()).toEqual(complaints.map((c) => c.tracking_code).sort());
      // Every uploader of every stored file may still attach and read it.
      for (const file of raw<{ sha256: string; uploaded_by: string }>('evidence_files')) {
        const viewer = { uploader: file.uploaded_by, role: 'department' as const, department: null };
        expect(await fileVisibleTo(db, file.sha256, viewer), `${file.sha256} for ${file.uploaded_by}`).toBe(true);
      }
      for (const upload of raw<{ sha256: string; uploaded_by: string }>('evidence_uploads')) {
        expect(await fileVisibleTo(db, upload.sha256, { uploader: upload.uploaded_by, role: 'department', department: null })).toBe(true);
      }
      for (const row of raw<{ case_id: string; status: string; answer: string | null; rating: string | null; answer_evidence: string }>('case_follow_ups')) {
        expect(await findFollowUp(db, row.case_id), `follow-up of ${row.case_id}`).toMatchObject({
          status: row.status,
          rating: row.rating === null ? null : { rating: row.rating },
          answer: row.answer === null ? null : { text: row.answer, evidence: JSON.parse(row.answer_evidence) as unknown[] },
        });
      }
      expect((await listTokens(db)).map((t) => t.id).sort()).toEqual(raw<{ id: string }>('tokens').map((t) => t.id).sort());
      // The directory: everyone with the roles they hold, and each role's active holders.
      const peopleRows = raw<{ id: string; department_code: string | null; name: string; post: string; email: string | null; active: number }>('people');
      const roleRows = raw<{ person_id: string; role: string }>('person_roles');
      const rolesOf = (id: string) => roleRows.filter((r) => r.person_id === id).map((r) => r.role).sort();
      const byId = <T extends { id: string }>(a: T, b: T) => a.id.localeCompare(b.id);
      expect(
        (await listPeople(db, { includeInactive: true })).sort(byId).map((p) => [p.id, p.department, p.name, p.post, p.email, p.active, [...p.roles].sort()]),
      ).toEqual(peopleRows.sort(byId).map((p) => [p.id, p.department_code, p.name, p.post, p.email, p.active === 1, rolesOf(p.id)]));
      for (const { person_id, role } of roleRows) {
        const holder = peopleRows.find((p) => p.id === person_id)!;
        const holders = await holdersOf(db, { department: holder.department_code, role: role as 'head' });
        expect(holders.map((h) => h.id), `${role} of ${holder.department_code ?? 'the office'}`).toContain(person_id);
      }
      expect((await listPendingNotifications(db)).map((x) => x.notification_key).sort()).toEqual(
        raw<{ status: string; notification_key: string }>('notifications')
          .filter((x) => x.status === 'pending')
          .map((x) => x.notification_key)
          .sort(),
      );
      expect((await listCalendarDays(db)).map((d) => d.date)).toEqual(raw<{ date: string }>('calendar_days').map((d) => d.date).sort());
      const years = await listCalendarYears(db);
      expect(years.map((y) => y.year)).toEqual(raw<{ year: number }>('calendar_years').map((y) => y.year).sort());
      const calendar = await createCalendarSource({ db, timeZone: 'Asia/Shanghai' })();
      for (const day of raw<{ date: string; kind: string }>('calendar_year_days')) {
        expect(calendar.isWorkingDay(day.date), `${day.date} (${day.kind})`).toBe(day.kind === 'workday');
      }

      // The migrated file takes writes too: a changed case is found by its new title, not its
      // old one, and the full-text index stays consistent with the cases it indexes.
      const first = cases[0]!;
      const current = await db.selectFrom('cases').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
      await saveCaseRow(db, { ...current, title: '迁移后改名的案件', version: current.version + 1 });
      expect(ids(await listCases(db, { q: '迁移后改名', limit: 10 }))).toEqual([first.id]);
      expect(ids(await listCases(db, { q: first.title, limit: 1000 }))).not.toContain(first.id);
      await sql`INSERT INTO cases_fts(cases_fts, rank) VALUES ('integrity-check', 1)`.execute(db);
      const note = { action: 'task.progress_reported', at: '2027-02-01T00:00:00.000Z', taskId: null, actor: { role: 'office', name: '督查科' }, payload: { note: '迁移后' } } as const;
      expect(await appendEvents(db, [{ key: `${first.id}#after-migration`, caseId: first.id, event: note }], new Date().toISOString())).toBe(1);
      expect((await listCaseEvents(db, first.id)).at(-1)).toMatchObject({ action: 'task.progress_reported', payload: { note: '迁移后' } });
    } finally {
      await db.destroy();
    }
  });
});
