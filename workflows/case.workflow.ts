import {
  allHandlersFinished,
  ApplicationFailure,
  type ChildWorkflowHandle,
  condition,
  log,
  patched,
  setHandler,
  type SignalDefinition,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
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
  type Evidence,
  type ReassignInput,
  reassignInputSchema,
  type WithdrawInput,
  withdrawInputSchema,
} from '../domain/case.schema';
import { parseCommand } from '../domain/command';
import type { DomainEvent } from '../domain/event';
import {
  type AnswerInput,
  answerCase,
  answerInputSchema,
  checkAnswer,
  checkFollowUpDecision,
  checkRating,
  dismissRating,
  expireFollowUp,
  type FollowUpDecisionInput,
  followUpDecisionInputSchema,
  type RateInput,
  rateCase,
  rateInputSchema,
  reopenCase,
  startFollowUp,
} from '../domain/follow-up';
import { type ResponsiblePerson, responsiblePersonSchema } from '../domain/person-id';
import { newTask, type TaskState, type TaskStatus } from '../domain/task.machine';
import { parseInput } from '../domain/validation';
import { taskIdFor } from '../domain/case-id';
import { deadlines } from './activities';
import { closeApartPatch, quietBeforeClosing } from './closing';
import { failOnDomainError } from './failures';
import { HandlerLock } from './handler-lock';
import { Journal } from './journal';
import {
  answerCaseUpdate,
  caseOpenedUpdate,
  type Command,
  decideFollowUpUpdate,
  getCaseQuery,
  journalPositionQuery,
  rateCaseUpdate,
  reassignTaskUpdate,
  resyncJournalSignal,
  transferTaskSignal,
  withdrawCaseUpdate,
  withdrawTaskSignal,
} from './messages';
import { departmentsSearchAttribute, statusSearchAttribute } from './search-attributes';
import { type TaskOutcome, taskWorkflow } from './task.workflow';

export interface CaseWorkflowInput {
  readonly details: CaseDetails;
  readonly openedBy: Actor;
  /**
   * 责任人 the office named when it opened the case, by department code, as the directory had them
   * (the case service checked each belongs to its department). Absent in cases opened before.
   */
  readonly responsiblePersons?: Readonly<Record<string, ResponsiblePerson>>;
}

const responsiblePersonsInput = z.record(z.string(), responsiblePersonSchema);

/** How a case ended. */
export interface CaseOutcome {
  readonly caseId: string;
  readonly status: CaseState['status'];
}

/** Cases opened from this change on give every task its deadlines (earlier cases run without). */
const deadlinesPatch = 'task-deadlines';

/**
 * From this change on, reassignments and withdrawals of a case run one at a time, each checking
 * the rules again when its turn comes; a reassignment numbers the new task in its turn, and adds
 * it before the old task's end is counted. Commands handled before the change interleaved.
 */
const serialisedCommandsPatch = 'serialised-case-commands';

/**
 * From this change on, a case opened from a complaint does not end when it closes: it waits for
 * the office's answer (答复) and the complainant's rating (回访), and an upheld 不满意 reopens it
 * (重办). Runs that closed before the change ended at the closing.
 */
const followUpPatch = 'complaint-follow-up';

/**
 * From this change on, a case writes a shorter history (each patch costs a marker and an upsert
 * of TemporalChangeVersion, each upsert a visibility write on the server): this one patch stands
 * for every earlier one (deadlines, serialised commands, follow-up, local activities, closing
 * apart); the search attributes its starter set are not upserted again; and each task is started
 * with its search attributes and the plan of its alarms, so that it neither upserts nor plans at
 * its start.
 */
export const leanCasePatch = 'lean-case-history';

/**
 * From this change on, a case's journal writes are fenced by the attempt of the workflow task that
 * makes them (workflows/journal.ts, docs/reliability.md), and its notices wait until the server has
 * recorded that workflow task. It stands for the lean history too (one patch marker per run).
 */
export const fencedCasePatch = 'fenced-case-journal';

/** The search attributes a case starts with: its status and the departments of its opening. */
export function caseStartAttributes(details: {
  leadDepartment: string;
  cooperatingDepartments?: readonly string[] | undefined;
}): SearchAttributePair[] {
  return [
    { key: statusSearchAttribute, value: 'open' },
    { key: departmentsSearchAttribute, value: [details.leadDepartment, ...(details.cooperatingDepartments ?? [])] },
  ];
}

