import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadModelActivities } from '../activities/read-model.activities';
import { openCase, recordTaskFinished } from '../domain/case.machine';
import { caseDetailsSchema } from '../domain/case.schema';
import type { DomainEvent } from '../domain/event';
import { decideTask, newTask, type TaskState } from '../domain/task.machine';
import { migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { processDatabase } from './support/database';
import { dept, office } from './support/fixtures';
import { cli, runCli } from './support/processes';

/**
 * `duban scorecard` through the built CLI (bin/duban.js) on a data directory of its own, whose read
 * model holds one case written as the workflows write it: no Temporal server is needed.
 */
describe('duban scorecard', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const zone = 'Asia/Shanghai';
  const local = (t: string) => DateTime.fromFormat(t, 'yyyy-MM-dd HH:mm', { zone }).toUTC().toISO()!;
  const eod = (d: string) => DateTime.fromISO(d, { zone }).endOf('day').toUTC().toISO()!;
  const range = ['--from', '2026-03-01', '--to', '2026-03-31'];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-cli-scorecard-'));
    const database = await processDatabase(path.join(dir, 'data'));
    env = { ...database.env, DUBAN_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
    fs.mkdirSync(path.join(dir, 'data'));
    const db = openDatabase(database.url);
    await migrateToLatest(db);
    const now = new Date().toISOString();
    await insertDepartment(db, { code: 'CG', name: '城管局' }, now);
    await insertDepartment(db, { code: 'JD', name: '街道' }, now);
    const activities = createReadModelActivities({ db });
    // DB-1 to CG, opened Mon 2 Mar, acknowledged at once, accepted Thu 5 Mar (3 working days).
    const caseId = 'DB-2026-000001';
    const opened = openCase({
      caseId,
      details: caseDetailsSchema.parse({ title: '路灯不亮', category: '市政', severity: 'general', source: 'hotline', leadDepartment: 'CG' }),
      actor: office,
      at: local('2026-03-02 09:00'),
    });
    const due = { ackDueAt: eod('2026-03-03'), rectificationDueAt: eod('2026-03-13') };
    let task: TaskState = newTask({ taskId: `${caseId}-T1`, caseId, departmentCode: 'CG', role: 'lead', assignedAt: local('2026-03-02 09:00'), ...due });
    const withDue = (e: DomainEvent) => (e.action === 'task.assigned' ? { ...e, payload: { ...e.payload, ...due } } : e);
    await activities.recordEvents({
      events: opened.events.map((e, i) => ({ key: `${caseId}#${i + 1}`, caseId, event: withDue(e) })),
      caseSnapshot: { state: opened.state, version: 2 },
      taskSnapshots: [{ state: task, version: 0 }],
    });
    const steps: [Parameters<typeof decideTask>[1], string][] = [
      [{ type: 'acknowledge', actor: dept('CG') }, '2026-03-02 10:00'],
      [{ type: 'submit', actor: dept('CG'), report: '已修复', evidence: [] }, '2026-03-04 10:00'],
      [{ type: 'verify', actor: office, decision: 'accept' }, '2026-03-05 10:00'],
    ];
    for (const [i, [command, at]] of steps.entries()) {
      const decision = decideTask(task, command, local(at));
      task = decision.state;
      await activities.recordEvents({ events: decision.events.map((event) => ({ key: `${task.taskId}#${i + 1}`, caseId, event })), taskSnapshots: [{ state: task, version: i + 1 }] });
    }
    const closed = recordTaskFinished(opened.state, task.taskId, 'accepted', local('2026-03-05 10:00'));
    await activities.recordEvents({ events: closed.events.map((event) => ({ key: `${caseId}#3`, caseId, event })), caseSnapshot: { state: closed.state, version: 3 } });
    await db.destroy();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints JSON with the trend by week and the whole range', async () => {
    const card = JSON.parse(await cli(['scorecard', '--dept', 'CG', ...range, '--by', 'week', '--format', 'json'], env));
    // March 2026 by week: 1 (Sun), 2–8, 9–15, 16–22, 23–29, 30–31.
    expect(card.periods).toHaveLength(6);
    expect(card.departments).toHaveLength(1);
    const cg = card.departments[0];
    expect(cg.total.counts).toMatchObject({ tasksAssigned: 1, acknowledgedOnTime: 1, ackDue: 1, closed: 1, closedOnTime: 1 });
    expect(cg.total.workingDaysToClose).toEqual({ count: 1, mean: 3, p90: 3 });
    expect(cg.trend[1].counts.closed).toBe(1);
    // Scored by the default rules (no version yet): nothing off, every rate 100% (none to weigh
    // for satisfaction): 100; a week with nothing judged is its points alone, 100 too.
    expect(cg.total.assessment).toEqual({ score: 100, deductions: {} });
    expect(cg.trend[1].assessment).toEqual({ score: 100, deductions: {} });
  });

  it('prints a table, and writes CSV and XLSX files', async () => {
    const table = await cli(['scorecard', ...range], env);
    expect(table).toContain('CG 城管局');
    expect(table).toContain('JD 街道');
    expect(table).toMatch(/合计 total 2026-03-01\.\.2026-03-31\s+1\s+100\.0%/);

    const csv = await cli(['scorecard', '--dept', 'CG', ...range, '--format', 'csv'], env);
    const [header, ...rows]: string[][] = parse(csv.replace(/^\uFEFF/, ''), {});
    expect(rows.map((r) => r[header!.indexOf('周期 / bucket')])).toEqual(['month', 'total']);
    expect(rows[1]![header!.indexOf('平均结案工作日 / mean working days to close')]).toBe('3');

    const out = path.join(dir, 'cg.xlsx');
    expect(JSON.parse(await cli(['scorecard', '--dept', 'CG', ...range, '--format', 'xlsx', '--out', out], env))).toEqual({ written: out, departments: 1, periods: 1 });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(out);
    const sheet = workbook.getWorksheet('记分卡 scorecard')!;
    expect(sheet.rowCount).toBe(3);
    expect(sheet.getRow(3).getCell(1).value).toBe('CG');
  });

  it('refuses what it cannot do, naming the field', async () => {
    const noOut = await runCli(['scorecard', ...range, '--format', 'xlsx'], env);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('out');
    const badDate = await runCli(['scorecard', '--from', '2026-02-30', '--to', '2026-03-31'], env);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('from');
    const tooLong = await runCli(['scorecard', '--from', '2023-01-01', '--to', '2026-03-31'], env);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('to');
    expect((await runCli(['scorecard', '--dept', 'NOPE', ...range], env)).code).toBe(3);
  });
});
