/**
 * The bulletin scenario: a year of 100,000 cases with their audit trail in the read model
 * (bench/year.seed.ts), then bulletin drafts of a week and of a month (each with its 6-period
 * trend) and every department's scorecard for the whole year by month and by week. Baseline, in
 * the same run and timed the same way: one SQL aggregate over the same events per department and
 * week or month. Each run is a fresh process of its own (bench/bulletin-measure.ts), nothing
 * warmed up; baseline and duban alternate, `rounds` times, so that a change of load on a shared
 * machine falls on both; the figures are medians over the rounds.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { migrateToLatest, openDatabase } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import type { MeasureJob, MeasureResult } from './bulletin-measure';
import { rangeOf } from './bulletin-measure';
import { fmt, quantile } from './stats';
import { benchYear, seedYear, type SeededYear } from './year.seed';

export interface BulletinRow {
  name: string;
  range: string;
  by: 'week' | 'month';
  duban: MeasureResult[];
  baseline: MeasureResult[];
  /** Median seconds of duban over the baseline's median. */
  ratio: number;
  /** duban over the baseline in each round. */
  roundRatios: number[];
}

function measure(job: MeasureJob): Promise<MeasureResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(__dirname, 'bulletin-measure.js')], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`measurement failed: ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as MeasureResult);
    });
    child.stdin?.end(JSON.stringify(job));
  });
}

const median = (runs: readonly MeasureResult[], of: (r: MeasureResult) => number = (r) => r.seconds): number => quantile(runs.map(of), 0.5);
const peak = (runs: readonly MeasureResult[]): number => Math.max(...runs.map((r) => r.peakRssMiB));

/** Seeds the year into `dir`/bulletin.sqlite and measures each job against its baseline. */
export async function runBulletinScenario(options: { dir: string; cases: number; rounds: number }): Promise<{ seeded: SeededYear; rows: BulletinRow[] }> {
  const file = path.join(options.dir, 'bulletin.sqlite');
  const db = openDatabase(file);
  await migrateToLatest(db);
  const seeded = await seedYear(db, await createCalendarSource({ db, timeZone: 'Asia/Shanghai' })(), { cases: options.cases });
  // As a restarted server would: statistics for the planner on the tables as they now are.
  await migrateToLatest(db);
  await db.destroy();

  const jobs: { name: string; job: MeasureJob }[] = [
    { name: 'bulletin draft, week', job: { file, what: 'bulletin', period: { from: '2025-12-15', to: '2025-12-21' } } },
    { name: 'bulletin draft, month', job: { file, what: 'bulletin', period: { from: '2025-12-01', to: '2025-12-31' } } },
    { name: 'scorecards, year by month', job: { file, what: 'scorecard', range: benchYear, by: 'month' } },
    { name: 'scorecards, year by week', job: { file, what: 'scorecard', range: benchYear, by: 'week' } },
  ];
  const rows: BulletinRow[] = [];
  for (const { name, job } of jobs) {
    const { range, by } = rangeOf(job);
    const baseline: MeasureResult[] = [];
    const duban: MeasureResult[] = [];
    for (let round = 0; round < options.rounds; round++) {
      // The baseline over the same range of events, bucketed as the job's periods are.
      baseline.push(await measure({ file, what: 'baseline', range, by }));
      duban.push(await measure(job));
    }
    rows.push({
      name,
      range: `${range.from}..${range.to}`,
      by,
      duban,
      baseline,
      ratio: median(duban) / median(baseline),
      roundRatios: duban.map((d, i) => d.seconds / baseline[i]!.seconds),
    });
  }
  return { seeded, rows };
}

export function printBulletin(title: string, seeded: SeededYear, rows: readonly BulletinRow[]): void {
  console.log(`\n${title}`);
  console.log(
    `seeded ${seeded.cases} cases, ${seeded.tasks} tasks, ${seeded.events} events (${fmt(seeded.events / seeded.cases)} a case), ` +
      `${seeded.escalations} escalations, ${seeded.departments} departments in ${fmt(seeded.seconds)} s`,
  );
  console.log('job                          range                   by     baseline s  duban s  ratio  (rounds)            peak RSS MiB baseline / duban');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(28)} ${r.range.padEnd(23)} ${r.by.padEnd(5)}  ${fmt(median(r.baseline), 2).padStart(10)}  ${fmt(median(r.duban), 2).padStart(7)}  ` +
        `${fmt(r.ratio, 2).padStart(5)}x (${r.roundRatios.map((x) => fmt(x, 2)).join(' ')})  ${fmt(peak(r.baseline), 0).padStart(6)} / ${fmt(peak(r.duban), 0)}`,
    );
  }
  for (const r of rows) console.log(`  ${r.name}: duban ${JSON.stringify(r.duban[0]!.summary)}; baseline ${JSON.stringify(r.baseline[0]!.summary)}`);
}
