import {
  allHandlersFinished,
  ApplicationFailure,
  type ChildWorkflowHandle,
  condition,
  patched,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ComputedDeadlines } from '../activities/deadline.activities';
import type { Alarm } from '../domain/alarm.plan';
import {
  type CaseState,
  type CaseTaskRef,
  checkReassign,
  checkWithdrawCase,
  liveTasks,
  openCase,
  reassignTask,
  recordTaskFinished,
  withdrawCase,
} from '../domain/case.machine';
import {
  type Actor,
  actorSchema,
  type CaseDetails,
  caseDetailsSchema,
  type ReassignInput,
  reassignInputSchema,
  type WithdrawInput,
  withdrawInputSchema,
} from '../domain/case.schema';
import { parseCommand } from '../domain/command';
import type { DomainEvent } from '../domain/event';
import { newTask, type TaskState } from '../domain/task.machine';
import { parseInput } from '../domain/validation';
import { taskIdFor } from '../domain/case-id';
import { deadlines } from './activities';
import { failOnDomainError } from './failures';
import { Journal } from './journal';
import {
  caseOpenedUpdate,
  type Command,
  getCaseQuery,
  reassignTaskUpdate,
  transferTaskSignal,
  withdrawCaseUpdate,
  withdrawTaskSignal,
} from './messages';
import { departmentsSearchAttribute, statusSearchAttribute } from './search-attributes';
import { type TaskOutcome, taskWorkflow } from './task.workflow';

export interface CaseWorkflowInput {
  readonly details: CaseDetails;
  readonly openedBy: Actor;
}

/** How a case ended. */
export interface CaseOutcome {
  readonly caseId: string;
  readonly status: CaseState['status'];
}

/** Cases opened from this change on give every task its deadlines (earlier cases run without). */
const deadlinesPatch = 'task-deadlines';

const nowIso = (): string => new Date().toISOString();

/**
 * One case (workflow id = case id): records the opening, runs one child task workflow per
 * department, moves tasks between departments when the office reassigns them, closes when every
 * task is accepted, or ends when the office withdraws it.
 */
