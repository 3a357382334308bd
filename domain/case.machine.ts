import { taskIdFor } from './case-id';
import type { Actor, CaseDetails, ReassignInput, WithdrawInput } from './case.schema';
import { systemActor } from './case.schema';
import { DomainError } from './errors';
import type { DomainEvent } from './event';
import type { FollowUpState } from './follow-up';
import type { ResponsiblePerson } from './person-id';
import { responsiblePersonAssigned, type TaskRole, type TaskStatus } from './task.machine';

/** open (交办, in progress) ─▶ closed (核查销号, every task accepted) | withdrawn (撤销). */
export const caseStatuses = ['open', 'closed', 'withdrawn'] as const;
export type CaseStatus = (typeof caseStatuses)[number];

/** What the case knows of one of its tasks; the task's own workflow holds the rest. */
export interface CaseTaskRef {
  readonly taskId: string;
  readonly departmentCode: string;
  readonly role: TaskRole;
  /** Null while the task runs; its final status once it has finished. */
  readonly outcome: TaskStatus | null;
}

export interface CaseState {
  readonly caseId: string;
  readonly details: CaseDetails;
  readonly status: CaseStatus;
  readonly openedAt: string;
  readonly openedBy: Actor;
  readonly closedAt: string | null;
  readonly withdrawal: { readonly reason: string; readonly at: string; readonly by: Actor } | null;
  readonly tasks: readonly CaseTaskRef[];
  /**
   * 答复 and 回访 of a case from a complaint, from its closing on (domain/follow-up.ts); absent or
   * null for other cases, before the closing, and in runs from before the follow-up existed.
   */
  readonly followUp?: FollowUpState | null;
}

export interface CaseDecision {
  readonly state: CaseState;
  readonly events: readonly DomainEvent[];
}

/**
 * Opens a case: one task for the lead department, one per cooperating department, each with the
 * responsible person (责任人) the office named for its department, if any.
 */
export function openCase(input: {
  caseId: string;
  details: CaseDetails;
  actor: Actor;
  at: string;
  responsiblePersons?: Readonly<Record<string, ResponsiblePerson>> | undefined;
}): CaseDecision {
  const { caseId, details, actor, at } = input;
  const departments: { code: string; role: TaskRole }[] = [
    { code: details.leadDepartment, role: 'lead' },
    ...details.cooperatingDepartments.map((code) => ({ code, role: 'cooperating' as const })),
  ];
  const tasks: CaseTaskRef[] = departments.map((d, i) => ({
    taskId: taskIdFor(caseId, i + 1),
    departmentCode: d.code,
    role: d.role,
    outcome: null,
  }));
  const state: CaseState = {
    caseId,
    details,
    status: 'open',
    openedAt: at,
    openedBy: actor,
    closedAt: null,
    withdrawal: null,
    tasks,
  };
  const events: DomainEvent[] = [
    { action: 'case.opened', actor, at, taskId: null, payload: { ...details } },
    ...tasks.flatMap((t): DomainEvent[] => {
      const assigned: DomainEvent = {
        action: 'task.assigned',
        actor,
        at,
        taskId: t.taskId,
        payload: { department: t.departmentCode, role: t.role },
      };
      const person = input.responsiblePersons?.[t.departmentCode];
      return person ? [assigned, responsiblePersonAssigned(t.taskId, person, actor, at)] : [assigned];
    }),
  ];
  return { state, events };
}

/** Throws unless `actor` may withdraw `state` now. */
export function checkWithdrawCase(state: CaseState, actor: Actor): void {
  if (actor.role !== 'office') {
    throw new DomainError('forbidden', '只有督办机构可以撤销案件 / only the office may withdraw a case');
  }
  if (state.status !== 'open') {
    throw new DomainError(
      'invalid_state',
      `案件 ${state.caseId} 当前为 ${state.status}，不能撤销 / case ${state.caseId} is ${state.status}: cannot withdraw`,
    );
  }
}

