import { DateTime, IANAZone } from 'luxon';
import type { LocalDate, WorkingCalendar } from './calendar';
import type { DepartmentIndicators, FollowUpCounts, Period, Ratio, RungCounts } from './indicator.types';

/**
 * Indicators per department and period, computed from the audit trail (docs/indicators.md says
 * what each one counts). Pure: the events, the periods and the working calendar come in.
 *
 * Every figure of a period depends only on the events at or before the period's end, so a past
 * period recomputed later gives the same figures. Each task is judged once on each deadline
 * (acknowledgement, rectification): on time when it acts by the deadline in force, late when the
 * deadline passes while it owes that act with its clock running; the judgement falls in the period
 * of the instant it is made.
 */

/** Case sources that are "from the public" (the hotline's rates). */
export const publicSources: readonly string[] = ['complaint', 'hotline'];

/** The immutable facts of a case the indicators need. */
export interface IndicatorCase {
  readonly id: string;
  readonly source: string;
  readonly leadDepartment: string;
}

/** One entry of the audit trail, as much of it as the indicators read. */
export interface IndicatorEvent {
  readonly taskId: string | null;
  readonly action: string;
  /** ISO 8601 instant. */
  readonly at: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** The actions the indicators read; the others (progress, notices …) change nothing here. */
export const indicatorActions = [
  'case.answered',
  'case.rated',
  'case.reopened',
  'case.rating_dismissed',
  'case.follow_up_expired',
  'task.assigned',
  'task.acknowledged',
  'task.submitted',
  'task.accepted',
  'task.rejected',
  'task.withdrawn',
  'task.extension_granted',
  'task.transferred',
  'task.suspended',
  'task.resumed',
  'task.escalated',
] as const;

/** Of those, the actions whose payload the indicators read. */
export const indicatorPayloadActions: readonly string[] = [
  'case.rated',
  'case.reopened',
  'task.assigned',
  'task.extension_granted',
  'task.resumed',
  'task.escalated',
];

export type ScorecardBucket = 'week' | 'month';

/** A period as instants: from the start of its first day to the end of its last, in the office's zone. */
interface Span {
  readonly start: number;
  readonly end: number;
}

const ms = (iso: string): number => Date.parse(iso);

function spanOf(period: Period, calendar: WorkingCalendar): Span {
  return {
    start: DateTime.fromISO(period.from, { zone: calendar.zone }).startOf('day').toMillis(),
    end: DateTime.fromISO(period.to, { zone: calendar.zone }).endOf('day').toMillis(),
  };
}

/**
 * The periods of `range` by calendar week (Monday to Sunday) or month, clipped to the range:
 * the first and last may be partial.
 */
export function periodsOf(range: Period, by: ScorecardBucket): Period[] {
  const periods: Period[] = [];
  let from = DateTime.fromISO(range.from, { zone: 'utc' });
  const last = DateTime.fromISO(range.to, { zone: 'utc' });
  while (from <= last) {
    const end = by === 'week' ? from.endOf('week') : from.endOf('month');
    const to = end < last ? end : last;
    periods.push({ from: from.toISODate() as LocalDate, to: to.toISODate() as LocalDate });
    from = to.plus({ days: 1 }).startOf('day');
  }
  return periods;
}

/** Calendar days in `range`, both ends included. */
export function daysIn(range: Period): number {
  return DateTime.fromISO(range.to, { zone: 'utc' }).diff(DateTime.fromISO(range.from, { zone: 'utc' }), 'days').days + 1;
}

/** A ratio of two counts; `value` null when there is nothing to rate. */
export function ratio(numerator: number, denominator: number): Ratio {
  return { numerator, denominator, value: denominator === 0 ? null : numerator / denominator };
}

/** The nearest-rank percentile `p` (0 < p ≤ 100) of `values`: the ⌈p/100·n⌉-th smallest; null for none. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

/** What accumulates for one department in one period. */
interface Tally {
  tasksAssigned: number;
  tasksActive: number;
  acknowledged: number;
  acknowledgedOnTime: number;
  ackDue: number;
  closed: number;
  closedOnTime: number;
  closureDue: number;
  openAtEnd: number;
  submissions: number;
  rejections: number;
  extensionsGranted: number;
  tasksExtended: number;
  rungsReached: Record<1 | 2 | 3 | 4, number>;
  reopened: number;
  overdueByRung: Record<0 | 1 | 2 | 3 | 4, number>;
  daysToClose: number[];
  responseDue: number;
  respondedOnTime: number;
  followUp: { -readonly [K in keyof FollowUpCounts]: number };
}

const emptyTally = (): Tally => ({
  tasksAssigned: 0,
  tasksActive: 0,
  acknowledged: 0,
  acknowledgedOnTime: 0,
  ackDue: 0,
  closed: 0,
  closedOnTime: 0,
  closureDue: 0,
  openAtEnd: 0,
  submissions: 0,
  rejections: 0,
  extensionsGranted: 0,
  tasksExtended: 0,
  rungsReached: { 1: 0, 2: 0, 3: 0, 4: 0 },
  reopened: 0,
  overdueByRung: { 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 },
  daysToClose: [],
  responseDue: 0,
  respondedOnTime: 0,
  followUp: { concluded: 0, satisfied: 0, basicallySatisfied: 0, dissatisfied: 0, dismissed: 0, unrated: 0 },
});

type Status = 'assigned' | 'acknowledged' | 'submitted' | 'rework' | 'accepted' | 'withdrawn' | 'transferred';
const owing: readonly Status[] = ['assigned', 'acknowledged', 'rework'];
const live: readonly Status[] = ['assigned', 'acknowledged', 'submitted', 'rework'];

/** One deadline of a task and whether it has been judged. */
interface Clock {
  dueAt: number | null;
  /** The last instant the deadline, the task's status or its suspension changed. */
  since: number;
  judged: boolean;
  level: number;
}

interface TaskTrack {
  readonly taskId: string;
  readonly department: string;
  readonly role: string;
  readonly assignedAt: number;
  status: Status;
  endedAt: number | null;
  suspendedSince: number | null;
  pausedWorkingDays: number;
  readonly ack: Clock;
  readonly rectification: Clock;
  /** The periods (by index) whose rung counts already hold this task, per rung. */
  readonly rungPeriods: Map<number, Set<number>>;
  readonly extendedIn: Set<number>;
}

const dayMs = 86_400_000;

/**
 * Working-day arithmetic of `calendar` for many tasks: each date is looked up on the calendar once,
 * and instants become local dates by the zone's offset (domain/time.ts), not a zoned date-time.
 */
class WorkingDays {
  private readonly working = new Map<number, boolean>();
  /** The zone's UTC offset in minutes per quarter hour (zones change offset only on quarter hours). */
  private readonly offsets = new Map<number, number>();
  private readonly zone: IANAZone;
  constructor(private readonly calendar: WorkingCalendar) {
    this.zone = IANAZone.create(calendar.zone);
  }

