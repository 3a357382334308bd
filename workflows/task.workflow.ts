import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { Alarm } from '../domain/alarm.plan';
import {
  acknowledgeInputSchema,
  assignResponsiblePersonInputSchema,
  type Evidence,
  extensionDecisionInputSchema,
  extensionRequestInputSchema,
  progressInputSchema,
  resumeInputSchema,
  submitInputSchema,
  suspendInputSchema,
  transferRejectionInputSchema,
  transferRequestInputSchema,
  verifyInputSchema,
  withdrawInputSchema,
} from '../domain/case.schema';
import { parseCommand } from '../domain/command';
import { DomainError } from '../domain/errors';
import type { DomainEvent } from '../domain/event';
import type { ResponsiblePerson } from '../domain/person-id';
import {
  type AlarmFiring,
  checkTaskCommand,
  continuedTask,
  decideTask,
  fireDueAlarms,
  isTaskFinished,
  newTask,
  pendingAlarms,
  type TaskCommand,
  type TaskDecision,
  type TaskLimits,
  type TaskRole,
  type TaskState,
  type TaskStatus,
} from '../domain/task.machine';
import { deadlines } from './activities';
import { closeApartPatch, quietBeforeClosing } from './closing';
import { failOnDomainError } from './failures';
import { HandlerLock } from './handler-lock';
import { Journal, type JournalPosition } from './journal';
import {
  acknowledgeTaskUpdate,
  assignResponsiblePersonUpdate,
  type Command,
  decideExtensionUpdate,
  getTaskQuery,
  journalPositionQuery,
  rejectTransferUpdate,
  reportProgressUpdate,
  requestExtensionUpdate,
  requestTransferUpdate,
  resumeTaskUpdate,
  resyncJournalSignal,
  submitRectificationUpdate,
  suspendTaskUpdate,
  type TaskSnapshot,
  transferTaskSignal,
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
  /** Deadlines; absent for tasks opened before deadlines existed, which then run without timers. */
  readonly ackDueAt?: string;
  readonly rectificationDueAt?: string;
  readonly limits?: TaskLimits;
  /** 责任人 named by the office when it opened the case (recorded by the case with the assignment). */
  readonly responsiblePerson?: ResponsiblePerson;
  /** What falls due first, as the case recorded it with the assignment (so it is not written again). */
  readonly next?: Alarm | null;
  /**
   * Every reminder and rung, as the case planned them with the deadlines (so a new task does not
   * plan again before its first wake-up); absent from cases opened before, and never carried
   * across continue-as-new.
   */
  readonly plan?: readonly Alarm[];
  /** The state carried over from the previous run when the task continued as new. */
  readonly resume?: { readonly state: TaskState; readonly journal: JournalPosition };
  /** Continue as new once the history holds this many events (default 2,000). */
  readonly continueAsNewAfterEvents?: number;
}

/** How a task ended; the case workflow's child result. */
export interface TaskOutcome {
  readonly taskId: string;
  readonly status: TaskStatus;
  /**
   * The evidence of the accepted submission (the after-photos the office may show a complainant);
   * absent in results of tasks that ended before it was given.
   */
  readonly evidence?: readonly Evidence[];
}

const nowIso = (): string => new Date().toISOString();

/**
 * From this change on, a task's commands, the signals from its case and each wake-up on a timer
 * run one at a time: none starts while another awaits the calendar, a re-plan or a write between
 * its check and its apply. Runs before the change let them interleave.
 */
const serialisedCommandsPatch = 'serialised-task-commands';

/**
 * From this change on, a task writes a shorter history (each patch costs a marker and an upsert of
 * TemporalChangeVersion, each upsert a visibility write on the server): this one patch stands for
 * every earlier one (serialised commands, local activities, closing apart), the search attributes
 * the case set at the start are not upserted again, the plan the case made with the deadlines is
 * taken instead of planning again at the start, and the timer runs on through a change that leaves
 * the next alarm where it was (instead of being cancelled and started again).
 */
export const leanTaskPatch = 'lean-task-history';

/**
 * From this change on, a task's journal writes are fenced by the attempt of the workflow task that
 * makes them (workflows/journal.ts, docs/reliability.md), and its notices wait until the server has
 * recorded that workflow task. It stands for the lean history too, so that a new run records one
 * patch marker.
 */