export function withdrawCase(state: CaseState, command: { actor: Actor } & WithdrawInput, at: string): CaseDecision {
  checkWithdrawCase(state, command.actor);
  return {
    state: { ...state, status: 'withdrawn', closedAt: at, withdrawal: { reason: command.reason, at, by: command.actor } },
    events: [{ action: 'case.withdrawn', actor: command.actor, at, taskId: null, payload: { reason: command.reason } }],
  };
}

/** Tasks that have not finished yet. */
export function liveTasks(state: CaseState): CaseTaskRef[] {
  return state.tasks.filter((t) => t.outcome === null);
}

/**
 * Throws unless the office may move `input.taskId` of `state` to `input.toDepartment` now;
 * `oldTaskTransferred` once the old task has ended as transferred by this very reassignment.
 */
export function checkReassign(
  state: CaseState,
  actor: Actor,
  input: ReassignInput,
  options: { oldTaskTransferred?: boolean } = {},
): CaseTaskRef {
  if (actor.role !== 'office') {
    throw new DomainError('forbidden', '只有督办机构可以改派任务 / only the office may reassign a task');
  }
  if (state.status !== 'open') {
    throw new DomainError('invalid_state', `案件 ${state.caseId} 当前为 ${state.status}，不能改派 / case ${state.caseId} is ${state.status}: cannot reassign`);
  }
  const task = state.tasks.find((t) => t.taskId === input.taskId);
  if (!task) {
    throw new DomainError('not_found', `案件 ${state.caseId} 没有任务 ${input.taskId} / case ${state.caseId} has no task ${input.taskId}`, [
      { path: 'taskId', message: 'no such task in this case' },
    ]);
  }
  if (task.outcome !== null && !(options.oldTaskTransferred && task.outcome === 'transferred')) {
    throw new DomainError('invalid_state', `任务 ${task.taskId} 已结束（${task.outcome}） / task ${task.taskId} has finished (${task.outcome})`);
  }
  if (liveTasks(state).some((t) => t.departmentCode === input.toDepartment)) {
    throw new DomainError(
      'invalid_state',
      `部门 ${input.toDepartment} 在本案已有任务 / department ${input.toDepartment} already has a live task in this case`,
      [{ path: 'toDepartment', message: 'already has a live task in this case' }],
    );
  }
  return task;
}

/**
 * Moves a live task to another department (转办/改派): the case gains a fresh task with the same
 * role; the old task is ended as transferred by its own workflow.
 */
export function reassignTask(
  state: CaseState,
  command: { actor: Actor } & ReassignInput,
  at: string,
  options: { oldTaskTransferred?: boolean } = {},
): CaseDecision & { task: CaseTaskRef } {
  const from = checkReassign(state, command.actor, command, options);
  const task: CaseTaskRef = {
    taskId: taskIdFor(state.caseId, state.tasks.length + 1),
    departmentCode: command.toDepartment,
    role: from.role,
    outcome: null,
  };
  return {
    task,
    state: { ...state, tasks: [...state.tasks, task] },
    events: [
      {
        action: 'task.assigned',
        actor: command.actor,
        at,
        taskId: task.taskId,
        payload: { department: task.departmentCode, role: task.role, transferredFrom: from.taskId, reason: command.reason },
      },
    ],
  };
}

/**
 * Records that a task finished with `status`; the case closes (销号) once every task is accepted
 * (tasks transferred away count as done by the task that replaced them).
 */
export function recordTaskFinished(state: CaseState, taskId: string, status: TaskStatus, at: string): CaseDecision {
  if (!state.tasks.some((t) => t.taskId === taskId)) {
    throw new DomainError('not_found', `case ${state.caseId} has no task ${taskId}`);
  }
  const tasks = state.tasks.map((t) => (t.taskId === taskId ? { ...t, outcome: status } : t));
  const next: CaseState = { ...state, tasks };
  const done = tasks.every((t) => t.outcome === 'accepted' || t.outcome === 'transferred');
  if (state.status === 'open' && done && tasks.some((t) => t.outcome === 'accepted')) {
    return {
      state: { ...next, status: 'closed', closedAt: at },
      events: [
        { action: 'case.closed', actor: systemActor, at, taskId: null, payload: { tasks: tasks.map((t) => t.taskId) } },
      ],
    };
  }
  return { state: next, events: [] };
}
