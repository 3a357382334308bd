/**
 * A synthetic year of supervision for the bulletin scenario: `cases` cases opened over the 365
 * days of 2025 across 20 departments, each case with its whole audit trail as the workflows write
 * it (domain/task.machine.ts, domain/case.machine.ts), cut at `now` (in January 2026), and the
 * cases, tasks and escalations rows that trail leaves. Deterministic: one seeded PRNG.
 * Written straight into the SQLite read model (as bench/api.ts does), not through Temporal.
 */
import type { Insertable } from 'kysely';
import type { WorkingCalendar } from '../domain/calendar';
import type { Db } from '../db/database';
import type { CaseTable, EscalationTable, EventTable, TaskTable } from '../db/schema';

export const benchYear = { from: '2025-01-01', to: '2025-12-31' } as const;
/** Where the trail is cut: what had happened by then is in the read model, the rest has not yet. */
export const benchNow = '2026-01-12T00:00:00.000Z';

const dayMs = 86_400_000;
const hourMs = 3_600_000;
/** Asia/Shanghai has had no daylight saving since 1991: local time is UTC+8 all year. */
const offsetMs = 8 * hourMs;
const zone = 'Asia/Shanghai';

const departmentNames = [
  ['CG', '区城管局'], ['JD', '西湖街道'], ['SJ', '区市场监管局'], ['HW', '区环卫中心'], ['JT', '交警大队'],
  ['ZJ', '区住建局'], ['SW', '区水务局'], ['GT', '区规划资源分局'], ['YL', '区园林局'], ['ST', '区生态环境分局'],
  ['WJ', '区卫健局'], ['JY', '区教育局'], ['GA', '区公安分局'], ['WS', '区文广旅体局'], ['SQ', '北山街道'],
  ['LY', '灵隐街道'], ['XS', '翠苑街道'], ['GD', '古荡街道'], ['WL', '文新街道'], ['ZX', '蒋村街道'],
] as const;

/** How often each department misses a deadline (0.02 … 0.25): the ranking has something to rank. */
const lateness = new Map<string, number>(departmentNames.map(([code], i) => [code, 0.02 + ((i * 7) % 20) * 0.012]));

const categories = ['市容秩序', '环境卫生', '市政设施', '园林绿化', '交通秩序', '噪声扰民', '违法建设'];
const streets = ['人民路', '解放路', '中山路', '延安路', '庆春路', '建国路', '凤起路', '体育场路', '文三路', '天目山路'];
const problems = ['占道经营', '垃圾堆放', '井盖缺失', '绿化带破损', '乱停车', '夜间施工噪声', '违章搭建', '广告牌破损'];
const windows = { general: 15, serious: 7, major: 3 } as const;
/** The default ladders (domain/policy.ts): level and working days overdue. */
const rectificationLadder = [[1, 1], [2, 3], [3, 5], [4, 10]] as const;
const ackLadder = [[1, 1], [2, 2]] as const;

/** mulberry32: small, fast and the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Working-day arithmetic on local day numbers (days since 1970-01-01 in the office's zone). */
class Days {
  private readonly working = new Map<number, boolean>();
  constructor(private readonly calendar: WorkingCalendar) {}
  isWorking(day: number): boolean {
    let w = this.working.get(day);
    if (w === undefined) {
      w = this.calendar.isWorkingDay(new Date(day * dayMs).toISOString().slice(0, 10));
      this.working.set(day, w);
    }
    return w;
  }
  /** The n-th working day after `day` (n ≥ 1), or `day` itself / the next working day for n = 0. */
  nth(day: number, n: number): number {
    let d = day;
    if (n === 0) {
      while (!this.isWorking(d)) d++;
      return d;
    }
    for (let counted = 0; counted < n; ) if (this.isWorking(++d)) counted++;
    return d;
  }
  dayOf = (at: number): number => Math.floor((at + offsetMs) / dayMs);
  /** `hours` (fractional) after local midnight of `day`. */
  at = (day: number, hours: number): number => day * dayMs - offsetMs + Math.round(hours * hourMs);
  endOf = (day: number): number => (day + 1) * dayMs - offsetMs - 1;
  /** The deadline n working days after `at`: the end of that working day (WorkingCalendar.dueAfter). */
  dueAfter = (at: number, n: number): number => this.endOf(this.nth(this.dayOf(at), n));
  /** A working-hours instant `n` working days after `at` (n = 0: later the same working day, or the next). */
  later(at: number, n: number, rand: () => number): number {
    const day = this.nth(this.dayOf(at), n);
    const t = this.at(day, 9 + rand() * 8.5);
    return t > at ? t : at + Math.round((0.2 + rand()) * hourMs);
  }
}

