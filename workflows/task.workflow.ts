import {
  allHandlersFinished,
  condition,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acknowledgeInputSchema,
  progressInputSchema,
  submitInputSchema,
  verifyInputSchema,
  withdrawInputSchema,
} from '../domain/case.schema';
import { parseCommand } from '../domain/command';
import { DomainError } from '../domain/errors';
import {
  checkTaskCommand,
  decideTask,
  isTaskFinished,
  newTask,
  type TaskCommand,
  type TaskRole,
  type TaskState,
  type TaskStatus,
} from '../domain/task.machine';
import { failOnDomainError } from './failures';
import { Journal } from './journal';
import {
  acknowledgeTaskUpdate,
  type Command,
  getTaskQuery,
  reportProgressUpdate,
  submitRectificationUpdate,
  verifyRectificationUpdate,
  withdrawTaskSignal,
} from './messages';
import { departmentsSearchAttribute, statusSearchAttribute } from './search-attributes';

export interface TaskWorkflowInput {
  readonly taskId: string;
  readonly caseId: string;
  readonly departmentCode: string;
  readonly role: TaskRole;
  readonly assignedAt: string;
}

/** How a task ended; the case workflow's child result. */
export interface TaskOutcome {
  readonly taskId: string;
  readonly status: TaskStatus;
}

/**
 * One department's task in a case: acknowledge, rectify, be verified. Commands arrive as
 * updates; the rules are domain/task.machine.ts; every change is journaled to the read model
 * before the update answers.
 */
export async function taskWorkflow(input: TaskWorkflowInput): Promise<TaskOutcome> {
  let state: TaskState = newTask(input);
  // The case workflow recorded the assignment as version 0 of this task's row.
  const journal = new Journal(workflowInfo().workflowId, input.caseId);
  upsertSearchAttributes([
    { key: statusSearchAttribute, value: state.status },
    { key: departmentsSearchAttribute, value: [state.departmentCode] },
  ]);

  const apply = async (command: TaskCommand): Promise<TaskState> => {
    const decision = failOnDomainError(() => decideTask(state, command, new Date().toISOString()));
    if (decision.state.status !== state.status) {
      upsertSearchAttributes([{ key: statusSearchAttribute, value: decision.state.status }]);
    }
    state = decision.state;
    const events = journal.key([decision.event]);
    await journal.record({ events, taskSnapshots: [{ state: decision.state, version: journal.version }] });
    return decision.state;
  };

  const handle = <I>(type: TaskCommand['type'], schema: Parameters<typeof parseCommand>[0]) => ({
    validator: (command: Command<I>): void =>
      failOnDomainError(() => {
        const parsed = parseCommand(schema, command, type);
        checkTaskCommand(state, { ...parsed, type } as TaskCommand);
      }),
    handler: (command: Command<I>): Promise<TaskState> =>
      apply({ ...parseCommand(schema, command, type), type } as TaskCommand),
  });

  const ack = handle('acknowledge', acknowledgeInputSchema);
  setHandler(acknowledgeTaskUpdate, ack.handler, { validator: ack.validator });
  const progress = handle('reportProgress', progressInputSchema);
  setHandler(reportProgressUpdate, progress.handler, { validator: progress.validator });
  const submit = handle('submit', submitInputSchema);
  setHandler(submitRectificationUpdate, submit.handler, { validator: submit.validator });
  const verify = handle('verify', verifyInputSchema);
  setHandler(verifyRectificationUpdate, verify.handler, { validator: verify.validator });

  setHandler(withdrawTaskSignal, async (command) => {
    try {
      const parsed = parseCommand(withdrawInputSchema, command, 'withdraw');
      checkTaskCommand(state, { ...parsed, type: 'withdraw' });
      await apply({ ...parsed, type: 'withdraw' });
    } catch (error) {
      // A task that finished while its case was being withdrawn keeps its outcome.
      if (!(error instanceof DomainError)) throw error;
      log.info('withdraw signal ignored', { taskId: state.taskId, reason: error.message });
    }
  });
  setHandler(getTaskQuery, () => state);

  await condition(() => isTaskFinished(state.status));
  await condition(allHandlersFinished);
  return { taskId: state.taskId, status: state.status };
}
