import { DateTime } from 'luxon';

/**
 * What the fault run does and what it must find afterwards, as pure data: the directory, each
 * case's plan (drawn from a seeded PRNG), and the events and deliveries that plan must leave in
 * the read model. The expectations are written from the documented rules (docs/notifications.md,
 * docs/deadlines.md), not computed by duban's own code, so that the run checks duban rather than
 * itself.
 */

/**
 * The office's time zone for the run: one where it is now about noon, so that the run's working
 * day (today, where every rung falls due) does not end under it, whatever the hour it starts.
 */
export function noonZone(now = DateTime.utc()): string {
  let offset = 12 - now.hour;
  if (offset < -12) offset += 24;
  // IANA's Etc zones count the other way round: Etc/GMT-8 is UTC+8.
  return offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** mulberry32: a small seeded PRNG, so that a run can be repeated with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A uniform integer in [min, max]. */
export const between = (random: () => number, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

export const departments = [
  { code: 'CG', name: '区城管局' },
  { code: 'JD', name: '人民路街道' },
  { code: 'SJ', name: '区市场监管局' },
  { code: 'HB', name: '区生态环境局' },
] as const;

/** A department's people by post; `staff` is the one named 责任人 when a department names someone. */
export const departmentPosts = ['liaison', 'head', 'deputy', 'staff'] as const;
export type DepartmentPost = (typeof departmentPosts)[number];

export const emailOf = (department: string, post: DepartmentPost): string => `${post}.${department.toLowerCase()}@chaos.example.gov.cn`;
export const officeEmail = { lead: 'lead@office.chaos.example.gov.cn', clerk: 'clerk@office.chaos.example.gov.cn' } as const;

/** The webhook subscribers: the office's (every notice) and one department's (its own). */
export const hookDepartment = 'CG';
export const hookPaths = { office: '/office', department: `/${hookDepartment}` } as const;

/** One department's task in a case opened through the API. */
export interface TaskPlan {
  readonly department: string;
  /** The department names its staff member responsible (责任人) when it acknowledges. */
  readonly nameAtAck: boolean;
  /** Times the office sends the rectification back (返工) before it accepts it. */
  readonly rejections: number;
}

/** A case opened, worked and closed through the HTTP API. */
export interface ApiCasePlan {
  readonly kind: 'api';
  readonly index: number;
  readonly title: string;
  /** The lead department's task first. */
  readonly tasks: readonly TaskPlan[];
}

/**
 * A task whose deadlines have already passed when the run starts (started as bench/timers does,
 * see docs/reliability.md): group `ack` has its acknowledgement overdue since yesterday and its
 * rectification due today, so its two acknowledgement rungs and its reminder fall due at the
 * minute the run sets as the start of the working day; group `rect` was assigned the day before
 * yesterday and its rectification was due yesterday: its acknowledgement rungs are past at its
 * start (they fire at once) and its four rectification rungs fall due at that minute.
 */
export interface AlarmCasePlan {
  readonly kind: 'alarm';
  readonly index: number;
  readonly group: 'ack' | 'rect';
  readonly caseId: string;
  readonly taskId: string;
  readonly department: string;
}

export type CasePlan = ApiCasePlan | AlarmCasePlan;

/** The plans of a run: `cases` through the API, `alarmCases` with deadlines already passed. */
export function planCases(random: () => number, cases: number, alarmCases: number): { api: ApiCasePlan[]; alarm: AlarmCasePlan[] } {
  const codes = departments.map((d) => d.code);
  const api: ApiCasePlan[] = [];
  for (let index = 1; index <= cases; index++) {
    const lead = codes[between(random, 0, codes.length - 1)]!;
    const others = codes.filter((c) => c !== lead);
    const cooperating = random() < 0.4 ? [others[between(random, 0, others.length - 1)]!] : [];
    const task = (department: string): TaskPlan => ({
      department,
      nameAtAck: random() < 0.3,
      rejections: random() < 0.25 ? 1 : 0,
    });
    api.push({ kind: 'api', index, title: `混沌测试 ${index}`, tasks: [lead, ...cooperating].map(task) });
  }
  const alarm: AlarmCasePlan[] = [];
  for (let index = 1; index <= alarmCases; index++) {
    // Ids of their own (year 2099), which the API's numbering never reaches.
    const caseId = `DB-2099-${String(index).padStart(6, '0')}`;
    alarm.push({
      kind: 'alarm',
      index,
      group: index % 2 === 1 ? 'ack' : 'rect',
      caseId,
      taskId: `${caseId}-T1`,
      department: codes[between(random, 0, codes.length - 1)]!,
    });
  }
  return { api, alarm };
}

/** The events a case's timeline must hold at the end, by action (notice.sent: one per delivery). */
export type EventCounts = Record<string, number>;

/** One delivery a notice must have had: to a person's e-mail address, or to a subscriber's URL. */
export interface ExpectedDelivery {
  readonly action: string;
  readonly channel: 'email' | 'webhook';
  /** An e-mail address, or the subscriber's path (hookPaths). */
  readonly to: string;
}

/** A notice the documented rules call for: the people (e-mail addresses) and departments it concerns. */
interface ExpectedNotice {
  readonly action: string;
  readonly emails: readonly string[];
  readonly departments: readonly string[];
}

const subscribersOf = (department: string): string[] =>
  department === hookDepartment ? [hookPaths.office, hookPaths.department] : [hookPaths.office];

function deliveriesOf(notices: readonly ExpectedNotice[]): ExpectedDelivery[] {
  return notices.flatMap((n) => [
    ...[...new Set(n.emails)].map((to) => ({ action: n.action, channel: 'email' as const, to })),
    ...[...new Set(n.departments.flatMap(subscribersOf))].map((to) => ({ action: n.action, channel: 'webhook' as const, to })),
  ]);
}

const add = (counts: EventCounts, action: string, n = 1) => {
  if (n > 0) counts[action] = (counts[action] ?? 0) + n;
};

/**
 * What a case opened through the API leaves once it has closed. `assignedAfterNaming[i]`: whether
 * the assignment notice of task i was planned after the department named its responsible person:
 * recipients are resolved when a notice is planned (docs/notifications.md), so a notice planned
 * late (the dispatcher held up by a kill) goes to the person named meanwhile as well.
 */
export function expectApiCase(plan: ApiCasePlan, assignedAfterNaming: readonly boolean[] = []): { events: EventCounts; deliveries: ExpectedDelivery[] } {
  const events: EventCounts = {};
  const notices: ExpectedNotice[] = [];
  // The responsible person: the one named at acknowledgement, else the department's liaison.
  const responsible = (t: TaskPlan) => emailOf(t.department, t.nameAtAck ? 'staff' : 'liaison');
  add(events, 'case.opened');
  add(events, 'case.closed');
  plan.tasks.forEach((t, i) => {
    const d = [t.department];
    add(events, 'task.assigned');
    // 交办: the liaison and the responsible person, who is the liaison until someone is named.
    const named = t.nameAtAck && assignedAfterNaming[i] === true ? [emailOf(t.department, 'staff')] : [];
    notices.push({ action: 'task.assigned', emails: [emailOf(t.department, 'liaison'), ...named], departments: d });
    add(events, 'task.acknowledged');
    if (t.nameAtAck) {
      add(events, 'task.responsible_person_assigned');
      notices.push({ action: 'task.responsible_person_assigned', emails: [emailOf(t.department, 'staff')], departments: d });
    }
    add(events, 'task.submitted', 1 + t.rejections);
    add(events, 'task.rejected', t.rejections);
    add(events, 'task.accepted');
    for (let i = 0; i < 1 + t.rejections; i++) notices.push({ action: 'task.submitted', emails: [officeEmail.clerk], departments: d });
    for (let i = 0; i < t.rejections; i++) notices.push({ action: 'task.rejected', emails: [responsible(t)], departments: d });
  });
  // 销号: the responsible person of each task; each department's subscribers once.
  notices.push({ action: 'case.closed', emails: plan.tasks.map(responsible), departments: plan.tasks.map((t) => t.department) });
  const deliveries = deliveriesOf(notices);
  add(events, 'notice.sent', deliveries.length);
  return { events, deliveries };
}

/** The rungs of the policy the run writes, by deadline and level: who each reaches (docs/notifications.md). */
const rungPosts: Record<number, { posts: DepartmentPost[]; officeLead: boolean }> = {
  1: { posts: ['liaison', 'head'], officeLead: false }, // 催办: the responsible person (the liaison here) and the head
  2: { posts: ['liaison', 'head'], officeLead: true }, // 督办: and the office lead
  3: { posts: ['head', 'deputy'], officeLead: false }, // 通报批评: the head and the 分管领导
  4: { posts: ['head', 'deputy'], officeLead: true }, // 约谈: and the office lead
};

/** The rungs an alarm task reaches: acknowledgement levels and rectification levels. */
export function rungsOf(plan: AlarmCasePlan): { acknowledgement: number[]; rectification: number[]; reminders: number } {
  return plan.group === 'ack'
    ? { acknowledgement: [1, 2], rectification: [], reminders: 1 }
    : { acknowledgement: [1, 2], rectification: [1, 2, 3, 4], reminders: 0 };
}

/** What an alarm task leaves once its alarms have fired and it has been acknowledged, submitted and accepted. */
export function expectAlarmCase(plan: AlarmCasePlan): { events: EventCounts; deliveries: ExpectedDelivery[] } {
  const events: EventCounts = {};
  const notices: ExpectedNotice[] = [];
  const d = [plan.department];
  const rungs = rungsOf(plan);
  for (const level of [...rungs.acknowledgement, ...rungs.rectification]) {
    add(events, 'task.escalated');
    const { posts, officeLead } = rungPosts[level]!;
    notices.push({
      action: 'task.escalated',
      emails: [...posts.map((p) => emailOf(plan.department, p)), ...(officeLead ? [officeEmail.lead] : [])],
      departments: d,
    });
  }
  for (let i = 0; i < rungs.reminders; i++) {
    add(events, 'task.reminded');
    notices.push({ action: 'task.reminded', emails: [emailOf(plan.department, 'liaison')], departments: d });
  }
  add(events, 'task.acknowledged');
  add(events, 'task.submitted');
  add(events, 'task.accepted');
  notices.push({ action: 'task.submitted', emails: [officeEmail.clerk], departments: d });
  const deliveries = deliveriesOf(notices);
  add(events, 'notice.sent', deliveries.length);
  return { events, deliveries };
}
