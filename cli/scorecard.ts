import fs from 'node:fs';
import { Option } from 'commander';
import { z } from 'zod';
import { localDateSchema } from '../domain/calendar';
import { departmentCodeSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import type { Ratio } from '../domain/indicator.types';
import { parseInput } from '../domain/validation';
import { scorecardCsv, scorecardXlsx } from '../services/scorecard.export';
import { type Scorecard, scorecardBuckets, type ScorecardEntry } from '../services/scorecard.service';
import { type CliEnv, print } from './context';

const formats = ['table', 'json', 'csv', 'xlsx'] as const;

const optionsSchema = z
  .object({
    dept: departmentCodeSchema.optional(),
    from: localDateSchema,
    to: localDateSchema,
    by: z.enum(scorecardBuckets),
    format: z.enum(formats),
    out: z.string().min(1).optional(),
  })
  .strict();

const pct = (r: Ratio): string => (r.value === null ? '—' : `${(r.value * 100).toFixed(1)}%`);
const days = (v: number | null): string => (v === null ? '—' : String(Math.round(v * 10) / 10));

/** The scorecard as a plain-text table per department: each period, then the whole range. */
function table(card: Scorecard): string {
  const header = ['期间 period', '交办 assigned', '签收及时 ack', '结案 closure', '按期结案 on time', '返工 rework', '延期 ext.', '超期 overdue', '均/P90 days', '响应 resp.', '解决 resol.', '满意 satis.'];
  const row = (label: string, e: ScorecardEntry): string[] => [
    label,
    String(e.counts.tasksAssigned),
    pct(e.ackOnTimeRate),
    pct(e.closureRate),
    pct(e.onTimeClosureRate),
    pct(e.reworkRate),
    pct(e.extensionRate),
    String(Object.values(e.overdueByRung).reduce((a, b) => a + b, 0)),
    `${days(e.workingDaysToClose.mean)}/${days(e.workingDaysToClose.p90)}`,
    pct(e.hotline.responseRate),
    pct(e.hotline.resolutionRate),
    pct(e.hotline.satisfactionRate),
  ];
  const out: string[] = [];
  for (const d of card.departments) {
    const rows = [header, ...d.trend.map((e) => row(`${e.period.from}..${e.period.to}`, e)), row(`合计 total ${card.from}..${card.to}`, d.total)];
    const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    out.push(`${d.departmentCode} ${d.departmentName}`);
    for (const r of rows) out.push(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '));
    out.push('');
  }
  return out.join('\n');
}

/** `duban scorecard`: a department's (or every department's) indicators per period and their trend. */
export function scorecardCommands({ program, context }: CliEnv): void {
  program
    .command('scorecard')
    .description('考核记分卡: indicators per department and period, with the trend (docs/indicators.md)')
    .option('--dept <code>', 'one department (default: all)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD (office time)')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD, included')
    .addOption(new Option('--by <bucket>', 'trend by week or month').choices([...scorecardBuckets]).default('month'))
    .addOption(new Option('--format <format>', 'how to write it').choices([...formats]).default('table'))
    .option('--out <file>', 'write to this file (xlsx needs one)')
    .action(async (raw: Record<string, unknown>) => {
      const o = parseInput(optionsSchema, raw, 'scorecard');
      if (o.format === 'xlsx' && !o.out) {
        throw new DomainError('invalid_input', '--format xlsx 需要 --out 文件 / --format xlsx needs --out FILE', [{ path: 'out', message: 'required for xlsx' }]);
      }
      const card = await (await context().scorecards()).scorecard({ from: o.from, to: o.to, by: o.by, department: o.dept }, { role: 'office' });
      const content =
        o.format === 'json' ? `${JSON.stringify(card, null, 2)}\n` : o.format === 'csv' ? scorecardCsv(card) : o.format === 'xlsx' ? await scorecardXlsx(card) : `${table(card)}\n`;
      if (o.out) {
        fs.writeFileSync(o.out, content);
        print({ written: o.out, departments: card.departments.length, periods: card.periods.length });
      } else {
        process.stdout.write(content);
      }
    });
}
