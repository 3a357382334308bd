/**
 * One measurement of the bulletin scenario, in a fresh process of its own so that its peak memory
 * is its own and nothing is warmed up (a scheduled draft runs once a week in a worker):
 * `node dist/bench/bulletin-measure.js < job.json` opens the seeded read model, runs the job once,
 * timed, and prints the figures as JSON.
 *
 * Jobs: a bulletin draft of a period (services/bulletin.service.ts, with its 6-period trend), every
 * department's scorecard over a range by week or month (services/scorecard.service.ts), or the
 * baseline: one SQL aggregate over the same events, per department and week or month.
 */
import fs from 'node:fs';
import { sql } from 'kysely';
import { trendPeriods } from '../domain/bulletin';
import type { Period } from '../domain/indicator.types';
import { type Db, openDatabase } from '../db/database';
import { createBulletinService } from '../services/bulletin.service';
import { createCalendarSource } from '../services/calendar.source';
import { createIndicatorService } from '../services/indicator.service';
import { createScorecardService } from '../services/scorecard.service';

export type MeasureJob =
  | { readonly file: string; readonly what: 'bulletin'; readonly period: Period }
  | { readonly file: string; readonly what: 'scorecard' | 'baseline'; readonly range: Period; readonly by: 'week' | 'month' };

export interface MeasureResult {
  readonly seconds: number;
  /** Peak resident memory of the process, MiB. */
  readonly peakRssMiB: number;
  /** Resident memory once the database was open, before the first run, MiB. */
  readonly idleRssMiB: number;
  /** What the job produced, to check that duban and the baseline read the same rows. */
  readonly summary: Record<string, number>;
}

const zone = 'Asia/Shanghai';
/** The actions the baseline counts: filtering on them spares the join for reminders and notices. */
const counted = ['task.assigned', 'task.acknowledged', 'task.submitted', 'task.rejected', 'task.accepted', 'task.extension_granted', 'task.escalated'];
const office = { role: 'office' as const, name: 'bench' };

/** The range a job reads: a bulletin reads its trend's six periods. */
export function rangeOf(job: MeasureJob): { range: Period; by: 'week' | 'month' } {
  if (job.what !== 'bulletin') return { range: job.range, by: job.by };
  const periods = trendPeriods(job.period, 6);
  const days = Math.round((Date.parse(job.period.to) - Date.parse(job.period.from)) / 86_400_000) + 1;
  return { range: { from: periods[0]!.from, to: periods.at(-1)!.to }, by: days === 7 ? 'week' : 'month' };
}

/**
 * The baseline: one GROUP BY over the events of the range joined to their tasks, per department
 * and (office-zone) week or month: tasks assigned, acknowledged (and by the deadline on the task
 * row), submitted, rejected, accepted (and by the current deadline), extensions, and escalations
 * by level. The figures a plain report would give, without the rules of docs/indicators.md.
 * It reads the table straight through (NOT INDEXED): over most of a year's events that is its
 * fastest plan, faster than the events(action, at) index the bulletin's case counts use, which
 * SQLite would otherwise pick.
 */
async function baseline(db: Db, range: Period, by: 'week' | 'month'): Promise<Record<string, number>> {
  const start = new Date(Date.parse(`${range.from}T00:00:00+08:00`)).toISOString();
  const end = new Date(Date.parse(`${range.to}T23:59:59.999+08:00`)).toISOString();
  const bucket = by === 'week' ? sql`date(e.at, '+8 hours', 'weekday 0', '-6 days')` : sql`strftime('%Y-%m', e.at, '+8 hours')`;
  const level = (n: number) => sql`sum(e.action = 'task.escalated' AND json_extract(e.payload, '$.level') = ${n})`;
  const rows = await sql<{ department: string; bucket: string; assigned: number; acknowledged: number; ack_on_time: number; escalated_4: number }>`
    SELECT t.department_code AS department, ${bucket} AS bucket,
      sum(e.action = 'task.assigned') AS assigned,
      sum(e.action = 'task.acknowledged') AS acknowledged,
      sum(e.action = 'task.acknowledged' AND e.at <= t.ack_due_at) AS ack_on_time,
      sum(e.action = 'task.submitted') AS submitted,
      sum(e.action = 'task.rejected') AS rejected,
      sum(e.action = 'task.accepted') AS accepted,
      sum(e.action = 'task.accepted' AND e.at <= t.rectification_due_at) AS accepted_on_time,
      sum(e.action = 'task.extension_granted') AS extended,
      ${level(1)} AS escalated_1, ${level(2)} AS escalated_2, ${level(3)} AS escalated_3, ${level(4)} AS escalated_4
    FROM events e NOT INDEXED JOIN tasks t ON t.id = e.task_id
    WHERE e.at >= ${start} AND e.at <= ${end} AND e.action IN (${sql.join(counted)})
    GROUP BY 1, 2`.execute(db);
  return {
    rows: rows.rows.length,
    tasksAssigned: rows.rows.reduce((a, r) => a + r.assigned, 0),
    acknowledged: rows.rows.reduce((a, r) => a + r.acknowledged, 0),
    rung4: rows.rows.reduce((a, r) => a + r.escalated_4, 0),
  };
}

/** The job itself: what is timed. */
async function run(db: Db, job: MeasureJob): Promise<Record<string, number>> {
  const indicators = createIndicatorService({ db, calendar: createCalendarSource({ db, timeZone: zone }) });
  const bulletins = createBulletinService({ db, zone, indicators });
  switch (job.what) {
    case 'bulletin': {
      const draft = await bulletins.draft({ period: job.period, origin: 'office', actor: office });
      return { ranked: draft.document.ranking.length, items: draft.document.items.length, tasksAssigned: draft.document.summary.tasksAssigned };
    }
    case 'scorecard': {
      const scorecards = createScorecardService({ db, indicators, rules: bulletins.listRules });
      const card = await scorecards.scorecard({ from: job.range.from, to: job.range.to, by: job.by }, office);
      return {
        departments: card.departments.length,
        periods: card.periods.length,
        tasksAssigned: card.departments.reduce((a, d) => a + d.total.counts.tasksAssigned, 0),
        acknowledged: card.departments.reduce((a, d) => a + d.total.counts.acknowledged, 0),
        rung4: card.departments.reduce((a, d) => a + d.total.counts.rungsReached[4], 0),
      };
    }
    case 'baseline':
      return baseline(db, job.range, job.by);
  }
}

/** Untimed: what a bulletin's indicators counted over its whole trend, to set beside the baseline's. */
async function check(db: Db, job: MeasureJob): Promise<Record<string, number>> {
  if (job.what !== 'bulletin') return {};
  const indicators = createIndicatorService({ db, calendar: createCalendarSource({ db, timeZone: zone }) });
  const whole = await indicators.period(rangeOf(job).range);
  return {
    trendTasksAssigned: whole.reduce((a, i) => a + i.counts.tasksAssigned, 0),
    trendAcknowledged: whole.reduce((a, i) => a + i.counts.acknowledged, 0),
  };
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(0, 'utf8')) as MeasureJob;
  const db = openDatabase(job.file);
  const idleRssMiB = process.memoryUsage().rss / 2 ** 20;
  const began = performance.now();
  const summary = await run(db, job);
  const seconds = (performance.now() - began) / 1000;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const extra = await check(db, job);
  await db.destroy();
  const result: MeasureResult = { seconds, peakRssMiB, idleRssMiB, summary: { ...summary, ...extra } };
  console.log(JSON.stringify(result));
}

// Run as a process of its own; imported (for rangeOf), it does nothing.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
