import { taskIdFor } from './case-id';
import type { Actor, CaseDetails, WithdrawInput } from './case.schema';
import { systemActor } from './case.schema';
import { DomainError } from './errors';
import type { DomainEvent } from './event';
import type { TaskRole, TaskStatus } from './task.machine';

/** open (交办, in progress) ─▶ closed (核查销号, every task accepted) | withdrawn (撤销). */
export const caseStatuses = ['open', 'closed', 'withdrawn'] as const;
export type CaseStatus = (typeof caseStatuses)[number];

/** What the case knows of one of its tasks; the task's own workflow holds the rest. */
export interface CaseTaskRef {
  readonly taskId: string;
  readonly departmentCode: string;
  readonly role: TaskRole;
  /** `assigned` while the task runs; its final status once it has finished. */
  readonly status: TaskStatus;
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
}

export interface CaseDecision {
  readonly state: CaseState;
  readonly events: readonly DomainEvent[];
}

/** Opens a case: one task for the lead department, one per cooperating department. */
export function openCase(input: { caseId: string; details: CaseDetails; actor: Actor; at: string }): CaseDecision {
  const { caseId, details, actor, at } = input;
  const departments: { code: string; role: TaskRole }[] = [
    { code: details.leadDepartment, role: 'lead' },
    ...details.cooperatingDepartments.map((code) => ({ code, role: 'cooperating' as const })),
  ];
  const tasks: CaseTaskRef[] = departments.map((d, i) => ({
    taskId: taskIdFor(caseId, i + 1),
    departmentCode: d.code,
    role: d.role,
    status: 'assigned',
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
    ...tasks.map(
      (t): DomainEvent => ({
        action: 'task.assigned',
        actor,
        at,
        taskId: t.taskId,
        payload: { department: t.departmentCode, role: t.role },
      }),
    ),
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
  return state.tasks.filter((t) => t.status !== 'accepted' && t.status !== 'withdrawn');
}

/**
 * Records that a task finished with `status`; the case closes (销号) once every task is accepted.
 */
export function recordTaskFinished(state: CaseState, taskId: string, status: TaskStatus, at: string): CaseDecision {
  if (!state.tasks.some((t) => t.taskId === taskId)) {
    throw new DomainError('not_found', `case ${state.caseId} has no task ${taskId}`);
  }
  const tasks = state.tasks.map((t) => (t.taskId === taskId ? { ...t, status } : t));
  const next: CaseState = { ...state, tasks };
  if (state.status === 'open' && tasks.every((t) => t.status === 'accepted')) {
    return {
      state: { ...next, status: 'closed', closedAt: at },
      events: [
        { action: 'case.closed', actor: systemActor, at, taskId: null, payload: { tasks: tasks.map((t) => t.taskId) } },
      ],
    };
  }
  return { state: next, events: [] };
}
