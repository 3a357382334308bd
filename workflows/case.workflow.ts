import {
  allHandlersFinished,
  ApplicationFailure,
  type ChildWorkflowHandle,
  condition,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  type CaseState,
  checkWithdrawCase,
  liveTasks,
  openCase,
  recordTaskFinished,
  withdrawCase,
} from '../domain/case.machine';
import { type Actor, actorSchema, caseDetailsSchema, type CaseDetails, withdrawInputSchema } from '../domain/case.schema';
import { parseCommand } from '../domain/command';
import type { DomainEvent } from '../domain/event';
import { newTask } from '../domain/task.machine';
import { parseInput } from '../domain/validation';
import { failOnDomainError } from './failures';
import { Journal } from './journal';
import { caseOpenedUpdate, type Command, getCaseQuery, withdrawCaseUpdate, withdrawTaskSignal } from './messages';
import { departmentsSearchAttribute, statusSearchAttribute } from './search-attributes';
import { type TaskOutcome, taskWorkflow } from './task.workflow';
import type { WithdrawInput } from '../domain/case.schema';

export interface CaseWorkflowInput {
  readonly details: CaseDetails;
  readonly openedBy: Actor;
}

/** How a case ended. */
export interface CaseOutcome {
  readonly caseId: string;
  readonly status: CaseState['status'];
}

/**
 * One case (workflow id = case id): records the opening, runs one child task workflow per
 * department, closes when every task is accepted, or ends when the office withdraws it.
 */
export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseOutcome> {
  const caseId = workflowInfo().workflowId;
  const opened = failOnDomainError(() =>
    openCase({
      caseId,
      details: parseInput(caseDetailsSchema, input.details, 'case'),
      actor: parseInput(actorSchema, input.openedBy, 'actor'),
      at: new Date().toISOString(),
    }),
  );
  let state: CaseState = opened.state;
  const journal = new Journal(caseId, caseId);
  const children = new Map<string, ChildWorkflowHandle<typeof taskWorkflow>>();
  let tasksStarted = false;

  upsertSearchAttributes([
    { key: statusSearchAttribute, value: state.status },
    { key: departmentsSearchAttribute, value: state.tasks.map((t) => t.departmentCode) },
  ]);

  const record = async (events: readonly DomainEvent[], next: CaseState): Promise<void> => {
    upsertSearchAttributes([{ key: statusSearchAttribute, value: next.status }]);
    const keyed = journal.key(events);
    await journal.record({ events: keyed, caseSnapshot: { state: next, version: journal.version } });
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
      const decision = failOnDomainError(() => withdrawCase(state, parsed, new Date().toISOString()));
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

  // The opening and every assignment are recorded together, before any task starts.
  const initialTasks = state.tasks.map((t) =>
    newTask({ taskId: t.taskId, caseId, departmentCode: t.departmentCode, role: t.role, assignedAt: state.openedAt }),
  );
  await journal.record({
    events: journal.key(opened.events),
    caseSnapshot: { state, version: opened.events.length },
    taskSnapshots: initialTasks.map((task) => ({ state: task, version: 0 })),
  });

  const results: Promise<void>[] = [];
  for (const task of initialTasks) {
    const child = await startChild(taskWorkflow, {
      workflowId: task.taskId,
      args: [
        {
          taskId: task.taskId,
          caseId,
          departmentCode: task.departmentCode,
          role: task.role,
          assignedAt: task.assignedAt,
        },
      ],
      // Tasks end with their case, even if the case is terminated by an operator.
      parentClosePolicy: 'REQUEST_CANCEL',
    });
    children.set(task.taskId, child);
    results.push(
      child.result().then(async (outcome: TaskOutcome) => {
        const decision = recordTaskFinished(state, outcome.taskId, outcome.status, new Date().toISOString());
        state = decision.state;
        if (decision.events.length > 0) await record(decision.events, decision.state);
      }),
    );
  }

  tasksStarted = true;

  await Promise.all(results);
  await condition(allHandlersFinished);
  if (state.status === 'open') {
    throw ApplicationFailure.nonRetryable(`case ${caseId} has no live task but is still open`, 'invalid_state');
  }
  return { caseId, status: state.status };
}