interface Ev {
  at: number;
  taskId: string | null;
  action: string;
  actor: 'office' | 'department' | 'system' | 'public';
  department: string | null;
  payload: Record<string, unknown>;
}

interface TaskOut {
  id: string;
  department: string;
  role: 'lead' | 'cooperating';
  assignedAt: number;
  ackDueAt: number;
  rectificationDueAt: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What one year wrote: counts for the report. */
export interface SeededYear {
  cases: number;
  tasks: number;
  events: number;
  escalations: number;
  departments: number;
  seconds: number;
}

/** Writes the year into `db` (migrated, empty) and returns what it wrote. */
export async function seedYear(db: Db, calendar: WorkingCalendar, options: { cases: number; seed?: number }): Promise<SeededYear> {
  if (calendar.zone !== zone) throw new Error(`the bench year is generated in ${zone}`);
  const began = performance.now();
  const rand = prng(options.seed ?? 20251231);
  const days = new Days(calendar);
  const now = Date.parse(benchNow);
  const firstDay = Math.floor(Date.parse(benchYear.from) / dayMs);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const chance = (p: number): boolean => rand() < p;
  const departments = departmentNames.map(([code]) => code);
  const createdAt = iso(Date.parse(benchYear.from) - 30 * dayMs);
  for (const [code, name] of departmentNames) {
    await db
      .insertInto('departments')
      .values({ code, name, head_name: null, email: null, phone: null, active: 1, created_at: createdAt, updated_at: createdAt })
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
  }

  const totals = { cases: 0, tasks: 0, events: 0, escalations: 0 };
  let caseRows: Insertable<CaseTable>[] = [];
  let taskRows: Insertable<TaskTable>[] = [];
  let eventRows: Insertable<EventTable>[] = [];
  let escalationRows: Insertable<EscalationTable>[] = [];
  const flush = async () => {
    await db.transaction().execute(async (trx) => {
      // Multi-row inserts, in slices that keep under SQLite's limit of bound parameters.
      const write = async <T>(rows: T[], slice: number, insert: (part: T[]) => Promise<unknown>) => {
        for (let i = 0; i < rows.length; i += slice) await insert(rows.slice(i, i + slice));
      };
      await write(caseRows, 500, (part) => trx.insertInto('cases').values(part).execute());
      await write(taskRows, 500, (part) => trx.insertInto('tasks').values(part).execute());
      await write(eventRows, 1000, (part) => trx.insertInto('events').values(part).execute());
      await write(escalationRows, 1000, (part) => trx.insertInto('escalations').values(part).execute());
    });
    caseRows = [];
    taskRows = [];
    eventRows = [];
    escalationRows = [];
  };

  for (let i = 0; i < options.cases; i++) {
    const caseId = `DB-2025-${String(i + 1).padStart(6, '0')}`;
    const events: Ev[] = [];
    const push = (e: Ev) => events.push(e);
    const openedDay = days.nth(firstDay + Math.floor((i * 365) / options.cases), 0);
    const openedAt = days.at(openedDay, 8.5 + rand() * 9);
    const roll = rand();
    const source = roll < 0.2 ? 'complaint' : roll < 0.3 ? 'hotline' : roll < 0.75 ? 'inspection' : pick(['media', 'survey', 'other']);
    const fromPublic = source === 'complaint' || source === 'hotline';
    const severity = chance(0.7) ? 'general' : chance(0.67) ? 'serious' : 'major';
    const lead = departments[Math.floor(Math.pow(rand(), 1.3) * departments.length)]!;
    const cooperating = chance(0.3) ? [pick(departments.filter((d) => d !== lead))] : [];
    const problem = pick(problems);
    const street = pick(streets);
    const title = `${street}${problem}`;
    push({ at: openedAt, taskId: null, action: 'case.opened', actor: 'office', department: null, payload: { title, description: `${street}${i % 300}号附近${problem}，请限期整改。` } });

    const tasks: TaskOut[] = [];
    let withdrawAt = chance(0.03) ? days.later(openedAt, 1 + Math.floor(rand() * 5), rand) : null;
    let taskSeq = 0;
    /** One task's life from its assignment to its acceptance (returned), through a transfer if any. */
    const runTask = (department: string, role: 'lead' | 'cooperating', assignedAt: number, extra: Record<string, unknown>, viaReopen: boolean): number => {
      const taskId = `${caseId}-T${++taskSeq}`;
      const w = windows[severity];
      const ackDueAt = days.dueAfter(assignedAt, 1);
      let rectificationDueAt = days.dueAfter(assignedAt, w);
      const task: TaskOut = { id: taskId, department, role, assignedAt, ackDueAt, rectificationDueAt };
      tasks.push(task);
      const late = lateness.get(department)!;
      const dept = (at: number, action: string, payload: Record<string, unknown> = {}) =>
        push({ at, taskId, action, actor: 'department', department, payload });
      const office = (at: number, action: string, payload: Record<string, unknown> = {}) =>
        push({ at, taskId, action, actor: 'office', department: null, payload });
      const system = (at: number, action: string, payload: Record<string, unknown> = {}) =>
        push({ at, taskId, action, actor: 'system', department: null, payload });
      const assignedPayload = { department, role, ackDueAt: iso(ackDueAt), rectificationDueAt: iso(rectificationDueAt), ...extra };
      office(assignedAt, 'task.assigned', assignedPayload);
      system(assignedAt + 2000, 'notice.sent', { kind: 'assignment', channel: 'email', recipient: `${department} liaison`, role: 'liaison', attempts: 1 });

      /** Escalations of `deadline` due at `dueAt` that fire while the task owes the act, in [from, until). */
      let ackLevel = 0;
      let rectLevel = 0;
      const escalate = (deadline: 'acknowledgement' | 'rectification', dueAt: number, from: number, until: number) => {
        const ladder = deadline === 'acknowledgement' ? ackLadder : rectificationLadder;
        for (const [level, overdue] of ladder) {
          const firesAt = days.at(days.nth(days.dayOf(dueAt), overdue), 9);
          if (firesAt < from || firesAt >= until) continue;
          if (deadline === 'acknowledgement' ? level <= ackLevel : level <= rectLevel) continue;
          if (deadline === 'acknowledgement') ackLevel = level;
          else rectLevel = level;
          system(firesAt, 'task.escalated', { deadline, level, rung: ['催办', '督办', '通报批评', '约谈'][level - 1], plannedAt: iso(firesAt), dueAt: iso(dueAt) });
          system(firesAt + 3000, 'notice.sent', { kind: 'escalation', channel: 'email', recipient: `${department} head`, role: 'department_head', attempts: 1 });
        }
      };

      // 转办: a few lead tasks go to another department the next working day.
      if (role === 'lead' && !viaReopen && chance(0.02)) {
        const requestedAt = days.later(assignedAt, 0, rand);
        const to = pick(departments.filter((d) => d !== department));
        dept(requestedAt, 'task.transfer_requested', { reason: '不属本部门职责', suggestedDepartment: to });
        const transferredAt = days.later(requestedAt, 1, rand);
        const toTaskId = `${caseId}-T${taskSeq + 1}`;
        office(transferredAt, 'task.transferred', { toDepartment: to, toTaskId, reason: '职责调整' });
        return runTask(to, 'lead', transferredAt, { transferredFrom: taskId, reason: '职责调整' }, false);
      }

      // 签收: on time mostly; late ones draw the acknowledgement rungs.
      const ackedAt = chance(1 - late * 0.6)
        ? Math.min(ackDueAt - 60_000, days.later(assignedAt, chance(0.7) ? 0 : 1, rand))
        : days.later(ackDueAt, 1 + Math.floor(rand() * 3), rand) + 3 * hourMs;
      escalate('acknowledgement', ackDueAt, assignedAt, ackedAt);
      dept(ackedAt, 'task.acknowledged', { note: '已签收' });
      if (chance(0.6)) dept(ackedAt + 600_000, 'task.responsible_person_assigned', { personId: `p_${(i % 4096).toString(16).padStart(12, '0')}`, name: '责任人', post: '科长' });
      // Reminders at half and four fifths of the window while work is owed.
      for (const fraction of [0.5, 0.8]) {
        const at = days.at(days.nth(days.dayOf(assignedAt), Math.max(1, Math.round(w * fraction))), 9);
        if (at > ackedAt && at < rectificationDueAt) system(at, 'task.reminded', { deadline: 'rectification', label: `${fraction * 100}%`, plannedAt: iso(at), dueAt: iso(rectificationDueAt) });
      }
      // 延期: asked before the deadline, granted by the office.
      if (chance(0.08)) {
        const askedAt = days.later(ackedAt, Math.max(1, Math.floor(w * 0.6)), rand);
        if (askedAt < rectificationDueAt) {
          const extra = 3 + Math.floor(rand() * 5);
          dept(askedAt, 'task.extension_requested', { workingDays: extra, reason: '需协调施工队伍', rectificationDueAt: iso(rectificationDueAt) });
          const grantedAt = days.later(askedAt, chance(0.5) ? 0 : 1, rand);
          const moved = days.dueAfter(rectificationDueAt, extra);
          office(grantedAt, 'task.extension_granted', { requestedWorkingDays: extra, workingDays: extra, from: iso(rectificationDueAt), rectificationDueAt: iso(moved), comment: null });
          rectificationDueAt = moved;
          task.rectificationDueAt = moved;
        }
      }
      if (chance(0.3)) dept(days.later(ackedAt, 1, rand), 'task.progress_reported', { note: '正在整改，已完成约一半。', evidence: [{ url: 'https://example.org/progress.jpg' }] });
      // 提交: within the window, or late by up to three weeks of working days (the rungs fire meanwhile).
      const windowDays = Math.max(1, w);
      const submitAt = (from: number): number =>
        chance(1 - late)
          ? Math.max(from + hourMs, Math.min(rectificationDueAt - 60_000, days.later(from, Math.floor(rand() * windowDays * 0.8), rand)))
          : Math.max(from + hourMs, days.later(rectificationDueAt, 1 + Math.floor(Math.pow(rand(), 1.5) * 15), rand));
      let owingFrom = ackedAt;
      let submittedAt = submitAt(ackedAt);
      for (let submission = 1; ; submission++) {
        escalate('rectification', rectificationDueAt, owingFrom, submittedAt);
        dept(submittedAt, 'task.submitted', {
          report: `已按要求完成整改：${problem}已清理，现场恢复正常，附整改前后照片。`,
          evidence: [{ url: 'https://example.org/before.jpg' }, { url: 'https://example.org/after.jpg' }],
          submissionCount: submission,
        });
        const verifiedAt = days.later(submittedAt, 1 + Math.floor(rand() * 3), rand);
        if (submission < 3 && chance(0.12)) {
          office(verifiedAt, 'task.rejected', { comment: '现场复核仍有问题，请继续整改。', reworkCount: submission });
          owingFrom = verifiedAt;
          submittedAt = Math.max(verifiedAt + hourMs, days.later(verifiedAt, 1 + Math.floor(rand() * 4), rand));
          continue;
        }
        office(verifiedAt, 'task.accepted', { comment: '核查通过' });
        return verifiedAt;
      }
    };

    const leadAccepted = runTask(lead, 'lead', openedAt + 1000, {}, false);
    const coopAccepted = cooperating.map((d) => runTask(d, 'cooperating', openedAt + 1000, {}, false));
    const accepted = [leadAccepted, ...coopAccepted];
    // 撤销: a case withdrawn before all its tasks were accepted; what came after does not happen.
    if (withdrawAt !== null && accepted.every((a) => a < withdrawAt!)) withdrawAt = null;
    if (withdrawAt !== null) {
      const cut = withdrawAt;
      const ended = new Set(events.filter((e) => e.at <= cut && (e.action === 'task.accepted' || e.action === 'task.transferred')).map((e) => e.taskId));
      const before = events.filter((e) => e.at <= cut);
      events.length = 0;
      events.push(...before);
      for (const t of tasks) {
        if (!ended.has(t.id) && t.assignedAt <= cut) push({ at: cut, taskId: t.id, action: 'task.withdrawn', actor: 'office', department: null, payload: { reason: '重复交办' } });
      }
      push({ at: withdrawAt + 1000, taskId: null, action: 'case.withdrawn', actor: 'office', department: null, payload: { reason: '重复交办' } });
    } else {
      let closedAt = Math.max(...accepted) + 1000;
      push({ at: closedAt, taskId: null, action: 'case.closed', actor: 'system', department: null, payload: { tasks: tasks.map((t) => t.id) } });
      // 答复 and 回访 for cases from the public; an upheld 不满意 reopens the case once (重办).
      for (let round = 0; fromPublic && round < 2; round++) {
        const answeredAt = days.later(closedAt, 1, rand);
        const followUpDueAt = days.dueAfter(answeredAt, 5);
        push({ at: answeredAt, taskId: null, action: 'case.answered', actor: 'office', department: null, payload: { answer: '经核查，问题已整改完毕。', evidence: [], followUpDueAt: iso(followUpDueAt) } });
        if (chance(0.45)) {
          push({ at: followUpDueAt + 1, taskId: null, action: 'case.follow_up_expired', actor: 'system', department: null, payload: { followUpDueAt: iso(followUpDueAt) } });
          break;
        }
        const ratedAt = days.later(answeredAt, 1 + Math.floor(rand() * 3), rand);
        const r = rand();
        const rating = r < 0.7 ? 'satisfied' : r < 0.9 || round > 0 ? 'basically_satisfied' : 'dissatisfied';
        push({ at: ratedAt, taskId: null, action: 'case.rated', actor: 'public', department: null, payload: { rating, reason: rating === 'dissatisfied' ? '问题反弹' : null } });
        if (rating !== 'dissatisfied') break;
        const decidedAt = days.later(ratedAt, 1, rand);
        if (chance(0.5)) {
          push({ at: decidedAt, taskId: null, action: 'case.rating_dismissed', actor: 'office', department: null, payload: { comment: '经甄别，已按要求整改' } });
          break;
        }
        const department = tasks.find((t) => t.role === 'lead')!.department;
        const newTaskId = `${caseId}-T${taskSeq + 1}`;
        push({
          at: decidedAt,
          taskId: null,
          action: 'case.reopened',
          actor: 'office',
          department: null,
          payload: { reason: '群众不满意，重办', taskId: newTaskId, department, ackDueAt: iso(days.dueAfter(decidedAt, 1)), rectificationDueAt: iso(days.dueAfter(decidedAt, windows[severity])) },
        });
        closedAt = runTask(department, 'lead', decidedAt + 1000, {}, true) + 1000;
        push({ at: closedAt, taskId: null, action: 'case.closed', actor: 'system', department: null, payload: { tasks: [newTaskId] } });
      }
    }

    // Cut at `now`, in the order things happened; derive the rows the trail leaves.
    const kept = events.filter((e) => e.at <= now).sort((a, b) => a.at - b.at);
    const caseRow = caseRowOf(caseId, { title, problem, street, i, source, severity, lead, cooperating, openedAt }, kept);
    caseRows.push(caseRow);
    let maxLevel = 0;
    for (const task of tasks) {
      const own = kept.filter((e) => e.taskId === task.id);
      if (own.length === 0) continue;
      const row = taskRowOf(task, own);
      maxLevel = Math.max(maxLevel, row.escalation_level, row.ack_escalation_level);
      taskRows.push(row);
      totals.tasks++;
    }
    caseRow.escalation_level = maxLevel;
    kept.forEach((e, n) => {
      const key = `case-${caseId}#${n + 1}`;
      const at = iso(e.at);
      eventRows.push({
        event_key: key,
        case_id: caseId,
        task_id: e.taskId,
        action: e.action,
        actor_role: e.actor,
        actor_department: e.department,
        actor_name: e.actor === 'department' ? `${e.department} 联络员` : e.actor === 'public' ? '投诉人 complainant' : e.actor === 'system' ? 'duban' : '督查办',
        payload: JSON.stringify(e.payload),
        at,
        recorded_at: at,
      });
      if (e.action === 'task.escalated') {
        escalationRows.push({
          escalation_key: key,
          case_id: caseId,
          task_id: e.taskId!,
          department_code: tasks.find((t) => t.id === e.taskId)!.department,
          deadline: String(e.payload.deadline),
          level: Number(e.payload.level),
          due_at: String(e.payload.dueAt),
          at,
          bulletin_id: null,
        });
        totals.escalations++;
      }
    });
    totals.events += kept.length;
    totals.cases++;
    if (caseRows.length >= 2000) await flush();
  }
  await flush();
  return { ...totals, departments: departmentNames.length, seconds: (performance.now() - began) / 1000 };
}

function caseRowOf(
  id: string,
  c: { title: string; problem: string; street: string; i: number; source: string; severity: string; lead: string; cooperating: string[]; openedAt: number },
  events: readonly Ev[],
): Insertable<CaseTable> & { escalation_level: number } {
  let status = 'open';
  let closedAt: string | null = null;
  for (const e of events) {
    if (e.action === 'case.closed') [status, closedAt] = ['closed', iso(e.at)];
    else if (e.action === 'case.withdrawn') [status, closedAt] = ['withdrawn', iso(e.at)];
    else if (e.action === 'case.reopened') [status, closedAt] = ['open', null];
  }
  const opened = iso(c.openedAt);
  return {
    id,
    title: c.title,
    description: `${c.street}${c.i % 300}号附近${c.problem}，请限期整改。`,
    category: categories[c.i % categories.length]!,
    severity: c.severity,
    source: c.source,
    lead_department: c.lead,
    cooperating_departments: JSON.stringify(c.cooperating),
    location_address: `${c.street}${c.i % 300}号`,
    location_lat: 30.25 + (c.i % 100) / 1000,
    location_lng: 120.12 + (c.i % 100) / 1000,
    due_date: null,
    evidence: '[]',
    status,
    opened_at: opened,
    opened_by: JSON.stringify({ role: 'office', name: '督查办' }),
    closed_at: closedAt,
    withdrawn_reason: status === 'withdrawn' ? '重复交办' : null,
    due_at: null,
    work_due_at: null,
    escalation_level: 0,
    version: events.length,
    updated_at: iso(events.at(-1)!.at),
  };
}

function taskRowOf(task: TaskOut, events: readonly Ev[]): Insertable<TaskTable> & { escalation_level: number; ack_escalation_level: number } {
  let status = 'assigned';
  let acknowledgedAt: string | null = null;
  let submittedAt: string | null = null;
  let closedAt: string | null = null;
  let dueAt = task.rectificationDueAt;
  let rework = 0;
  let submissions = 0;
  let extensions = 0;
  let level = 0;
  let ackLevel = 0;
  for (const e of events) {
    const at = iso(e.at);
    switch (e.action) {
      case 'task.acknowledged':
        [status, acknowledgedAt] = ['acknowledged', at];
        break;
      case 'task.submitted':
        [status, submittedAt] = ['submitted', at];
        submissions++;
        break;
      case 'task.rejected':
        status = 'rework';
        rework++;
        break;
      case 'task.accepted':
      case 'task.withdrawn':
      case 'task.transferred':
        [status, closedAt] = [e.action.slice(5), at];
        break;
      case 'task.extension_granted':
        dueAt = Date.parse(String(e.payload.rectificationDueAt));
        extensions++;
        break;
      case 'task.escalated':
        if (e.payload.deadline === 'acknowledgement') ackLevel = Math.max(ackLevel, Number(e.payload.level));
        else level = Math.max(level, Number(e.payload.level));
        break;
      default:
        break;
    }
  }
  return {
    id: task.id,
    case_id: task.id.slice(0, task.id.lastIndexOf('-')),
    department_code: task.department,
    role: task.role,
    status,
    rework_count: rework,
    submission_count: submissions,
    assigned_at: iso(task.assignedAt),
    acknowledged_at: acknowledgedAt,
    submitted_at: submittedAt,
    closed_at: closedAt,
    last_submission: null,
    version: events.length,
    updated_at: iso(events.at(-1)!.at),
    ack_due_at: iso(task.ackDueAt),
    rectification_due_at: iso(dueAt),
    escalation_level: level,
    ack_escalation_level: ackLevel,
    suspended_since: null,
    suspension_reason: null,
    pending_extension: null,
    extensions_granted: extensions,
    pending_transfer: null,
    transferred_to_task: null,
    next_alarm_at: null,
    next_alarm_kind: null,
    next_alarm_label: null,
    responsible_person_id: null,
    responsible_person_name: null,
    responsible_person_post: null,
  };
}