export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseOutcome> {
  const caseId = workflowInfo().workflowId;
  const opened = failOnDomainError(() =>
    openCase({
      caseId,
      details: parseInput(caseDetailsSchema, input.details, 'case'),
      actor: parseInput(actorSchema, input.openedBy, 'actor'),
      at: nowIso(),
    }),
  );
  let state: CaseState = opened.state;
  const journal = new Journal(caseId, caseId);
  const children = new Map<string, ChildWorkflowHandle<typeof taskWorkflow>>();
  const results: Promise<void>[] = [];
  let taskFailure: unknown;
  let tasksStarted = false;

  upsertSearchAttributes([
    { key: statusSearchAttribute, value: state.status },
    { key: departmentsSearchAttribute, value: state.tasks.map((t) => t.departmentCode) },
  ]);

  /** What falls due first for each new task, recorded with its assignment and passed to it. */
  const firstAlarms = new Map<string, Alarm | null>();
  let indexedStatus = state.status;
  const record = async (events: readonly DomainEvent[], next: CaseState, tasks: readonly TaskState[] = []) => {
    if (next.status !== indexedStatus) {
      indexedStatus = next.status;
      upsertSearchAttributes([{ key: statusSearchAttribute, value: next.status }]);
    }
    await journal.record({
      events: journal.key(events),
      caseSnapshot: { state: next, version: journal.stamp() },
      taskSnapshots: tasks.map((task) => ({ state: task, version: 0, next: firstAlarms.get(task.taskId) ?? null })),
    });
  };

  /** Deadlines for tasks assigned now; a past explicit due date gives way to the policy window. */
  const deadlinesFor = async (assignedAt: string): Promise<ComputedDeadlines> =>
    deadlines().computeDeadlines({
      assignedAt,
      severity: state.details.severity,
      category: state.details.category,
      dueDate: state.details.dueDate,
    });

  const taskFor = (ref: CaseTaskRef, assignedAt: string, due: ComputedDeadlines | null): TaskState => {
    if (due?.firstAlarm !== undefined) firstAlarms.set(ref.taskId, due.firstAlarm);
    return newTask({
      taskId: ref.taskId,
      caseId,
      departmentCode: ref.departmentCode,
      role: ref.role,
      assignedAt,
      ackDueAt: due?.ackDueAt ?? null,
      rectificationDueAt: due?.rectificationDueAt ?? null,
      ...(due ? { limits: due.limits } : {}),
    });
  };

  const startTask = async (task: TaskState): Promise<void> => {
    const child = await startChild(taskWorkflow, {
      workflowId: task.taskId,
      args: [
        {
          taskId: task.taskId,
          caseId,
          departmentCode: task.departmentCode,
          role: task.role,
          assignedAt: task.assignedAt,
          ...(task.ackDueAt && task.rectificationDueAt
            ? { ackDueAt: task.ackDueAt, rectificationDueAt: task.rectificationDueAt, limits: task.limits }
            : {}),
          ...(firstAlarms.has(task.taskId) ? { next: firstAlarms.get(task.taskId) } : {}),
        },
      ],
      // Tasks end with their case, even if the case is terminated by an operator.
      parentClosePolicy: 'REQUEST_CANCEL',
    });
    children.set(task.taskId, child);
    results.push(
      child.result().then(
        async (outcome: TaskOutcome) => {
          const decision = recordTaskFinished(state, outcome.taskId, outcome.status, nowIso());
          state = decision.state;
          if (decision.events.length > 0) await record(decision.events, decision.state);
        },
        (error: unknown) => {
          taskFailure ??= error;
        },
      ),
    );
  };

  setHandler(getCaseQuery, () => state);
  setHandler(caseOpenedUpdate, async () => {
    // Answer once the case is recorded and every task is running, ready for its department.
    await condition(() => tasksStarted);
    return state;
  });
  setHandler(
    withdrawCaseUpdate,
    async (command: Command<WithdrawInput>) => {
      const parsed = parseCommand(withdrawInputSchema, command, 'withdraw');
      // Every task must be running to hear that its case is withdrawn.
      await condition(() => tasksStarted);
      const decision = failOnDomainError(() => withdrawCase(state, parsed, nowIso()));
      state = decision.state;
      await record(decision.events, decision.state);
      for (const task of liveTasks(decision.state)) {
        await children.get(task.taskId)?.signal(withdrawTaskSignal, parsed);
      }
      return decision.state;
    },
    {
      validator: (command: Command<WithdrawInput>) =>
        failOnDomainError(() => checkWithdrawCase(state, parseCommand(withdrawInputSchema, command, 'withdraw').actor)),
    },
  );
  setHandler(
    reassignTaskUpdate,
    async (command: Command<ReassignInput>) => {
      const parsed = parseCommand(reassignInputSchema, command, 'reassign');
      await condition(() => tasksStarted);
      failOnDomainError(() => checkReassign(state, parsed.actor, parsed));
      const toTaskId = taskIdFor(caseId, state.tasks.length + 1);
      // The old task ends first, and must end as transferred: one that finished meanwhile stays.
      await children.get(parsed.taskId)?.signal(transferTaskSignal, {
        actor: parsed.actor,
        toDepartment: parsed.toDepartment,
        toTaskId,
        reason: parsed.reason,
      });
      await condition(() => state.tasks.find((t) => t.taskId === parsed.taskId)?.outcome != null);
      const outcome = state.tasks.find((t) => t.taskId === parsed.taskId)?.outcome;
      if (outcome !== 'transferred') {
        throw ApplicationFailure.create({
          type: 'invalid_state',
          message: `任务 ${parsed.taskId} 已结束（${outcome}），未转办 / task ${parsed.taskId} finished (${outcome}) before it could be transferred`,
          nonRetryable: true,
        });
      }
      const assignedAt = nowIso();
      const decision = failOnDomainError(() => reassignTask(state, parsed, assignedAt, { oldTaskTransferred: true }));
      // The new task is live from now on, so the case cannot close before it finishes.
      state = decision.state;
      const due = await deadlinesFor(assignedAt);
      const task = taskFor(decision.task, assignedAt, due);
      const events = decision.events.map((e) => ({
        ...e,
        payload: { ...e.payload, ackDueAt: task.ackDueAt, rectificationDueAt: task.rectificationDueAt },
      }));
      upsertSearchAttributes([
        { key: departmentsSearchAttribute, value: [...new Set(decision.state.tasks.map((t) => t.departmentCode))] },
      ]);
      await record(events, decision.state, [task]);
      await startTask(task);
      return state;
    },
    {
      validator: (command: Command<ReassignInput>) =>
        failOnDomainError(() => {
          const parsed = parseCommand(reassignInputSchema, command, 'reassign');
          checkReassign(state, parsed.actor, parsed);
        }),
    },
  );

  // The opening and every assignment are recorded together, before any task starts.
  const due = patched(deadlinesPatch) ? await deadlinesFor(state.openedAt) : null;
  const initialTasks = state.tasks.map((ref) => taskFor(ref, state.openedAt, due));
  const openingEvents = due
    ? opened.events.map((e) =>
        e.action === 'task.assigned'
          ? { ...e, payload: { ...e.payload, ackDueAt: due.ackDueAt, rectificationDueAt: due.rectificationDueAt } }
          : e,
      )
    : opened.events;
  await record(openingEvents, state, initialTasks);

  for (const task of initialTasks) await startTask(task);
  tasksStarted = true;

  // Reassignment adds tasks while others run: wait until no task is live and no command is in
  // flight, then until the bookkeeping of every finished task (the case's closing among it) is
  // written; a reassignment may have started a task meanwhile, so look again.
  for (;;) {
    await condition(() => (liveTasks(state).length === 0 && allHandlersFinished()) || taskFailure !== undefined);
    // A task that failed (terminated by an operator, say) fails its case with the same failure.
    if (taskFailure !== undefined) throw taskFailure as Error;
    await Promise.all(results);
    if (liveTasks(state).length === 0 && allHandlersFinished()) break;
  }
  if (state.status === 'open') {
    throw ApplicationFailure.nonRetryable(`case ${caseId} has no live task but is still open`, 'invalid_state');
  }
  return { caseId, status: state.status };
}
