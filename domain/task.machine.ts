import type {
  AcknowledgeInput,
  Actor,
  Evidence,
  ProgressInput,
  SubmitInput,
  VerifyInput,
  WithdrawInput,
} from './case.schema';
import { DomainError } from './errors';
import type { DomainEvent } from './event';

/**
 * assigned ─ack─▶ acknowledged ─submit─▶ submitted ─accept─▶ accepted
 *                      ▲                     │
 *                      └── rework ◀─reject───┘   (rework ─submit─▶ submitted)
 * Any live task can be withdrawn with its case.
 */
export const taskStatuses = ['assigned', 'acknowledged', 'submitted', 'rework', 'accepted', 'withdrawn'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** Statuses a task never leaves. */
export const finishedTaskStatuses: readonly TaskStatus[] = ['accepted', 'withdrawn'];

/** 牵头 lead or 配合 cooperating department. */
export type TaskRole = 'lead' | 'cooperating';

export interface Submission {
  readonly report: string;
  readonly evidence: readonly Evidence[];
  readonly at: string;
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
}

export type TaskCommand =
  | ({ readonly type: 'acknowledge'; readonly actor: Actor } & AcknowledgeInput)
  | ({ readonly type: 'reportProgress'; readonly actor: Actor } & ProgressInput)
  | ({ readonly type: 'submit'; readonly actor: Actor } & SubmitInput)
  | ({ readonly type: 'verify'; readonly actor: Actor } & VerifyInput)
  | ({ readonly type: 'withdraw'; readonly actor: Actor } & WithdrawInput);

export interface TaskDecision {
  readonly state: TaskState;
  readonly event: DomainEvent;
}

export function newTask(input: {
  taskId: string;
  caseId: string;
  departmentCode: string;
  role: TaskRole;
  assignedAt: string;
}): TaskState {
  return {
    ...input,
    status: 'assigned',
    reworkCount: 0,
    submissionCount: 0,
    acknowledgedAt: null,
    submittedAt: null,
    closedAt: null,
    lastSubmission: null,
  };
}

export function isTaskFinished(status: TaskStatus): boolean {
  return finishedTaskStatuses.includes(status);
}

const commandNames: Record<TaskCommand['type'], string> = {
  acknowledge: '签收 / acknowledge',
  reportProgress: '报告进展 / report progress',
  submit: '提交整改 / submit rectification',
  verify: '核查 / verify',
  withdraw: '撤销 / withdraw',
};

function requireOwnDepartment(task: TaskState, actor: Actor, command: TaskCommand['type']): void {
  if (actor.role !== 'department') {
    throw new DomainError(
      'forbidden',
      `${commandNames[command]} 须由责任部门办理 / only the responsible department may ${command} its task`,
    );
  }
  if (actor.department !== task.departmentCode) {
    throw new DomainError(
      'forbidden',
      `部门 ${actor.department} 不能办理部门 ${task.departmentCode} 的任务 ${task.taskId} / ` +
        `department ${actor.department} cannot act on ${task.departmentCode}'s task ${task.taskId}`,
    );
  }
}

function requireOffice(actor: Actor, command: TaskCommand['type'], allowSystem = false): void {
  if (actor.role === 'office' || (allowSystem && actor.role === 'system')) return;
  throw new DomainError('forbidden', `${commandNames[command]} 须由督办机构办理 / only the office may ${command}`);
}

function requireStatus(task: TaskState, command: TaskCommand['type'], allowed: readonly TaskStatus[]): void {
  if (allowed.includes(task.status)) return;
  const hint =
    command === 'submit' && task.status === 'assigned'
      ? '须先签收 / acknowledge the task first'
      : `需处于 ${allowed.join('|')} / needs ${allowed.join(' or ')}`;
  throw new DomainError(
    'invalid_state',
    `任务 ${task.taskId} 当前为 ${task.status}，不能${commandNames[command]}（${hint}） / ` +
      `task ${task.taskId} is ${task.status}: cannot ${command}`,
  );
}

/** Throws the DomainError that `command` would meet on `task`; returns when it is allowed. */
export function checkTaskCommand(task: TaskState, command: TaskCommand): void {
  switch (command.type) {
    case 'acknowledge':
      requireOwnDepartment(task, command.actor, command.type);
      return requireStatus(task, command.type, ['assigned']);
    case 'reportProgress':
      requireOwnDepartment(task, command.actor, command.type);
      return requireStatus(task, command.type, ['acknowledged', 'rework']);
    case 'submit':
      requireOwnDepartment(task, command.actor, command.type);
      return requireStatus(task, command.type, ['acknowledged', 'rework']);
    case 'verify':
      requireOffice(command.actor, command.type);
      return requireStatus(task, command.type, ['submitted']);
    case 'withdraw':
      requireOffice(command.actor, command.type, true);
      return requireStatus(task, command.type, ['assigned', 'acknowledged', 'submitted', 'rework']);
  }
}

/** Applies an allowed `command` at instant `at`: the next state and the event that records it. */
export function decideTask(task: TaskState, command: TaskCommand, at: string): TaskDecision {
  checkTaskCommand(task, command);
  const event = (action: DomainEvent['action'], payload: Record<string, unknown>): DomainEvent => ({
    action,
    actor: command.actor,
    at,
    taskId: task.taskId,
    payload,
  });
  switch (command.type) {
    case 'acknowledge':
      return {
        state: { ...task, status: 'acknowledged', acknowledgedAt: at },
        event: event('task.acknowledged', command.note ? { note: command.note } : {}),
      };
    case 'reportProgress':
      return {
        state: task,
        event: event('task.progress_reported', { note: command.note, evidence: command.evidence }),
      };
    case 'submit': {
      const submission: Submission = { report: command.report, evidence: command.evidence, at };
      const submissionCount = task.submissionCount + 1;
      return {
        state: { ...task, status: 'submitted', submittedAt: at, submissionCount, lastSubmission: submission },
        event: event('task.submitted', { report: command.report, evidence: command.evidence, submissionCount }),
      };
    }
    case 'verify':
      if (command.decision === 'accept') {
        return {
          state: { ...task, status: 'accepted', closedAt: at },
          event: event('task.accepted', command.comment ? { comment: command.comment } : {}),
        };
      }
      return {
        state: { ...task, status: 'rework', reworkCount: task.reworkCount + 1 },
        event: event('task.rejected', { comment: command.comment, reworkCount: task.reworkCount + 1 }),
      };
    case 'withdraw':
      return {
        state: { ...task, status: 'withdrawn', closedAt: at },
        event: event('task.withdrawn', { reason: command.reason }),
      };
  }
}