  /** The local date of an instant, as a day number (days since 1970-01-01). */
  dayOf(at: number): number {
    const quarter = Math.floor(at / 900_000);
    let offset = this.offsets.get(quarter);
    if (offset === undefined) {
      offset = this.zone.offset(at);
      this.offsets.set(quarter, offset);
    }
    return Math.floor((at + offset * 60_000) / dayMs);
  }

  private isWorking(day: number): boolean {
    let known = this.working.get(day);
    if (known === undefined) {
      known = this.calendar.isWorkingDay(new Date(day * dayMs).toISOString().slice(0, 10));
      this.working.set(day, known);
    }
    return known;
  }

  /** Working days d with from < d ≤ to (as WorkingCalendar.workingDaysAfter). */
  after(from: number, to: number): number {
    let count = 0;
    for (let day = from + 1; day <= to; day++) if (this.isWorking(day)) count++;
    return count;
  }

  /** Working days d with from ≤ d < to (as WorkingCalendar.workingDaysBetween). */
  between(from: number, to: number): number {
    return this.after(from - 1, to - 1);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const instantOf = (v: unknown): number | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null);

/**
 * Accumulates indicators case by case over a series of periods, in one pass over each case's
 * events: feed every case concerned with `addCase`, then read `result()`.
 */
export class IndicatorAccumulator {
  private readonly spans: Span[];
  private readonly tallies: Map<string, Tally>[];
  private readonly names = new Map<string, string>();
  private readonly days: WorkingDays;