/** The failure type of a signal to a workflow that has already ended. */
const endedTaskFailureType = 'ExternalWorkflowExecutionNotFound';

const nowIso = (): string => new Date().toISOString();

/**
 * One case (workflow id = case id): records the opening, runs one child task workflow per
 * department, moves tasks between departments when the office reassigns them, closes when every
 * task is accepted, or ends when the office withdraws it.
 */
export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseOutcome> {
  const fenced = patched(fencedCasePatch);
  const lean = fenced || patched(leanCasePatch);
  const caseId = workflowInfo().workflowId;
  const responsiblePersons = failOnDomainError(() =>
    input.responsiblePersons ? parseInput(responsiblePersonsInput, input.responsiblePersons, 'responsiblePersons') : undefined,
  );
  const opened = failOnDomainError(() =>
    openCase({
      caseId,
      details: parseInput(caseDetailsSchema, input.details, 'case'),
      actor: parseInput(actorSchema, input.openedBy, 'actor'),
      at: nowIso(),
      responsiblePersons,
    }),
  );
  let state: CaseState = opened.state;
  const journal = new Journal(caseId, caseId, undefined, lean, fenced);
  const children = new Map<string, ChildWorkflowHandle<typeof taskWorkflow>>();
  const results: Promise<void>[] = [];
  /** The evidence of every accepted submission: the after-photos an answer may show. */
  const acceptedEvidence: Evidence[] = [];
  let taskFailure: unknown;
  let tasksStarted = false;

  const startAttributes = workflowInfo().typedSearchAttributes;
  const indexedAtStart =
    lean &&
    startAttributes.get(statusSearchAttribute) === state.status &&
    JSON.stringify(startAttributes.get(departmentsSearchAttribute)) === JSON.stringify(state.tasks.map((t) => t.departmentCode));
  if (!indexedAtStart) {
    upsertSearchAttributes([
      { key: statusSearchAttribute, value: state.status },
      { key: departmentsSearchAttribute, value: state.tasks.map((t) => t.departmentCode) },
    ]);
  }

  /** What falls due first for each new task, recorded with its assignment and passed to it. */
  const firstAlarms = new Map<string, Alarm | null>();
  /** Every alarm of each new task (lean runs), passed to it as its plan. */
  const plans = new Map<string, Alarm[]>();
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
    deadlines(lean).computeDeadlines({
      assignedAt,
      severity: state.details.severity,
      category: state.details.category,
      dueDate: state.details.dueDate,
    });

  const taskFor = (
    ref: CaseTaskRef,
    assignedAt: string,
    due: ComputedDeadlines | null,
    responsiblePerson: ResponsiblePerson | null = null,
  ): TaskState => {
    if (due?.firstAlarm !== undefined) firstAlarms.set(ref.taskId, due.firstAlarm);
    if (lean && due?.alarms !== undefined) plans.set(ref.taskId, due.alarms);
    return newTask({
      taskId: ref.taskId,
      caseId,
      departmentCode: ref.departmentCode,
      role: ref.role,
      assignedAt,
      ackDueAt: due?.ackDueAt ?? null,
      rectificationDueAt: due?.rectificationDueAt ?? null,
      ...(due ? { limits: due.limits } : {}),
      responsiblePerson,
    });
  };

  const lock = new HandlerLock();
  /**
   * Tasks a reassignment has told to end as transferred, with how each ended (null until then).
   * Their end is recorded by that reassignment, together with the task that replaces them.
   */
  const transferEnds = new Map<string, TaskStatus | null>();

  const finishTask = async (taskId: string, status: TaskStatus): Promise<void> => {
    const decision = recordTaskFinished(state, taskId, status, nowIso());
    state = decision.state;
    if (decision.events.length > 0) await record(decision.events, decision.state);
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
          ...(plans.has(task.taskId) ? { plan: plans.get(task.taskId) } : {}),
          ...(task.responsiblePerson ? { responsiblePerson: task.responsiblePerson } : {}),
        },
      ],
      // The task finds them set and does not upsert them itself.
      ...(lean
        ? {
            typedSearchAttributes: [
              { key: statusSearchAttribute, value: task.status },
              { key: departmentsSearchAttribute, value: [task.departmentCode] },
            ],
          }
        : {}),
      // Tasks end with their case, even if the case is terminated by an operator.
      parentClosePolicy: 'REQUEST_CANCEL',
    });
    children.set(task.taskId, child);
    results.push(
      child.result().then(
        async (outcome: TaskOutcome) => {
          if (outcome.status === 'accepted' && outcome.evidence) acceptedEvidence.push(...outcome.evidence);
          if (transferEnds.has(outcome.taskId)) {
            transferEnds.set(outcome.taskId, outcome.status);
            return;
          }
          await finishTask(outcome.taskId, outcome.status);
        },
        (error: unknown) => {
          taskFailure ??= error;
        },
      ),
    );
  };

  /**
   * Signals a task. One that has ended meanwhile can no longer hear it, which is no failure of the
   * command: the task's result, on its way, tells the case how it ended.
   */
  const tell = async <Args extends unknown[]>(taskId: string, signal: SignalDefinition<Args>, ...args: Args) => {
    try {
      await children.get(taskId)?.signal(signal, ...args);
    } catch (error) {
      if (!(error instanceof ApplicationFailure && error.type === endedTaskFailureType)) throw error;
      log.info('signal to an ended task not delivered', { taskId, signal: signal.name });
    }
  };

  const notTransferred = (taskId: string, outcome: TaskStatus | null | undefined) =>
    ApplicationFailure.create({
      type: 'invalid_state',
      message: `任务 ${taskId} 已结束（${outcome}），未转办 / task ${taskId} finished (${outcome}) before it could be transferred`,
      nonRetryable: true,
    });

  const withdrawInterleaved = async (parsed: Command<WithdrawInput>): Promise<CaseState> => {
    // Every task must be running to hear that its case is withdrawn.
    await condition(() => tasksStarted);
    const decision = failOnDomainError(() => withdrawCase(state, parsed, nowIso()));
    state = decision.state;
    await record(decision.events, decision.state);
    for (const task of liveTasks(decision.state)) {
      await children.get(task.taskId)?.signal(withdrawTaskSignal, parsed);
    }
    return decision.state;
  };

  const withdrawSerially = (parsed: Command<WithdrawInput>): Promise<CaseState> =>
    lock.run(async () => {
      await condition(() => tasksStarted);
      // Checked again in turn: a command before this one may have closed or withdrawn the case.
      const decision = failOnDomainError(() => withdrawCase(state, parsed, nowIso()));
      state = decision.state;
      await record(decision.events, state);
      for (const task of liveTasks(state)) await tell(task.taskId, withdrawTaskSignal, parsed);
      return state;
    });

  const reassignInterleaved = async (parsed: Command<ReassignInput>): Promise<CaseState> => {
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
    if (outcome !== 'transferred') throw notTransferred(parsed.taskId, outcome);
    const assignedAt = nowIso();
    const decision = failOnDomainError(() => reassignTask(state, parsed, assignedAt, { oldTaskTransferred: true }));
    // The new task is live from now on, so the case cannot close before it finishes.
    state = decision.state;
    return assignReplacement(decision.task, decision.events, assignedAt, () => decision.state);
  };

  const reassignSerially = (parsed: Command<ReassignInput>): Promise<CaseState> =>
    lock.run(async () => {
      await condition(() => tasksStarted);
      // Checked again in turn (a reassignment before this one may have moved the same task), and
      // the new task numbered in turn: no other reassignment adds a task until this one has.
      failOnDomainError(() => checkReassign(state, parsed.actor, parsed));
      const toTaskId = taskIdFor(caseId, state.tasks.length + 1);
      transferEnds.set(parsed.taskId, null);
      let ended: TaskStatus | null | undefined;
      try {
        await tell(parsed.taskId, transferTaskSignal, {
          actor: parsed.actor,
          toDepartment: parsed.toDepartment,
          toTaskId,
          reason: parsed.reason,
        });
        await condition(() => transferEnds.get(parsed.taskId) != null);
        ended = transferEnds.get(parsed.taskId);
      } finally {
        // Should this fail before the task ended, its end is then recorded as any other.
        transferEnds.delete(parsed.taskId);
      }
      if (ended !== 'transferred') {
        // It finished some other way before it heard of the transfer: that end counts as usual.
        if (ended) await finishTask(parsed.taskId, ended);
        throw notTransferred(parsed.taskId, ended);
      }
      const assignedAt = nowIso();
      // The replacement joins while the old task still counts as live, and only then does the old
      // task's end count: with every other task accepted, the case would otherwise close between.
      const reassigned = failOnDomainError(() => reassignTask(state, parsed, assignedAt));
      const finished = recordTaskFinished(reassigned.state, parsed.taskId, 'transferred', assignedAt);
      state = finished.state;
      // Written as the case stands after the await for deadlines: another task may have ended meanwhile.
      return assignReplacement(reassigned.task, [...reassigned.events, ...finished.events], assignedAt, () => state);
    });

  /**
   * Gives the replacement task its deadlines, records its assignment with the case as `snapshot`
   * gives it after that await, and starts the task.
   */
  const assignReplacement = async (
    ref: CaseTaskRef,
    assigned: readonly DomainEvent[],
    assignedAt: string,
    snapshot: () => CaseState,
  ): Promise<CaseState> => {
    const due = await deadlinesFor(assignedAt);
    const task = taskFor(ref, assignedAt, due);
    const events = assigned.map((e) =>
      e.action === 'task.assigned'
        ? { ...e, payload: { ...e.payload, ackDueAt: task.ackDueAt, rectificationDueAt: task.rectificationDueAt } }
        : e,
    );
    const current = snapshot();
    upsertSearchAttributes([
      { key: departmentsSearchAttribute, value: [...new Set(current.tasks.map((t) => t.departmentCode))] },
    ]);
    await record(events, current, [task]);
    await startTask(task);
    return state;
  };

  setHandler(getCaseQuery, () => state);
  setHandler(journalPositionQuery, () => journal.position);
  setHandler(resyncJournalSignal, async () => {
    if (fenced) await lock.run(() => record([], state));
  });
  setHandler(caseOpenedUpdate, async () => {
    // Answer once the case is recorded and every task is running, ready for its department.
    await condition(() => tasksStarted);
    return state;
  });
  setHandler(
    withdrawCaseUpdate,
    (command: Command<WithdrawInput>) => {
      const parsed = parseCommand(withdrawInputSchema, command, 'withdraw');
      return lean || patched(serialisedCommandsPatch) ? withdrawSerially(parsed) : withdrawInterleaved(parsed);
    },
    {
      validator: (command: Command<WithdrawInput>) =>
        failOnDomainError(() => checkWithdrawCase(state, parseCommand(withdrawInputSchema, command, 'withdraw').actor)),
    },
  );
  setHandler(
    reassignTaskUpdate,
    (command: Command<ReassignInput>) => {
      const parsed = parseCommand(reassignInputSchema, command, 'reassign');
      return lean || patched(serialisedCommandsPatch) ? reassignSerially(parsed) : reassignInterleaved(parsed);
    },
    {
      validator: (command: Command<ReassignInput>) =>
        failOnDomainError(() => {
          const parsed = parseCommand(reassignInputSchema, command, 'reassign');
          checkReassign(state, parsed.actor, parsed);
        }),
    },
  );

  /** The department holding the lead now: the last lead task not transferred away. */
  const currentLead = (): string =>
    state.tasks.filter((t) => t.role === 'lead' && t.outcome !== 'transferred').at(-1)?.departmentCode ?? state.details.leadDepartment;

  setHandler(
    answerCaseUpdate,
    (command: Command<AnswerInput>) =>
      lock.run(async () => {
        const parsed = parseCommand(answerInputSchema, command, 'answer');
        const at = nowIso();
        failOnDomainError(() => checkAnswer(state, parsed.actor, parsed, acceptedEvidence));
        const window = await deadlines(lean).followUpWindow({ answeredAt: at });
        const decision = failOnDomainError(() => answerCase(state, parsed, acceptedEvidence, at, window));
        state = decision.state;
        await record(decision.events, state);
        return state;
      }),
    {
      validator: (command: Command<AnswerInput>) =>
        failOnDomainError(() => {
          const parsed = parseCommand(answerInputSchema, command, 'answer');
          checkAnswer(state, parsed.actor, parsed, acceptedEvidence);
        }),
    },
  );
  setHandler(
    rateCaseUpdate,
    (command: Command<RateInput>) =>
      lock.run(async () => {
        const decision = failOnDomainError(() => rateCase(state, parseCommand(rateInputSchema, command, 'rating'), nowIso()));
        state = decision.state;
        await record(decision.events, state);
        return state;
      }),
    {
      validator: (command: Command<RateInput>) =>
        failOnDomainError(() => {
          parseCommand(rateInputSchema, command, 'rating');
          checkRating(state, nowIso());
        }),
    },
  );
  setHandler(
    decideFollowUpUpdate,
    (command: Command<FollowUpDecisionInput>) =>
      lock.run(async () => {
        const parsed = parseCommand(followUpDecisionInputSchema, command, 'follow-up decision');
        if (parsed.decision === 'dismiss') {
          const decision = failOnDomainError(() => dismissRating(state, parsed, nowIso()));
          state = decision.state;
          await record(decision.events, state);
          return state;
        }
        failOnDomainError(() => checkFollowUpDecision(state, parsed.actor, parsed));
        const assignedAt = nowIso();
        const department = parsed.department ?? currentLead();
        const ref: CaseTaskRef = { taskId: taskIdFor(caseId, state.tasks.length + 1), departmentCode: department, role: 'lead', outcome: null };
        // Fresh deadlines from the policy: the case's own due date belongs to the first round.
        const due = await deadlines(lean).computeDeadlines({
          assignedAt,
          severity: state.details.severity,
          category: state.details.category,
        });
        const task = taskFor(ref, assignedAt, due);
        const decision = failOnDomainError(() =>
          reopenCase(state, parsed, assignedAt, {
            taskId: task.taskId,
            department,
            ackDueAt: task.ackDueAt,
            rectificationDueAt: task.rectificationDueAt,
          }),
        );
        state = decision.state;
        upsertSearchAttributes([
          { key: departmentsSearchAttribute, value: [...new Set(state.tasks.map((t) => t.departmentCode))] },
        ]);
        await record(decision.events, state, [task]);
        await startTask(task);
        return state;
      }),
    {
      validator: (command: Command<FollowUpDecisionInput>) =>
        failOnDomainError(() => {
          const parsed = parseCommand(followUpDecisionInputSchema, command, 'follow-up decision');
          checkFollowUpDecision(state, parsed.actor, parsed);
        }),
    },
  );

  // The opening and every assignment are recorded together, before any task starts.
  const due = lean || patched(deadlinesPatch) ? await deadlinesFor(state.openedAt) : null;
  // Only the tasks of the opening get the persons named with it; a replacement starts without one.
  const initialTasks = state.tasks.map((ref) =>
    taskFor(ref, state.openedAt, due, responsiblePersons?.[ref.departmentCode] ?? null),
  );
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
  const runTasks = async (): Promise<void> => {
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
  };
  await runTasks();

  // 答复 → 回访 → 重办: a case from a complaint waits, once closed, for the office's answer and the
  // complainant's rating; an upheld 不满意 reopens it, and each closing starts a new round.
  if (state.status === 'closed' && state.details.complaintCode !== undefined && (lean || patched(followUpPatch))) {
    for (;;) {
      state = startFollowUp(state);
      await record([], state);
      await condition(() => state.followUp?.status !== 'awaiting_answer');
      const dueAt = state.followUp?.followUpDueAt;
      if (state.followUp?.status === 'awaiting_rating' && dueAt) {
        const rated = await condition(() => state.followUp?.status !== 'awaiting_rating', Math.max(1, Date.parse(dueAt) - Date.now()));
        if (!rated) {
          // In turn: a rating that its validator let in just before the end is handled first.
          await lock.run(async () => {
            const expired = expireFollowUp(state, nowIso());
            if (expired.events.length === 0) return;
            state = expired.state;
            await record(expired.events, state);
          });
        }
      }
      await condition(() => state.followUp?.status !== 'awaiting_decision');
      if (state.followUp?.status !== 'reopened') break;
      await runTasks();
      // Withdrawn while reopened: no answer follows.
      if (state.status !== 'closed') break;
    }
  }
  // A command refused meanwhile (the case has ended) writes nothing, so the wait is one timer.
  if (lean || patched(closeApartPatch)) await quietBeforeClosing(journal);
  return { caseId, status: state.status };
}
