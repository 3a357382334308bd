import type { Alarm, DeadlineKind } from './alarm.plan';
import type {
  AcknowledgeInput,
  Actor,
  AssignResponsiblePersonInput,
  Evidence,
  ExtensionDecisionInput,
  ExtensionRequestInput,
  ProgressInput,
  ResumeInput,
  SubmitInput,
  SuspendInput,
  TransferRequestInput,
  TransferRejectionInput,
  VerifyInput,
  WithdrawInput,
} from './case.schema';
import { systemActor } from './case.schema';
import { DomainError } from './errors';
import type { DomainEvent } from './event';
import type { ResponsiblePerson } from './person-id';
import { type EscalationLevel, escalationRungs, type RecipientRole } from './policy';

/**
 * assigned ─ack─▶ acknowledged ─submit─▶ submitted ─accept─▶ accepted
 *                      ▲                     │
 *                      └── rework ◀─reject───┘   (rework ─submit─▶ submitted)
 * Any live task can be withdrawn with its case, or transferred to another department.
 * Suspension (挂起) is not a status: it stops the clock of a live task until resumed.
 */
export const taskStatuses = [
  'assigned',
  'acknowledged',
  'submitted',
  'rework',
  'accepted',
  'withdrawn',
  'transferred',
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** Statuses a task never leaves. */
export const finishedTaskStatuses: readonly TaskStatus[] = ['accepted', 'withdrawn', 'transferred'];
const liveStatuses: readonly TaskStatus[] = ['assigned', 'acknowledged', 'submitted', 'rework'];
/** Statuses in which the department owes work, so its deadlines run. */
const owingStatuses: readonly TaskStatus[] = ['assigned', 'acknowledged', 'rework'];

/** 牵头 lead or 配合 cooperating department. */
export type TaskRole = 'lead' | 'cooperating';

export interface Submission {
  readonly report: string;
  readonly evidence: readonly Evidence[];
  readonly at: string;
}

/** Limits from the policy in force, refreshed whenever the task plans its alarms. */
export interface TaskLimits {
  readonly maxExtensionsPerTask: number;
  readonly maxExtensionWorkingDays: number;
}

/** One department's task within a case. */
export interface TaskState {
  readonly taskId: string;
  readonly caseId: string;
  readonly departmentCode: string;
  readonly role: TaskRole;
  readonly status: TaskStatus;
  /** How many times the office sent the rectification back (返工). */
  readonly reworkCount: number;
  readonly submissionCount: number;
  readonly assignedAt: string;
  readonly acknowledgedAt: string | null;
  readonly submittedAt: string | null;
  readonly closedAt: string | null;
  readonly lastSubmission: Submission | null;
  /** Deadlines as ISO 8601 instants; null only for tasks opened before deadlines existed. */
  readonly ackDueAt: string | null;
  readonly rectificationDueAt: string | null;
  /** Highest rung reached for the rectification deadline and for acknowledgement (0: none). */
  readonly escalationLevel: number;
  readonly ackEscalationLevel: number;
  /** Reminders already sent (or passed over), by alarm key. */
  readonly firedReminders: readonly string[];
  readonly suspension: { readonly since: string; readonly reason: string } | null;
  readonly pendingExtension: { readonly workingDays: number; readonly reason: string; readonly at: string } | null;
  readonly extensionsGranted: number;
  readonly pendingTransfer: { readonly reason: string; readonly suggestedDepartment: string | null; readonly at: string } | null;
  /** Where the task went when it was transferred. */
  readonly transferredTo: { readonly department: string; readonly taskId: string } | null;
  readonly limits: TaskLimits;
  /**
   * 责任人: the person of the department who owns the task, as of their assignment (null until
   * someone is named, and in state recorded before the field existed).
   */
  readonly responsiblePerson: ResponsiblePerson | null;
}

type Cmd<T extends string, I> = { readonly type: T; readonly actor: Actor } & I;

export type TaskCommand =
  | Cmd<'acknowledge', AcknowledgeInput>
  | Cmd<'assignResponsiblePerson', AssignResponsiblePersonInput>
  | Cmd<'reportProgress', ProgressInput>
  | Cmd<'submit', SubmitInput>
  | Cmd<'verify', VerifyInput>
  | Cmd<'withdraw', WithdrawInput>
  | Cmd<'requestExtension', ExtensionRequestInput>
  /** `newDueAt` is computed (working days on the calendar) once the command is accepted. */
  | Cmd<'decideExtension', ExtensionDecisionInput & { newDueAt?: string }>
  | Cmd<'requestTransfer', TransferRequestInput>
  | Cmd<'rejectTransfer', TransferRejectionInput>
  | Cmd<'transfer', { toDepartment: string; toTaskId: string; reason: string }>
  | Cmd<'suspend', SuspendInput>
  /** The shifted deadlines are computed on the calendar once the command is accepted. */
  | Cmd<'resume', ResumeInput & { pausedWorkingDays?: number; ackDueAt?: string | null; rectificationDueAt?: string | null }>;

export interface TaskDecision {
  readonly state: TaskState;
  /** What records the command on the timeline: one event, or more (an acknowledgement naming its 责任人). */
  readonly events: readonly DomainEvent[];
}

export const defaultTaskLimits: TaskLimits = { maxExtensionsPerTask: 2, maxExtensionWorkingDays: 30 };

export function newTask(input: {
  taskId: string;
  caseId: string;
  departmentCode: string;
  role: TaskRole;
  assignedAt: string;
  ackDueAt?: string | null;
  rectificationDueAt?: string | null;
  limits?: TaskLimits;
  responsiblePerson?: ResponsiblePerson | null;
}): TaskState {
  return {
    taskId: input.taskId,
    caseId: input.caseId,
    departmentCode: input.departmentCode,
    role: input.role,
    assignedAt: input.assignedAt,
    status: 'assigned',
    reworkCount: 0,
    submissionCount: 0,
    acknowledgedAt: null,
    submittedAt: null,
    closedAt: null,
    lastSubmission: null,
    ackDueAt: input.ackDueAt ?? null,
    rectificationDueAt: input.rectificationDueAt ?? null,
    escalationLevel: 0,
    ackEscalationLevel: 0,
    firedReminders: [],
    suspension: null,
    pendingExtension: null,
    extensionsGranted: 0,
    pendingTransfer: null,
    transferredTo: null,
    limits: input.limits ?? defaultTaskLimits,
    responsiblePerson: input.responsiblePerson ?? null,
  };
}

/**
 * A task's state as a run continues it: state recorded by an earlier version lacks the fields added
 * since (a run that continued as new before the field existed), which take their defaults.
 */
export function continuedTask(state: TaskState): TaskState {
  return { ...state, responsiblePerson: state.responsiblePerson ?? null };
}

/** The event that names a task's responsible person (责任人). */
export function responsiblePersonAssigned(taskId: string, person: ResponsiblePerson, actor: Actor, at: string): DomainEvent {
  return {
    action: 'task.responsible_person_assigned',
    actor,
    at,
    taskId,
    payload: { personId: person.id, name: person.name, post: person.post },
  };
}

export function isTaskFinished(status: TaskStatus): boolean {
  return finishedTaskStatuses.includes(status);
}

const commandNames: Record<TaskCommand['type'], string> = {
  acknowledge: '签收 / acknowledge',
  assignResponsiblePerson: '指定责任人 / assign the responsible person',
  reportProgress: '报告进展 / report progress',
  submit: '提交整改 / submit rectification',
  verify: '核查 / verify',
  withdraw: '撤销 / withdraw',
  requestExtension: '申请延期 / request an extension',
  decideExtension: '审批延期 / decide an extension',
  requestTransfer: '申请转办 / request a transfer',
  rejectTransfer: '驳回转办 / reject a transfer',
  transfer: '转办 / transfer',
  suspend: '挂起 / suspend',
  resume: '恢复 / resume',
};

function refuse(code: 'forbidden' | 'invalid_state' | 'invalid_input', message: string, path?: string): never {
  throw new DomainError(code, message, path ? [{ path, message }] : []);
}

function requireOwnDepartment(task: TaskState, actor: Actor, command: TaskCommand['type']): void {
  if (actor.role !== 'department') {
    refuse('forbidden', `${commandNames[command]} 须由责任部门办理 / only the responsible department may ${command} its task`);
  }
  if (actor.department !== task.departmentCode) {
    refuse(
      'forbidden',
      `部门 ${actor.department} 不能办理部门 ${task.departmentCode} 的任务 ${task.taskId} / ` +
        `department ${actor.department} cannot act on ${task.departmentCode}'s task ${task.taskId}`,
    );
  }
}

/**
 * Throws unless `actor` may name the responsible person (责任人) of a task of `departmentCode`: the
 * office, or that department itself.
 */
export function checkResponsiblePersonAssigner(actor: Actor, departmentCode: string, taskId: string): void {
  if (actor.role === 'office' || (actor.role === 'department' && actor.department === departmentCode)) return;
  refuse(
    'forbidden',
    `只有督办机构或部门 ${departmentCode} 可以指定任务 ${taskId} 的责任人 / ` +
      `only the office or department ${departmentCode} may name the responsible person of task ${taskId}`,
  );
}

function requireOffice(actor: Actor, command: TaskCommand['type'], allowSystem = false): void {
  if (actor.role === 'office' || (allowSystem && actor.role === 'system')) return;
  refuse('forbidden', `${commandNames[command]} 须由督办机构办理 / only the office may ${command}`);
}

function requireStatus(task: TaskState, command: TaskCommand['type'], allowed: readonly TaskStatus[]): void {
  if (allowed.includes(task.status)) return;
  const hint =
    command === 'submit' && task.status === 'assigned'
      ? '须先签收 / acknowledge the task first'
      : `需处于 ${allowed.join('|')} / needs ${allowed.join(' or ')}`;
  refuse(
    'invalid_state',
    `任务 ${task.taskId} 当前为 ${task.status}，不能${commandNames[command]}（${hint}） / ` +
      `task ${task.taskId} is ${task.status}: cannot ${command}`,
  );
}

function requireDeadlines(task: TaskState, command: TaskCommand['type']): void {
  if (task.rectificationDueAt === null) {
    refuse('invalid_state', `任务 ${task.taskId} 没有期限，不能${commandNames[command]} / task ${task.taskId} has no deadline`);
  }
}

/** Throws the DomainError that `command` would meet on `task`; returns when it is allowed. */
export function checkTaskCommand(task: TaskState, command: TaskCommand): void {
  switch (command.type) {
    case 'acknowledge':
      requireOwnDepartment(task, command.actor, command.type);
      return requireStatus(task, command.type, ['assigned']);
    case 'assignResponsiblePerson':
      checkResponsiblePersonAssigner(command.actor, task.departmentCode, task.taskId);
      return requireStatus(task, command.type, liveStatuses);
    case 'reportProgress':
    case 'submit':
      requireOwnDepartment(task, command.actor, command.type);
      return requireStatus(task, command.type, ['acknowledged', 'rework']);
    case 'verify':
      requireOffice(command.actor, command.type);
      return requireStatus(task, command.type, ['submitted']);
    case 'withdraw':
      requireOffice(command.actor, command.type, true);
      return requireStatus(task, command.type, liveStatuses);
    case 'requestExtension':
      requireOwnDepartment(task, command.actor, command.type);
      requireStatus(task, command.type, owingStatuses);
      requireDeadlines(task, command.type);
      if (task.pendingExtension) {
        refuse('invalid_state', `任务 ${task.taskId} 已有待审批的延期申请 / an extension request is already pending`);
      }
      if (task.extensionsGranted >= task.limits.maxExtensionsPerTask) {
        refuse(
          'invalid_state',
          `任务 ${task.taskId} 已延期 ${task.extensionsGranted} 次，达到上限 / ` +
            `task ${task.taskId} has had ${task.extensionsGranted} extensions, the most allowed`,
        );
      }
      if (command.workingDays > task.limits.maxExtensionWorkingDays) {
        refuse(
          'invalid_state',
          `一次延期最多 ${task.limits.maxExtensionWorkingDays} 个工作日 / at most ${task.limits.maxExtensionWorkingDays} working days per extension`,
          'workingDays',
        );
      }
      return;
    case 'decideExtension':
      requireOffice(command.actor, command.type);
      requireStatus(task, command.type, liveStatuses);
      if (!task.pendingExtension) {
        refuse('invalid_state', `任务 ${task.taskId} 没有待审批的延期申请 / task ${task.taskId} has no pending extension request`);
      }
      if (command.decision === 'approve' && (command.workingDays ?? 0) > task.pendingExtension.workingDays) {
        refuse(
          'invalid_state',
          `批准天数不能多于申请的 ${task.pendingExtension.workingDays} 个工作日 / ` +
            `cannot grant more than the ${task.pendingExtension.workingDays} working days requested`,
          'workingDays',
        );
      }
      return;
    case 'requestTransfer':
      requireOwnDepartment(task, command.actor, command.type);
      requireStatus(task, command.type, owingStatuses);
      if (task.pendingTransfer) refuse('invalid_state', `任务 ${task.taskId} 已申请转办 / a transfer request is already pending`);
      if (command.suggestedDepartment === task.departmentCode) {
        refuse('invalid_state', '建议的部门就是本部门 / the suggested department is this department', 'suggestedDepartment');
      }
      return;
    case 'rejectTransfer':
      requireOffice(command.actor, command.type);
      requireStatus(task, command.type, liveStatuses);
      if (!task.pendingTransfer) refuse('invalid_state', `任务 ${task.taskId} 没有转办申请 / task ${task.taskId} has no pending transfer request`);
      return;
    case 'transfer':
      requireOffice(command.actor, command.type);
      requireStatus(task, command.type, liveStatuses);
      if (command.toDepartment === task.departmentCode) {
        refuse('invalid_state', `任务已属于部门 ${task.departmentCode} / the task is already ${task.departmentCode}'s`, 'toDepartment');
      }
      return;
    case 'suspend':
      requireOffice(command.actor, command.type);
      requireStatus(task, command.type, liveStatuses);
      if (task.suspension) refuse('invalid_state', `任务 ${task.taskId} 已挂起 / task ${task.taskId} is already suspended`);
      return;
    case 'resume':
      requireOffice(command.actor, command.type);
      requireStatus(task, command.type, liveStatuses);
      if (!task.suspension) refuse('invalid_state', `任务 ${task.taskId} 未挂起 / task ${task.taskId} is not suspended`);
      return;
  }
}

function computed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} must be computed before the command is applied`);
  return value;
}

/** Applies an allowed `command` at instant `at`: the next state and the event that records it. */
export function decideTask(task: TaskState, command: TaskCommand, at: string): TaskDecision {
  checkTaskCommand(task, command);
  const event = (action: DomainEvent['action'], payload: Record<string, unknown>): DomainEvent[] => [
    { action, actor: command.actor, at, taskId: task.taskId, payload },
  ];
  switch (command.type) {
    case 'acknowledge': {
      const acknowledged = event('task.acknowledged', command.note ? { note: command.note } : {});
      const person = command.responsiblePerson;
      if (!person) return { state: { ...task, status: 'acknowledged', acknowledgedAt: at }, events: acknowledged };
      return {
        state: { ...task, status: 'acknowledged', acknowledgedAt: at, responsiblePerson: person },
        events: [...acknowledged, responsiblePersonAssigned(task.taskId, person, command.actor, at)],
      };
    }
    case 'assignResponsiblePerson':
      return {
        state: { ...task, responsiblePerson: command.person },
        events: [responsiblePersonAssigned(task.taskId, command.person, command.actor, at)],
      };
    case 'reportProgress':
      return { state: task, events: event('task.progress_reported', { note: command.note, evidence: command.evidence }) };
    case 'submit': {
      const submission: Submission = { report: command.report, evidence: command.evidence, at };
      const submissionCount = task.submissionCount + 1;
      return {
        state: { ...task, status: 'submitted', submittedAt: at, submissionCount, lastSubmission: submission },
        events: event('task.submitted', { report: command.report, evidence: command.evidence, submissionCount }),
      };
    }
    case 'verify':
      if (command.decision === 'accept') {
        return {
          state: { ...task, status: 'accepted', closedAt: at, pendingExtension: null, pendingTransfer: null },
          events: event('task.accepted', command.comment ? { comment: command.comment } : {}),
        };
      }
      return {
        state: { ...task, status: 'rework', reworkCount: task.reworkCount + 1 },
        events: event('task.rejected', { comment: command.comment, reworkCount: task.reworkCount + 1 }),
      };
    case 'withdraw':
      return {
        state: { ...task, status: 'withdrawn', closedAt: at },
        events: event('task.withdrawn', { reason: command.reason }),
      };
    case 'requestExtension':
      return {
        state: { ...task, pendingExtension: { workingDays: command.workingDays, reason: command.reason, at } },
        events: event('task.extension_requested', {
          workingDays: command.workingDays,
          reason: command.reason,
          rectificationDueAt: task.rectificationDueAt,
        }),
      };
    case 'decideExtension': {
      const requested = task.pendingExtension!;
      if (command.decision === 'deny') {
        return {
          state: { ...task, pendingExtension: null },
          events: event('task.extension_denied', { requestedWorkingDays: requested.workingDays, comment: command.comment ?? null }),
        };
      }
      const workingDays = command.workingDays ?? requested.workingDays;
      const newDueAt = computed(command.newDueAt, 'newDueAt');
      return {
        state: {
          ...task,
          pendingExtension: null,
          extensionsGranted: task.extensionsGranted + 1,
          rectificationDueAt: newDueAt,
        },
        events: event('task.extension_granted', {
          requestedWorkingDays: requested.workingDays,
          workingDays,
          from: task.rectificationDueAt,
          rectificationDueAt: newDueAt,
          comment: command.comment ?? null,
        }),
      };
    }
    case 'requestTransfer': {
      const suggestedDepartment = command.suggestedDepartment ?? null;
      return {
        state: { ...task, pendingTransfer: { reason: command.reason, suggestedDepartment, at } },
        events: event('task.transfer_requested', { reason: command.reason, suggestedDepartment }),
      };
    }
    case 'rejectTransfer':
      return {
        state: { ...task, pendingTransfer: null },
        events: event('task.transfer_rejected', { comment: command.comment }),
      };
    case 'transfer':
      return {
        state: {
          ...task,
          status: 'transferred',
          closedAt: at,
          pendingTransfer: null,
          pendingExtension: null,
          suspension: null,
          transferredTo: { department: command.toDepartment, taskId: command.toTaskId },
        },
        events: event('task.transferred', { toDepartment: command.toDepartment, toTaskId: command.toTaskId, reason: command.reason }),
      };
    case 'suspend':
      return {
        state: { ...task, suspension: { since: at, reason: command.reason } },
        events: event('task.suspended', { reason: command.reason }),
      };
    case 'resume': {
      const pausedWorkingDays = computed(command.pausedWorkingDays, 'pausedWorkingDays');
      const ackDueAt = command.ackDueAt === undefined ? task.ackDueAt : command.ackDueAt;
      const rectificationDueAt = command.rectificationDueAt === undefined ? task.rectificationDueAt : command.rectificationDueAt;
      return {
        state: { ...task, suspension: null, ackDueAt, rectificationDueAt },
        events: event('task.resumed', {
          suspendedSince: task.suspension!.since,
          pausedWorkingDays,
          ackDueAt,
          rectificationDueAt,
          ...(command.comment ? { comment: command.comment } : {}),
        }),
      };
    }
  }
}

/** A notification waiting in the outbox for delivery. */
export interface OutboxNotification {
  readonly recipient: RecipientRole;
  readonly department: string;
  readonly kind: 'reminder' | 'escalation';
  readonly level: number | null;
  readonly subject: string;
}

/** A rung reached, recorded against the department (levels 3 and 4 feed bulletins and scores). */
export interface EscalationRecord {
  readonly deadline: DeadlineKind;
  readonly level: EscalationLevel;
  readonly at: string;
  readonly dueAt: string;
}

export interface AlarmFiring {
  readonly event: DomainEvent;
  readonly notifications: readonly OutboxNotification[];
  readonly escalation: EscalationRecord | null;
}

/** Whether `alarm` still concerns `task` as it is now (status, suspension, rungs reached). */
export function isAlarmRelevant(task: TaskState, alarm: Alarm): boolean {
  if (task.suspension || !owingStatuses.includes(task.status)) return false;
  if (alarm.deadline === 'acknowledgement') {
    return task.status === 'assigned' && alarm.dueAt === task.ackDueAt && (alarm.level ?? 0) > task.ackEscalationLevel;
  }
  if (alarm.dueAt !== task.rectificationDueAt) return false;
  if (alarm.kind === 'reminder') return !task.firedReminders.includes(alarm.key);
  return (alarm.level ?? 0) > task.escalationLevel;
}

/** The relevant alarms of `plan`, in time order. */
export function pendingAlarms(task: TaskState, plan: readonly Alarm[]): Alarm[] {
  return plan.filter((alarm) => isAlarmRelevant(task, alarm));
}

/**
 * Fires the alarms of `plan` due at `now`, in order: every rung reached (each is recorded
 * against the department), but of several reminders only the latest, and none once the
 * deadline has passed; the others are marked as passed over.
 */
export function fireDueAlarms(task: TaskState, plan: readonly Alarm[], now: string): { state: TaskState; firings: AlarmFiring[] } {
  const due = pendingAlarms(task, plan).filter((a) => a.at <= now);
  const reminders = due.filter((a) => a.kind === 'reminder');
  const lastReminder = reminders.at(-1);
  let state: TaskState = {
    ...task,
    firedReminders: [...task.firedReminders, ...reminders.map((r) => r.key)],
  };
  const firings: AlarmFiring[] = [];
  for (const alarm of due) {
    if (alarm.kind === 'reminder') {
      if (alarm !== lastReminder || now > alarm.dueAt) continue;
      firings.push({
        event: {
          action: 'task.reminded',
          actor: systemActor,
          at: now,
          taskId: task.taskId,
          payload: { deadline: alarm.deadline, label: alarm.label, plannedAt: alarm.at, dueAt: alarm.dueAt },
        },
        notifications: [
          {
            recipient: 'department',
            department: task.departmentCode,
            kind: 'reminder',
            level: null,
            subject: `【提醒】任务 ${task.taskId} 整改期限 ${alarm.label} / reminder: ${alarm.label} before the deadline`,
          },
        ],
        escalation: null,
      });
      continue;
    }
    const level = alarm.level!;
    state =
      alarm.deadline === 'acknowledgement' ? { ...state, ackEscalationLevel: level } : { ...state, escalationLevel: level };
    const rung = escalationRungs[level];
    const what = alarm.deadline === 'acknowledgement' ? '签收超期 / acknowledgement overdue' : '整改超期 / rectification overdue';
    firings.push({
      event: {
        action: 'task.escalated',
        actor: systemActor,
        at: now,
        taskId: task.taskId,
        payload: { deadline: alarm.deadline, level, rung: rung.zh, rungEn: rung.en, plannedAt: alarm.at, dueAt: alarm.dueAt },
      },
      notifications: rung.notify.map((recipient) => ({
        recipient,
        department: task.departmentCode,
        kind: 'escalation' as const,
        level,
        subject: `【${rung.zh}】任务 ${task.taskId} ${what}（${rung.en}）`,
      })),
      escalation: { deadline: alarm.deadline, level, at: now, dueAt: alarm.dueAt },
    });
  }
  return { state, firings };
}