  constructor(
    private readonly periods: readonly Period[],
    calendar: WorkingCalendar,
    departments: readonly { readonly code: string; readonly name: string }[],
    /** Only these departments' figures are kept (all when absent). */
    private readonly only?: ReadonlySet<string>,
  ) {
    if (periods.length === 0) throw new RangeError('at least one period');
    this.spans = periods.map((p) => spanOf(p, calendar));
    this.days = new WorkingDays(calendar);
    for (let i = 1; i < this.spans.length; i++) {
      if (this.spans[i]!.start <= this.spans[i - 1]!.end) throw new RangeError('periods must be in order and apart');
    }
    this.tallies = periods.map(() => new Map<string, Tally>());
    for (const d of departments) {
      if (only && !only.has(d.code)) continue;
      this.names.set(d.code, d.name);
      for (const t of this.tallies) t.set(d.code, emptyTally());
    }
  }

  /** The index of the period holding instant `at`, or -1. */
  private periodAt(at: number): number {
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const span = this.spans[mid]!;
      if (at < span.start) hi = mid - 1;
      else if (at > span.end) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  private tally(period: number, department: string): Tally | undefined {
    if (period < 0) return undefined;
    if (this.only && !this.only.has(department)) return undefined;
    const tallies = this.tallies[period]!;
    let t = tallies.get(department);
    if (!t) {
      t = emptyTally();
      tallies.set(department, t);
      if (!this.names.has(department)) this.names.set(department, department);
      // A department met only now gets an empty tally in every period, so each period lists it.
      for (const other of this.tallies) if (!other.has(department)) other.set(department, emptyTally());
    }
    return t;
  }

  /** Adds what happened at instant `at` to the department's figures of that instant's period. */
  private count(at: number, department: string, add: (t: Tally) => void): void {
    const t = this.tally(this.periodAt(at), department);
    if (t) add(t);
  }

  /** One case with its events in the order they happened (by instant, then position). */
  addCase(kase: IndicatorCase, events: Iterable<IndicatorEvent>): void {
    const fromPublic = publicSources.includes(kase.source);
    const lastEnd = this.spans.at(-1)!.end;
    const tasks = new Map<string, TaskTrack>();
    /** The periods whose end-of-period figures have been taken for this case. */
    let boundary = 0;
    /** The case's answer waiting for the complainant's rating, and a 不满意 waiting for the office. */
    let followUpDepartment: string | null = null;
    let pendingDissatisfied: { department: string } | null = null;
    let lastLeadAccepted: string | null = null;
    let lastAccepted: string | null = null;

    const judge = (task: TaskTrack, clock: Clock, kind: 'ack' | 'rectification', at: number, onTime: boolean) => {
      clock.judged = true;
      this.count(at, task.department, (t) => {
        if (kind === 'ack') {
          t.ackDue++;
          if (onTime) t.acknowledgedOnTime++;
          if (fromPublic) {
            t.responseDue++;
            if (onTime) t.respondedOnTime++;
          }
        } else {
          t.closureDue++;
          if (onTime) t.closedOnTime++;
        }
      });
    };
    const owesAck = (task: TaskTrack) => task.status === 'assigned';
    const owesWork = (task: TaskTrack) => owing.includes(task.status);
    /** Judges as late every deadline passed before `now` (or at it, when `inclusive`) while owed. */
    const passDeadlines = (now: number, inclusive: boolean) => {
      for (const task of tasks.values()) {
        if (task.suspendedSince !== null) continue;
        for (const [kind, clock, owed] of [
          ['ack', task.ack, owesAck(task)],
          ['rectification', task.rectification, owesWork(task)],
        ] as const) {
          if (!owed || clock.judged || clock.dueAt === null) continue;
          if (clock.dueAt < now || (inclusive && clock.dueAt <= now)) judge(task, clock, kind, Math.max(clock.dueAt, clock.since), false);
        }
      }
    };
    /** End-of-period figures for every period that ended before `now`. */
    const closePeriodsBefore = (now: number) => {
      while (boundary < this.spans.length && this.spans[boundary]!.end < now) {
        const span = this.spans[boundary]!;
        passDeadlines(span.end, true);
        for (const task of tasks.values()) {
          const t = this.tally(boundary, task.department);
          if (!t) continue;
          if (task.endedAt === null || task.endedAt >= span.start) t.tasksActive++;
          if (!live.includes(task.status)) continue;
          t.openAtEnd++;
          if (task.suspendedSince !== null || !owesWork(task)) continue;
          const overdue =
            (task.rectification.dueAt !== null && task.rectification.dueAt <= span.end) ||
            (owesAck(task) && task.ack.dueAt !== null && task.ack.dueAt <= span.end);
          if (overdue) t.overdueByRung[Math.max(task.ack.level, task.rectification.level) as 0 | 1 | 2 | 3 | 4]++;
        }
        boundary++;
      }
    };
    const touch = (task: TaskTrack, at: number) => {
      task.ack.since = at;
      task.rectification.since = at;
    };
    const assign = (taskId: string, department: string | undefined, role: string, at: number, payload: Readonly<Record<string, unknown>>) => {
      if (!department || tasks.has(taskId)) return;
      const clock = (dueAt: unknown): Clock => ({ dueAt: instantOf(dueAt), since: at, judged: false, level: 0 });
      tasks.set(taskId, {
        taskId,
        department,
        role,
        assignedAt: at,
        status: 'assigned',
        endedAt: null,
        suspendedSince: null,
        pausedWorkingDays: 0,
        ack: clock(payload.ackDueAt),
        rectification: clock(payload.rectificationDueAt),
        rungPeriods: new Map(),
        extendedIn: new Set(),
      });
      this.count(at, department, (t) => t.tasksAssigned++);
    };
    const concludeFollowUp = (at: number, department: string, outcome: keyof Omit<FollowUpCounts, 'concluded'>) => {
      this.count(at, department, (t) => {
        t.followUp.concluded++;
        t.followUp[outcome]++;
      });
    };

    for (const event of events) {
      const at = ms(event.at);
      if (Number.isNaN(at) || at > lastEnd) break;
      closePeriodsBefore(at);
      passDeadlines(at, false);
      const task = event.taskId ? tasks.get(event.taskId) : undefined;
      const p = event.payload;
      switch (event.action) {
        case 'task.assigned':
          if (event.taskId) assign(event.taskId, str(p.department), str(p.role) ?? 'lead', at, p);
          break;
        case 'case.reopened': {
          // 重办: a new task of the department named; counted against that department.
          const department = str(p.department);
          if (department) this.count(at, department, (t) => t.reopened++);
          const taskId = str(p.taskId);
          if (taskId) assign(taskId, department, 'lead', at, p);
          if (pendingDissatisfied) {
            concludeFollowUp(at, pendingDissatisfied.department, 'dissatisfied');
            pendingDissatisfied = null;
          }
          break;
        }
        case 'task.acknowledged':
          if (!task || task.status !== 'assigned') break;
          this.count(at, task.department, (t) => t.acknowledged++);
          // Made while the clock ran and by the deadline in force, or while it was stopped.
          if (!task.ack.judged && task.ack.dueAt !== null) judge(task, task.ack, 'ack', at, true);
          task.status = 'acknowledged';
          touch(task, at);
          break;
        case 'task.submitted':
          if (!task) break;
          this.count(at, task.department, (t) => t.submissions++);
          task.status = 'submitted';
          touch(task, at);
          break;
        case 'task.rejected':
          if (!task) break;
          this.count(at, task.department, (t) => t.rejections++);
          task.status = 'rework';
          touch(task, at);
          break;
        case 'task.accepted': {
          if (!task || !live.includes(task.status)) break;
          const paused =
            task.pausedWorkingDays + (task.suspendedSince === null ? 0 : this.days.between(this.days.dayOf(task.suspendedSince), this.days.dayOf(at)));
          const days = Math.max(0, this.days.after(this.days.dayOf(task.assignedAt), this.days.dayOf(at)) - paused);
          this.count(at, task.department, (t) => {
            t.closed++;
            t.daysToClose.push(days);
          });
          if (!task.rectification.judged && task.rectification.dueAt !== null) judge(task, task.rectification, 'rectification', at, true);
          task.status = 'accepted';
          task.endedAt = at;
          lastAccepted = task.department;
          if (task.role === 'lead') lastLeadAccepted = task.department;
          break;
        }
        case 'task.withdrawn':
        case 'task.transferred':
          if (!task || !live.includes(task.status)) break;
          task.status = event.action === 'task.withdrawn' ? 'withdrawn' : 'transferred';
          task.endedAt = at;
          break;
        case 'task.extension_granted':
          if (!task) break;
          this.count(at, task.department, (t) => {
            t.extensionsGranted++;
            const period = this.periodAt(at);
            if (!task.extendedIn.has(period)) {
              task.extendedIn.add(period);
              t.tasksExtended++;
            }
          });
          if ('rectificationDueAt' in p) task.rectification.dueAt = instantOf(p.rectificationDueAt);
          touch(task, at);
          break;
        case 'task.suspended':
          if (!task) break;
          task.suspendedSince = at;
          touch(task, at);
          break;
        case 'task.resumed':
          if (!task) break;
          if (task.suspendedSince !== null) {
            task.pausedWorkingDays +=
              typeof p.pausedWorkingDays === 'number'
                ? p.pausedWorkingDays
                : this.days.between(this.days.dayOf(task.suspendedSince), this.days.dayOf(at));
          }
          task.suspendedSince = null;
          if ('ackDueAt' in p) task.ack.dueAt = instantOf(p.ackDueAt);
          if ('rectificationDueAt' in p) task.rectification.dueAt = instantOf(p.rectificationDueAt);
          touch(task, at);
          break;
        case 'task.escalated': {
          if (!task || typeof p.level !== 'number' || p.level < 1 || p.level > 4) break;
          const level = p.level as 1 | 2 | 3 | 4;
          const clock = p.deadline === 'acknowledgement' ? task.ack : task.rectification;
          clock.level = Math.max(clock.level, level);
          const period = this.periodAt(at);
          const seen = task.rungPeriods.get(level) ?? new Set<number>();
          if (!seen.has(period)) {
            seen.add(period);
            task.rungPeriods.set(level, seen);
            this.count(at, task.department, (t) => t.rungsReached[level]++);
          }
          break;
        }
        case 'case.answered':
          if (fromPublic) followUpDepartment = lastLeadAccepted ?? lastAccepted ?? kase.leadDepartment;
          break;
        case 'case.rated': {
          if (!fromPublic) break;
          const department = followUpDepartment ?? lastLeadAccepted ?? lastAccepted ?? kase.leadDepartment;
          if (p.rating === 'satisfied') concludeFollowUp(at, department, 'satisfied');
          else if (p.rating === 'basically_satisfied') concludeFollowUp(at, department, 'basicallySatisfied');
          else if (p.rating === 'dissatisfied') pendingDissatisfied = { department };
          followUpDepartment = null;
          break;
        }
        case 'case.rating_dismissed':
          if (pendingDissatisfied) {
            concludeFollowUp(at, pendingDissatisfied.department, 'dismissed');
            pendingDissatisfied = null;
          }
          break;
        case 'case.follow_up_expired':
          if (!fromPublic) break;
          concludeFollowUp(at, followUpDepartment ?? lastLeadAccepted ?? lastAccepted ?? kase.leadDepartment, 'unrated');
          followUpDepartment = null;
          break;
        default:
          break;
      }
    }
    closePeriodsBefore(Number.POSITIVE_INFINITY);
  }

  /** The figures of every period (in order), each listing every department (by code). */
  result(): DepartmentIndicators[][] {
    return this.periods.map((period, i) =>
      [...this.tallies[i]!.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([code, t]) => toIndicators(code, this.names.get(code) ?? code, period, t)),
    );
  }
}

function toIndicators(departmentCode: string, departmentName: string, period: Period, t: Tally): DepartmentIndicators {
  const rungsReached: RungCounts = { ...t.rungsReached };
  const f = t.followUp;
  const mean = t.daysToClose.length === 0 ? null : t.daysToClose.reduce((a, b) => a + b, 0) / t.daysToClose.length;
  return {
    departmentCode,
    departmentName,
    period,
    counts: {
      tasksAssigned: t.tasksAssigned,
      tasksActive: t.tasksActive,
      acknowledged: t.acknowledged,
      acknowledgedOnTime: t.acknowledgedOnTime,
      ackDue: t.ackDue,
      closed: t.closed,
      closedOnTime: t.closedOnTime,
      closureDue: t.closureDue,
      openAtEnd: t.openAtEnd,
      submissions: t.submissions,
      rejections: t.rejections,
      extensionsGranted: t.extensionsGranted,
      tasksExtended: t.tasksExtended,
      rungsReached,
      reopened: t.reopened,
    },
    ackOnTimeRate: ratio(t.acknowledgedOnTime, t.ackDue),
    closureRate: ratio(t.closed, t.closed + t.openAtEnd),
    onTimeClosureRate: ratio(t.closedOnTime, t.closureDue),
    reworkRate: ratio(t.rejections, t.submissions),
    extensionRate: ratio(t.tasksExtended, t.tasksActive),
    overdueByRung: { ...t.overdueByRung },
    workingDaysToClose: { count: t.daysToClose.length, mean, p90: nearestRank(t.daysToClose, 90) },
    hotline: {
      responseRate: ratio(t.respondedOnTime, t.responseDue),
      resolutionRate: ratio(f.concluded - f.dissatisfied, f.concluded),
      satisfactionRate: ratio(f.satisfied + f.basicallySatisfied + f.unrated, f.satisfied + f.basicallySatisfied + f.dissatisfied + f.unrated),
      followUps: { ...f },
    },
  };
}

/** A department's indicators for a period in which nothing of it counted. */
export function emptyIndicators(departmentCode: string, departmentName: string, period: Period): DepartmentIndicators {
  return toIndicators(departmentCode, departmentName, period, emptyTally());
}

/** Indicators of one period for each department, from the cases concerned and their events. */
export function computeIndicators(input: {
  readonly period: Period;
  readonly calendar: WorkingCalendar;
  readonly departments: readonly { readonly code: string; readonly name: string }[];
  readonly cases: Iterable<{ readonly case: IndicatorCase; readonly events: Iterable<IndicatorEvent> }>;
}): DepartmentIndicators[] {
  return computeIndicatorSeries({ ...input, periods: [input.period] })[0]!;
}

/** Indicators of each period of `periods` (in order, apart) for each department, in one pass. */
export function computeIndicatorSeries(input: {
  readonly periods: readonly Period[];
  readonly calendar: WorkingCalendar;
  readonly departments: readonly { readonly code: string; readonly name: string }[];
  readonly cases: Iterable<{ readonly case: IndicatorCase; readonly events: Iterable<IndicatorEvent> }>;
  readonly only?: ReadonlySet<string>;
}): DepartmentIndicators[][] {
  const acc = new IndicatorAccumulator(input.periods, input.calendar, input.departments, input.only);
  for (const c of input.cases) acc.addCase(c.case, c.events);
  return acc.result();
}
