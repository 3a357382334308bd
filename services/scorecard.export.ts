import ExcelJS from 'exceljs';
import { type CsvColumn, csvHeader, csvLines, inertCell } from '../api/csv';
import type { Ratio } from '../domain/indicator.types';
import type { Scorecard, ScorecardEntry } from './scorecard.service';

/** One line of an export: a department's figures for one period of the trend, or for the whole range. */
export interface ScorecardLine {
  /** week | month for a period of the trend; total for the whole range. */
  readonly bucket: string;
  readonly entry: ScorecardEntry;
}

/** The lines of an export: per department, each period of its trend, then its whole range. */
export function scorecardLines(card: Scorecard): ScorecardLine[] {
  return card.departments.flatMap((d) => [...d.trend.map((entry) => ({ bucket: card.by, entry })), { bucket: 'total', entry: d.total }]);
}

const rate = (r: Ratio): number | null => (r.value === null ? null : Math.round(r.value * 10_000) / 10_000);
const round2 = (v: number | null): number | null => (v === null ? null : Math.round(v * 100) / 100);

/** The columns of a scorecard export, headers in Chinese with English; rates as fractions in [0, 1]. */
export const scorecardColumns: readonly (CsvColumn<ScorecardLine> & { readonly rate?: boolean })[] = [
  { header: '部门代码 / department', cell: (l) => l.entry.departmentCode },
  { header: '部门 / department name', cell: (l) => l.entry.departmentName },
  { header: '起 / from', cell: (l) => l.entry.period.from },
  { header: '止 / to', cell: (l) => l.entry.period.to },
  { header: '周期 / bucket', cell: (l) => l.bucket },
  { header: '交办任务 / tasks assigned', cell: (l) => l.entry.counts.tasksAssigned },
  { header: '在办任务 / tasks active', cell: (l) => l.entry.counts.tasksActive },
  { header: '签收及时率 / acknowledged on time', cell: (l) => rate(l.entry.ackOnTimeRate), rate: true },
  { header: '按时签收 / acknowledged on time (n)', cell: (l) => l.entry.counts.acknowledgedOnTime },
  { header: '应签收 / acknowledgements due', cell: (l) => l.entry.counts.ackDue },
  { header: '结案率 / closure rate', cell: (l) => rate(l.entry.closureRate), rate: true },
  { header: '结案 / closed', cell: (l) => l.entry.counts.closed },
  { header: '期末未结 / open at end', cell: (l) => l.entry.counts.openAtEnd },
  { header: '按期结案率 / closed on time', cell: (l) => rate(l.entry.onTimeClosureRate), rate: true },
  { header: '按期结案 / closed on time (n)', cell: (l) => l.entry.counts.closedOnTime },
  { header: '应结案 / closures due', cell: (l) => l.entry.counts.closureDue },
  { header: '返工率 / rework rate', cell: (l) => rate(l.entry.reworkRate), rate: true },
  { header: '返工 / rejections', cell: (l) => l.entry.counts.rejections },
  { header: '提交 / submissions', cell: (l) => l.entry.counts.submissions },
  { header: '延期率 / extension rate', cell: (l) => rate(l.entry.extensionRate), rate: true },
  { header: '延期任务 / tasks extended', cell: (l) => l.entry.counts.tasksExtended },
  { header: '重办 / reopened', cell: (l) => l.entry.counts.reopened },
  ...([1, 2, 3, 4] as const).map((rung) => ({
    header: `达到第${rung}级 / reached rung ${rung}`,
    cell: (l: ScorecardLine) => l.entry.counts.rungsReached[rung],
  })),
  ...([0, 1, 2, 3, 4] as const).map((rung) => ({
    header: `期末超期·第${rung}级 / overdue at end, rung ${rung}`,
    cell: (l: ScorecardLine) => l.entry.overdueByRung[rung],
  })),
  { header: '平均结案工作日 / mean working days to close', cell: (l) => round2(l.entry.workingDaysToClose.mean) },
  { header: 'P90结案工作日 / p90 working days to close', cell: (l) => l.entry.workingDaysToClose.p90 },
  { header: '响应率 / response rate', cell: (l) => rate(l.entry.hotline.responseRate), rate: true },
  { header: '解决率 / resolution rate', cell: (l) => rate(l.entry.hotline.resolutionRate), rate: true },
  { header: '满意率 / satisfaction rate', cell: (l) => rate(l.entry.hotline.satisfactionRate), rate: true },
  { header: '回访办结 / follow-ups concluded', cell: (l) => l.entry.hotline.followUps.concluded },
  { header: '未评价视为满意 / unrated (deemed satisfied)', cell: (l) => l.entry.hotline.followUps.unrated },
  { header: '考核得分 / assessment score', cell: (l) => l.entry.assessment?.score ?? null },
];

/** The scorecard as CSV, UTF-8 with a BOM (for Excel), text cells made inert against formulas. */
export function scorecardCsv(card: Scorecard): string {
  return `\uFEFF${csvHeader(scorecardColumns)}${csvLines(scorecardColumns, scorecardLines(card))}`;
}

/** The scorecard as an XLSX workbook: one sheet, one row per department and period, rates as percentages. */
export async function scorecardXlsx(card: Scorecard): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'duban';
  const sheet = workbook.addWorksheet('记分卡 scorecard', { views: [{ state: 'frozen', ySplit: 1, xSplit: 2 }] });
  sheet.columns = scorecardColumns.map((c) => ({ header: c.header, width: Math.max(12, Math.min(30, c.header.length + 2)) }));
  sheet.getRow(1).font = { bold: true };
  for (const line of scorecardLines(card)) {
    // Text is written as text cells, never formulas; inert as in the CSV for whoever copies it on.
    sheet.addRow(scorecardColumns.map((c) => {
      const value = c.cell(line);
      return typeof value === 'string' ? inertCell(value) : value;
    }));
  }
  scorecardColumns.forEach((c, i) => {
    if (c.rate) sheet.getColumn(i + 1).numFmt = '0.0%';
  });
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