export const fencedTaskPatch = 'fenced-task-journal';

/**
 * One department's task in a case. Commands arrive as updates (rules: domain/task.machine.ts),
 * and durable timers fire the reminders and the escalation ladder planned from the task's
 * deadlines (domain/alarm.plan.ts). Every change is journaled to the read model before the
 * update answers. The history stays bounded: the task continues as new when it grows long.
 */
export async function taskWorkflow(input: TaskWorkflowInput): Promise<TaskOutcome> {
  const fenced = patched(fencedTaskPatch);
  const lean = fenced || patched(leanTaskPatch);
  let state: TaskState = input.resume
    ? continuedTask(input.resume.state)
    : newTask({
        ...input,
        ackDueAt: input.ackDueAt ?? null,
        rectificationDueAt: input.rectificationDueAt ?? null,
        ...(input.limits ? { limits: input.limits } : {}),
        responsiblePerson: input.responsiblePerson ?? null,
      });
  // The case workflow recorded the assignment as version 0 of this task's row.
  const journal = new Journal(workflowInfo().workflowId, input.caseId, input.resume?.journal, lean, fenced);
  const deadlineKey = (s: TaskState) => `${s.assignedAt}|${s.ackDueAt}|${s.rectificationDueAt}`;
  // The case's plan, for the deadlines it planned them for (a continued run plans afresh).
  const given = lean && !input.resume && input.plan !== undefined && state.rectificationDueAt !== null ? input.plan : undefined;
  let plan: Alarm[] = given ? [...given] : [];
  let plannedFor: string | null = given ? deadlineKey(state) : null;
  let next = input.next ?? null;
  let changes = 0;
  const startAttributes = workflowInfo().typedSearchAttributes;
  const indexedAtStart =
    lean &&
    startAttributes.get(statusSearchAttribute) === state.status &&
    JSON.stringify(startAttributes.get(departmentsSearchAttribute)) === JSON.stringify([state.departmentCode]);
  if (!indexedAtStart) {
    upsertSearchAttributes([
      { key: statusSearchAttribute, value: state.status },
      { key: departmentsSearchAttribute, value: [state.departmentCode] },
    ]);
  }

  /** Refreshes the plan from the calendar and the policy in force (a recorded activity result). */
  const replan = async (): Promise<void> => {
    if (state.rectificationDueAt === null || state.ackDueAt === null) return;
    const planned = await deadlines(lean).planTaskAlarms({
      assignedAt: state.assignedAt,
      ackDueAt: state.ackDueAt,
      rectificationDueAt: state.rectificationDueAt,
    });
    plan = planned.alarms;
    plannedFor = deadlineKey(state);
    state = { ...state, limits: planned.limits };
  };

  const nextAlarm = (): Alarm | null => pendingAlarms(state, plan)[0] ?? null;

  const setState = (nextState: TaskState): void => {
    if (nextState.status !== state.status) upsertSearchAttributes([{ key: statusSearchAttribute, value: nextState.status }]);
    state = nextState;
    changes++;
  };

  const write = async (events: readonly DomainEvent[], firings: readonly AlarmFiring[] = []): Promise<void> => {
    next = nextAlarm();
    const keyed = journal.key(events);
    await journal.record({
      events: keyed,
      taskSnapshots: [{ state, version: journal.stamp(), next }],
      notifications: firings.flatMap((firing, i) =>
        firing.notifications.map((notification) => ({
          key: `${keyed[i]!.key}:${notification.recipient}`,
          caseId: state.caseId,
          taskId: state.taskId,
          notification,
          payload: firing.event.payload,
        })),
      ),
      escalations: firings.flatMap((firing, i) =>
        firing.escalation
          ? [{ key: keyed[i]!.key, caseId: state.caseId, taskId: state.taskId, department: state.departmentCode, record: firing.escalation }]
          : [],
      ),
    });
  };

  const snapshot = (): TaskSnapshot => ({ ...state, next });

  const lock = new HandlerLock();
  /** Runs `step` holding the task's lock (interleaved, as before, in runs from before the patch). */
  const inTurn = <T>(step: () => Promise<T>): Promise<T> => (lean || patched(serialisedCommandsPatch) ? lock.run(step) : step());

  /** Applies a decision, re-plans if it moved a deadline, and journals it. */
  const apply = async (decision: TaskDecision): Promise<TaskSnapshot> => {
    setState(decision.state);
    if (plannedFor !== null && plannedFor !== deadlineKey(state)) await replan();
    await write(decision.events);
    return snapshot();
  };

  const decideNow = (command: TaskCommand): TaskDecision =>
    failOnDomainError(() => decideTask(state, command, nowIso()));

  /**
   * Handles `definition` as command `type`: the validator runs the rules, so a refused command
   * never enters history; `custom` computes what the decision needs first (calendar arithmetic).
   */
  const on = <I>(
    definition: UpdateDefinition<TaskSnapshot, [Command<I>]>,
    type: TaskCommand['type'],
    schema: Parameters<typeof parseCommand>[0],
    custom?: (parsed: TaskCommand) => Promise<TaskSnapshot>,
  ): void => {
    const parse = (cmd: Command<I>) => ({ ...parseCommand(schema, cmd, type), type }) as TaskCommand;
    // The rules run again in turn (decideTask checks them), so a command accepted by its validator
    // is refused if one before it changed the task.
    setHandler(definition, (cmd) => inTurn(() => (custom ? custom(parse(cmd)) : apply(decideNow(parse(cmd))))), {
      validator: (cmd: Command<I>) => failOnDomainError(() => checkTaskCommand(state, parse(cmd))),
    });
  };

  on(acknowledgeTaskUpdate, 'acknowledge', acknowledgeInputSchema);
  on(assignResponsiblePersonUpdate, 'assignResponsiblePerson', assignResponsiblePersonInputSchema);
  on(reportProgressUpdate, 'reportProgress', progressInputSchema);
  on(submitRectificationUpdate, 'submit', submitInputSchema);
  on(verifyRectificationUpdate, 'verify', verifyInputSchema);
  on(requestExtensionUpdate, 'requestExtension', extensionRequestInputSchema);
  on(requestTransferUpdate, 'requestTransfer', transferRequestInputSchema);
  on(rejectTransferUpdate, 'rejectTransfer', transferRejectionInputSchema);
  on(suspendTaskUpdate, 'suspend', suspendInputSchema);
  on(decideExtensionUpdate, 'decideExtension', extensionDecisionInputSchema, async (parsed) => {
    if (parsed.type !== 'decideExtension') throw new Error('unreachable');
    let newDueAt: string | undefined;
    if (parsed.decision === 'approve' && state.rectificationDueAt && state.pendingExtension) {
      const workingDays = parsed.workingDays ?? state.pendingExtension.workingDays;
      newDueAt = await deadlines(lean).extendDeadline({ dueAt: state.rectificationDueAt, workingDays });
    }
    return apply(decideNow({ ...parsed, ...(newDueAt ? { newDueAt } : {}) }));
  });
  on(resumeTaskUpdate, 'resume', resumeInputSchema, async (parsed) => {
    if (parsed.type !== 'resume' || !state.suspension) return apply(decideNow(parsed));
    const owesAcknowledgement = state.status === 'assigned';
    const shifted = await deadlines(lean).shiftForSuspension({
      since: state.suspension.since,
      until: nowIso(),
      ackDueAt: owesAcknowledgement ? state.ackDueAt : null,
      rectificationDueAt: state.rectificationDueAt,
    });
    return apply(
      decideNow({
        ...parsed,
        pausedWorkingDays: shifted.pausedWorkingDays,
        // Once acknowledged, the acknowledgement deadline is history and stays as it was.
        ackDueAt: owesAcknowledgement ? shifted.ackDueAt : state.ackDueAt,
        rectificationDueAt: shifted.rectificationDueAt,
      }),
    );
  });

  const fromCase = (type: 'withdraw' | 'transfer') => (command: TaskCommand) =>
    inTurn(async () => {
      try {
        checkTaskCommand(state, command);
        await apply(decideTask(state, command, nowIso()));
      } catch (error) {
        // A task that finished while its case acted on it keeps its outcome.
        if (!(error instanceof DomainError)) throw error;
        log.info(`${type} signal ignored`, { taskId: state.taskId, reason: error.message });
      }
    });
  setHandler(withdrawTaskSignal, (cmd) =>
    fromCase('withdraw')({ ...parseCommand(withdrawInputSchema, cmd, 'withdraw'), type: 'withdraw' }),
  );
  setHandler(transferTaskSignal, (cmd) => fromCase('transfer')({ ...cmd, type: 'transfer' }));
  setHandler(getTaskQuery, snapshot);
  setHandler(journalPositionQuery, () => journal.position);
  setHandler(resyncJournalSignal, async () => {
    if (fenced) await inTurn(() => write([]));
  });

  const historyLimit = input.continueAsNewAfterEvents ?? 2000;
  // A task given its plan by the case has nothing to read again before its first wake-up.
  let wokeByTimer = given === undefined;
  /** The timer of a lean run: the instant it is set for, and whether it has fired. */
  interface AlarmTimer {
    readonly at: string;
    readonly scope: CancellationScope;
    fired: boolean;
  }
  let timer: AlarmTimer | null = null;
  const startTimer = (at: string): AlarmTimer => {
    const started: AlarmTimer = { at, scope: new CancellationScope(), fired: false };
    void started.scope.run(() => sleep(Math.max(1, Date.parse(at) - Date.now()))).then(
      () => {
        started.fired = true;
      },
      // Cancelled: the next alarm moved, and a timer for it replaced this one.
      () => undefined,
    );
    return started;
  };
  while (!isTaskFinished(state.status)) {
    const serialised = lean || patched(serialisedCommandsPatch);
    if (state.rectificationDueAt !== null) {
      // Held from the re-plan to the write, so that no command changes the task in between. (Runs
      // from before the patch take the branch without a wait, exactly as they always have.)
      const release = serialised ? await lock.acquire() : undefined;
      try {
        if (!(serialised && isTaskFinished(state.status))) {
          // On a timer the policy in force is read again, so a changed policy reaches this task.
          if (wokeByTimer || plannedFor !== deadlineKey(state)) await replan();
          const fired = fireDueAlarms(state, plan, nowIso());
          const before = next;
          if (fired.firings.length > 0 || fired.state.firedReminders.length !== state.firedReminders.length) {
            setState(fired.state);
            await write(
              fired.firings.map((f) => f.event),
              fired.firings,
            );
          } else if (nextAlarm()?.key !== before?.key || nextAlarm()?.at !== before?.at) {
            await write([]);
          }
        }
      } finally {
        release?.();
      }
    }
    // A command that held the lock while this wake-up waited for it may have finished the task;
    // waiting for a further change would then wait forever.
    if (serialised && isTaskFinished(state.status)) continue;
    if (workflowInfo().historyLength >= historyLimit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (!isTaskFinished(state.status)) {
        // The case's plan stays behind: the continued run plans for the deadlines as they stand.
        const { plan: _planned, ...carried } = input;
        return continueAsNew<typeof taskWorkflow>({ ...(lean ? carried : input), next, resume: { state, journal: journal.position } });
      }
    }
    const seen = changes;
    const wakeAt = next?.at;
    if (lean) {
      // The timer runs on while the next alarm stays where it was; one that fired, or was set for
      // an alarm that moved, gives way to a timer for the next alarm, if any.
      if (timer !== null && (timer.fired || timer.at !== wakeAt)) {
        if (!timer.fired) timer.scope.cancel();
        timer = null;
      }
      if (wakeAt !== undefined && timer === null) timer = startTimer(wakeAt);
      const waiting = timer;
      await condition(() => changes !== seen || waiting?.fired === true);
      wokeByTimer = waiting?.fired === true;
    } else if (wakeAt === undefined) {
      await condition(() => changes !== seen);
      wokeByTimer = false;
    } else {
      const changed = await condition(() => changes !== seen, Math.max(1, Date.parse(wakeAt) - Date.now()));
      wokeByTimer = !changed;
    }
  }
  await condition(allHandlersFinished);
  if (lean || patched(closeApartPatch)) await quietBeforeClosing(journal);
  return {
    taskId: state.taskId,
    status: state.status,
    ...(state.status === 'accepted' && state.lastSubmission ? { evidence: state.lastSubmission.evidence } : {}),
  };
}
