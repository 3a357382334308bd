/**
 * Every message the case and task workflows accept, defined once; clients import these.
 * Updates answer yes or no synchronously (validators reject bad commands before anything
 * changes); queries read state; signals are internal, from a case to its tasks.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { JournalPosition } from './journal';
import type { CaseState } from '../domain/case.machine';
import type { Alarm } from '../domain/alarm.plan';
import type {
  AcknowledgeInput,
  Actor,
  AssignResponsiblePersonInput,
  ExtensionDecisionInput,
  ExtensionRequestInput,
  ProgressInput,
  ReassignInput,
  ResumeInput,
  SubmitInput,
  SuspendInput,
  TransferRejectionInput,
  TransferRequestInput,
  VerifyInput,
  WithdrawInput,
} from '../domain/case.schema';
import type { AnswerInput, FollowUpDecisionInput, RateInput } from '../domain/follow-up';
import type { TaskState } from '../domain/task.machine';

/** A task as its workflow knows it, with what falls due next. */
export type TaskSnapshot = TaskState & { readonly next: Alarm | null };

/** A command as sent to a workflow: who acts, and the command's own input. */
export type Command<I> = { actor: Actor } & I;

// Both: the read model's journal (workflows/journal.ts, docs/reliability.md).
/** Where the workflow's journal stands as the server has recorded it. */
export const journalPositionQuery = defineQuery<JournalPosition>('journalPosition');
/**
 * Write the current state to the read model again (a snapshot, no event): sent when the read model
 * holds writes past what the server recorded and no workflow task is under way, i.e. an attempt
 * that died wrote them and its retry wrote nothing; the new write voids them.
 */
export const resyncJournalSignal = defineSignal('resyncJournal');

// The case workflow (workflow id = case id).
/** Answers once the opened case is recorded in the read model (used with update-with-start). */
export const caseOpenedUpdate = defineUpdate<CaseState>('caseOpened');
export const withdrawCaseUpdate = defineUpdate<CaseState, [Command<WithdrawInput>]>('withdrawCase');
export const getCaseQuery = defineQuery<CaseState>('getCase');
/** 改派: the office moves a live task to another department, which gets a fresh task. */
export const reassignTaskUpdate = defineUpdate<CaseState, [Command<ReassignInput>]>('reassignTask');
/** 答复: the office answers the complainant of a closed complaint case, choosing the after-photos shown. */
export const answerCaseUpdate = defineUpdate<CaseState, [Command<AnswerInput>]>('answerCase');
/** 回访: the complainant rates the answer, once, within the window. */
export const rateCaseUpdate = defineUpdate<CaseState, [Command<RateInput>]>('rateCase');
/** The office upholds a 不满意 (重办: a new task) or dismisses it. */
export const decideFollowUpUpdate = defineUpdate<CaseState, [Command<FollowUpDecisionInput>]>('decideFollowUp');

// The task workflow (workflow id = task id).
export const acknowledgeTaskUpdate = defineUpdate<TaskSnapshot, [Command<AcknowledgeInput>]>('acknowledgeTask');
/** 指定责任人: the office or the task's department names the person who owns the task. */
export const assignResponsiblePersonUpdate = defineUpdate<TaskSnapshot, [Command<AssignResponsiblePersonInput>]>(
  'assignResponsiblePerson',
);
export const reportProgressUpdate = defineUpdate<TaskSnapshot, [Command<ProgressInput>]>('reportProgress');
export const submitRectificationUpdate = defineUpdate<TaskSnapshot, [Command<SubmitInput>]>('submitRectification');
export const verifyRectificationUpdate = defineUpdate<TaskSnapshot, [Command<VerifyInput>]>('verifyRectification');
export const requestExtensionUpdate = defineUpdate<TaskSnapshot, [Command<ExtensionRequestInput>]>('requestExtension');
export const decideExtensionUpdate = defineUpdate<TaskSnapshot, [Command<ExtensionDecisionInput>]>('decideExtension');
export const requestTransferUpdate = defineUpdate<TaskSnapshot, [Command<TransferRequestInput>]>('requestTransfer');
export const rejectTransferUpdate = defineUpdate<TaskSnapshot, [Command<TransferRejectionInput>]>('rejectTransfer');
export const suspendTaskUpdate = defineUpdate<TaskSnapshot, [Command<SuspendInput>]>('suspendTask');
export const resumeTaskUpdate = defineUpdate<TaskSnapshot, [Command<ResumeInput>]>('resumeTask');
export const getTaskQuery = defineQuery<TaskSnapshot>('getTask');
/** From a case to its live tasks when the case is withdrawn. */
export const withdrawTaskSignal = defineSignal<[Command<WithdrawInput>]>('withdrawTask');
/** From a case to a task it moves to another department. */
export const transferTaskSignal = defineSignal<[Command<{ toDepartment: string; toTaskId: string; reason: string }>]>(
  'transferTask',
);
