import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDepartment } from '../db/department.repository';
import { type ApiStack, dataOf, startApiStack } from './support/api';

// Scorecards over HTTP: cases opened and acknowledged through the API on the time-skipping server,
// their indicators read back as JSON, CSV and XLSX; who may see which department's; the bounds.

describe('scorecards over HTTP', () => {
  let api: ApiStack;
  const today = DateTime.now().setZone('Asia/Shanghai');
  const range = { from: today.minus({ days: 20 }).toISODate()!, to: today.toISODate()! };

  beforeAll(async () => {
    api = await startApiStack();
    // A department whose name a spreadsheet would run as a formula.
    await insertDepartment(api.db, { code: 'EV', name: '=HYPERLINK("http://evil.example","x")' }, new Date().toISOString());
    const hotline = dataOf(
      await api.as.office.POST('/api/v1/cases', { body: { title: '热线：路灯', category: '市政', severity: 'general', source: 'hotline', leadDepartment: 'CG' } }),
    );
    dataOf(await api.as.CG.POST('/api/v1/cases/{caseId}/tasks/{taskId}/acknowledge', { params: { path: { caseId: hotline.caseId, taskId: `${hotline.caseId}-T1` } }, body: {} }));
    dataOf(await api.as.office.POST('/api/v1/cases', { body: { title: '巡查：占道', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'SJ' } }));
  });
  afterAll(() => api?.close());

  it('gives the office every department, the trend by week and the whole range', async () => {
    const card = dataOf(await api.as.office.GET('/api/v1/scorecards', { params: { query: { ...range, by: 'week' } } }));
    expect(card.departments.map((d) => d.departmentCode)).toEqual(['CG', 'EV', 'JD', 'SJ']);
    // 21 days from a given weekday span 4 weeks (first and last partial) or 3 + 1.
    expect(card.periods[0]!.from).toBe(range.from);
    expect(card.periods.at(-1)!.to).toBe(range.to);
    const cg = card.departments.find((d) => d.departmentCode === 'CG')!;
    // One task assigned and acknowledged at once (its deadline is a working day away): on time; from the hotline: responded.
    expect(cg.total.counts.tasksAssigned).toBe(1);
    expect(cg.total.ackOnTimeRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(cg.total.hotline.responseRate).toEqual({ numerator: 1, denominator: 1, value: 1 });
    expect(cg.total.closureRate).toEqual({ numerator: 0, denominator: 1, value: 0 });
    // By the default rules: nothing off (100 points, × 0.6) and acknowledgement 100% (× 0.1); no
    // closure judged nor satisfaction to weigh: (60 + 10) / 0.7 = 100.
    expect(cg.total.assessment).toEqual({ score: 100, deductions: {} });
    // The trend sums to the whole range for what is counted by the event.
    expect(cg.trend.reduce((n, e) => n + e.counts.tasksAssigned, 0)).toBe(1);
    expect(cg.trend.at(-1)!.counts.openAtEnd).toBe(1);
    const sj = card.departments.find((d) => d.departmentCode === 'SJ')!;
    // Not acknowledged yet, its deadline still ahead: nothing to rate.
    expect(sj.total.counts.openAtEnd).toBe(1);
    expect(sj.total.ackOnTimeRate.value).toBeNull();
  });

  it('shows a department its own scorecard only', async () => {
    const own = dataOf(await api.as.CG.GET('/api/v1/scorecards', { params: { query: range } }));
    expect(own.by).toBe('month');
    expect(own.departments.map((d) => d.departmentCode)).toEqual(['CG']);
    const other = await api.as.CG.GET('/api/v1/scorecards', { params: { query: { ...range, department: 'SJ' } } });
    expect(other.response.status).toBe(403);
    expect(other.error).toMatchObject({ error: { code: 'forbidden', details: [{ path: 'department' }] } });
    expect((await api.as.public.GET('/api/v1/scorecards', { params: { query: range } })).response.status).toBe(401);
  });

  it('refuses ranges it cannot cover, naming the field', async () => {
    const backwards = await api.as.office.GET('/api/v1/scorecards', { params: { query: { from: '2026-03-31', to: '2026-03-01' } } });
    expect(backwards.response.status).toBe(422);
    expect(backwards.error).toMatchObject({ error: { code: 'invalid_input', details: [{ path: 'to' }] } });
    const tooLong = await api.as.office.GET('/api/v1/scorecards', { params: { query: { from: '2024-01-01', to: '2026-01-02' } } });
    expect(tooLong.response.status).toBe(422);
    // 2 years by week: 105 periods, over the 104 allowed.
    const tooMany = await api.as.office.GET('/api/v1/scorecards', { params: { query: { from: '2024-01-01', to: '2025-12-31', by: 'week' } } });
    expect(tooMany.response.status).toBe(422);
    expect(tooMany.error).toMatchObject({ error: { details: [{ path: 'by' }] } });
    const unknown = await api.as.office.GET('/api/v1/scorecards', { params: { query: { ...range, department: 'NOPE' } } });
    expect(unknown.response.status).toBe(404);
    const malformed = await api.call('GET', '/api/v1/scorecards?from=2026-02-30&to=2026-03-01', { token: api.tokens.office });
    expect(malformed.status).toBe(400);
  });

  it('exports CSV: one row per department and period then its whole range, bilingual headers, no formulas', async () => {
    const result = await api.as.office.GET('/api/v1/scorecards/export.csv', { params: { query: { ...range, by: 'week' } }, parseAs: 'arrayBuffer' });
    expect(result.response.headers.get('content-type')).toMatch(/^text\/csv/);
    // The BOM as sent (a text decoder would drop it).
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(dataOf(result));
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows]: string[][] = parse(text.slice(1), {});
    expect(header!.slice(0, 6)).toEqual(['部门代码 / department', '部门 / department name', '起 / from', '止 / to', '周期 / bucket', '交办任务 / tasks assigned']);
    const weeks = dataOf(await api.as.office.GET('/api/v1/scorecards', { params: { query: { ...range, by: 'week' } } })).periods.length;
    expect(rows).toHaveLength(4 * (weeks + 1));
    const col = (name: string) => header!.indexOf(name);
    const cgTotal = rows.find((r) => r[0] === 'CG' && r[col('周期 / bucket')] === 'total')!;
    expect([cgTotal[col('起 / from')], cgTotal[col('止 / to')], cgTotal[col('交办任务 / tasks assigned')], cgTotal[col('签收及时率 / acknowledged on time')]]).toEqual([
      range.from,
      range.to,
      '1',
      '1',
    ]);
    // Nothing to rate: an empty cell, not 0.
    expect(rows.find((r) => r[0] === 'JD')![col('签收及时率 / acknowledged on time')]).toBe('');
    expect(rows.find((r) => r[0] === 'EV')![1]).toBe('\'=HYPERLINK("http://evil.example","x")');
  });

  it('exports XLSX that reads back with the same rows, rates as numbers', async () => {
    const result = await api.as.office.GET('/api/v1/scorecards/export.xlsx', { params: { query: { ...range, department: 'CG' } }, parseAs: 'arrayBuffer' });
    expect(result.response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(result.response.headers.get('content-disposition')).toContain(`scorecard-CG-${range.from}-${range.to}-month.xlsx`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(dataOf(result));
    const sheet = workbook.getWorksheet('记分卡 scorecard')!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header[0]).toBe('部门代码 / department');
    const months = dataOf(await api.as.office.GET('/api/v1/scorecards', { params: { query: range } })).periods.length;
    expect(sheet.rowCount).toBe(1 + months + 1);
    const last = (sheet.getRow(sheet.rowCount).values as unknown[]).slice(1);
    expect(last[0]).toBe('CG');
    expect(last[header.indexOf('周期 / bucket')]).toBe('total');
    expect(last[header.indexOf('交办任务 / tasks assigned')]).toBe(1);
    expect(last[header.indexOf('签收及时率 / acknowledged on time')]).toBe(1);
    expect(sheet.getColumn(header.indexOf('签收及时率 / acknowledged on time') + 1).numFmt).toBe('0.0%');
  });
});
