/**
 * Every message the case and task workflows accept, defined once; clients import these.
 * Updates answer yes or no synchronously (validators reject bad commands before anything
 * changes); queries read state; signals are internal, from a case to its tasks.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseState } from '../domain/case.machine';
import type {
  AcknowledgeInput,
  Actor,
  ProgressInput,
  SubmitInput,
  VerifyInput,
  WithdrawInput,
} from '../domain/case.schema';
import type { TaskState } from '../domain/task.machine';

/** A command as sent to a workflow: who acts, and the command's own input. */
export type Command<I> = { actor: Actor } & I;

// The case workflow (workflow id = case id).
/** Answers once the opened case is recorded in the read model (used with update-with-start). */
export const caseOpenedUpdate = defineUpdate<CaseState>('caseOpened');
export const withdrawCaseUpdate = defineUpdate<CaseState, [Command<WithdrawInput>]>('withdrawCase');
export const getCaseQuery = defineQuery<CaseState>('getCase');

// The task workflow (workflow id = task id).
export const acknowledgeTaskUpdate = defineUpdate<TaskState, [Command<AcknowledgeInput>]>('acknowledgeTask');
export const reportProgressUpdate = defineUpdate<TaskState, [Command<ProgressInput>]>('reportProgress');
export const submitRectificationUpdate = defineUpdate<TaskState, [Command<SubmitInput>]>('submitRectification');
export const verifyRectificationUpdate = defineUpdate<TaskState, [Command<VerifyInput>]>('verifyRectification');
export const getTaskQuery = defineQuery<TaskState>('getTask');
/** From a case to its live tasks when the case is withdrawn. */
export const withdrawTaskSignal = defineSignal<[Command<WithdrawInput>]>('withdrawTask');
