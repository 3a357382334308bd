import crypto from 'node:crypto';
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { CaseState } from '../domain/case.machine';
import {
  type Actor,
  acknowledgeRequestSchema,
  actorSchema,
  assignResponsiblePersonRequestSchema,
  extensionDecisionInputSchema,
  extensionRequestInputSchema,
  reassignInputSchema,
  resumeInputSchema,
  suspendInputSchema,
  transferRejectionInputSchema,
  transferRequestInputSchema,
  type CaseDetails,
  caseDetailsSchema,
  leadNotCooperating,
  openCaseRequestSchema,
  progressRequestSchema,
  submitRequestSchema,
  verifyInputSchema,
  withdrawInputSchema,
} from '../domain/case.schema';
import { caseIdSchema } from '../domain/case-id';
import { answerInputSchema, followUpDecisionInputSchema, type RateInput, rateInputSchema } from '../domain/follow-up';
import { DomainError, type FieldIssue } from '../domain/errors';
import type { ResponsiblePerson } from '../domain/person-id';
import { checkResponsiblePersonAssigner, isTaskFinished } from '../domain/task.machine';
import { dueInstant, yearIn } from '../domain/time';
import { parseInput } from '../domain/validation';
import type { CaseView, TaskView } from '../db/case.mapper';
import { type CaseFilter, findCase, findCaseRows, listCaseKeys, listCases, listCaseTasks, reserveCaseId, sortKeyOf } from '../db/case.repository';
import type { Db } from '../db/database';
import { findComplaint } from '../db/complaint.repository';
import { findDepartments } from '../db/department.repository';
import { findFollowUp, type FollowUpView } from '../db/follow-up.repository';
import { listCaseEvents, type TimelineEntry } from '../db/event.repository';
import {
  acknowledgeTaskUpdate,
  answerCaseUpdate,
  assignResponsiblePersonUpdate,
  caseOpenedUpdate,
  type Command,
  decideFollowUpUpdate,
  getCaseQuery,
  rateCaseUpdate,
  reportProgressUpdate,
  submitRectificationUpdate,
  verifyRectificationUpdate,
  withdrawCaseUpdate,
  decideExtensionUpdate,
  reassignTaskUpdate,
  rejectTransferUpdate,
  requestExtensionUpdate,
  requestTransferUpdate,
  resumeTaskUpdate,
  suspendTaskUpdate,
  type TaskSnapshot,
} from '../workflows/messages';
import { caseStartAttributes, caseWorkflow } from '../workflows/case.workflow';
import { type CaseViewCache, createCaseViewCache, withoutComplaintCode } from './case-view.cache';
import { type FileResolver, resolveEvidence } from './evidence.store';
import { createPeopleService, type ResponsiblePersonView } from './people.service';
import { domainErrorFrom } from './temporal-errors';

export interface CaseServiceDeps {
  readonly client: Client;
  readonly db: Db;
  readonly taskQueue: string;
  readonly timeZone: string;
  readonly now?: () => Date;
  /** The views list pages take their cases from (one per process; a fresh one when not given). */
  readonly caseViews?: CaseViewCache;
}

/** Which task of a case a command is for: its id, or the department holding it. */
export interface TaskTarget {
  readonly taskId?: string | undefined;
  readonly department?: string | undefined;
}

export interface CommandOptions {
  /** Makes a retried command take effect once (Temporal update id). */
  readonly requestKey?: string | undefined;
  readonly resolveFile?: FileResolver | undefined;
  /** For a case opened from a complaint: its tracking code. */
  readonly complaintCode?: string | undefined;
}

/** A task as a caller sees it: its responsible person with contact data only for those who may see it. */
export type TaskRecord = Omit<TaskView, 'responsiblePerson'> & { responsiblePerson: ResponsiblePersonView | null };

/** A task as its workflow answers a command, its responsible person shown as to the caller. */
export type TaskAnswer = Omit<TaskSnapshot, 'responsiblePerson'> & { responsiblePerson: ResponsiblePersonView | null };

/** A case with its tasks and its timeline, as `case show` prints it. */
export interface CaseRecord {
  readonly case: CaseView & {
    /** The earliest reminder or rung due next among its tasks. */
    readonly next: (TaskView['next'] & { taskId: string }) | null;
  };
  readonly tasks: TaskRecord[];
  readonly events: TimelineEntry[];
  /** 答复 and 回访 of a case from a complaint, once it has closed; null otherwise. */
  readonly followUp: FollowUpView | null;
}

/**
 * A page cursor: the sort key and case id where the previous page ended, e.g.
 * `2026-11-25T04:00:00.000Z_DB-2026-000123` (`none` for a case without a deadline). Any cursor of
 * this form names a position in every sort order, so a well-formed cursor is never refused.
 */
export const cursorPattern = /^(none|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_(DB-\d{4}-\d{6,})$/;

export function encodeCursor(cursor: { key: string | null; id: string }): string {
  return `${cursor.key ?? 'none'}_${cursor.id}`;
}

/** The position a cursor names; throws `invalid_input` for a string that is not a cursor. */
export function decodeCursor(cursor: string): { key: string | null; id: string } {
  const match = cursorPattern.exec(cursor);
  if (!match) {
    throw new DomainError('invalid_input', 'cursor: 无效的分页游标 / not a page cursor', [
      { path: 'cursor', message: 'not a page cursor (use nextCursor of the previous page)' },
    ]);
  }
  return { key: match[1] === 'none' ? null : match[1]!, id: match[2]! };
}

function omitKey(payload: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _omitted, ...rest } = payload;
  return rest;
}

const noFiles: FileResolver = (reference, field) =>
  Promise.reject(
    new DomainError('invalid_input', `${field}: 此处不能引用文件 ${reference} / files cannot be read here`, [
      { path: field, message: 'file references are not accepted here' },
    ]),
  );

/**
 * What the office and departments do with cases, shared by the CLI and the HTTP API: validates
 * input (nothing changes on bad input), talks to the workflows and reads the read model.
 */
export function createCaseService(deps: CaseServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const caseViews = deps.caseViews ?? createCaseViewCache();
  const people = createPeopleService({ db: deps.db, now });

  /**
   * The case and its tasks, if `viewer` may see it: the office sees every case, a department only
   * the cases where it holds (or held) a task; to anyone else the case does not exist.
   */
  async function requireCase(caseId: string, viewer?: Actor): Promise<{ found: CaseView; tasks: TaskView[] }> {
    const notFound = () => new DomainError('not_found', `案件 ${caseId} 不存在 / case ${caseId} not found`);
    if (!caseIdSchema.safeParse(caseId).success) throw notFound();
    const found = await findCase(deps.db, caseId);
    if (!found) throw notFound();
    const tasks = await listCaseTasks(deps.db, caseId);
    if (viewer?.role === 'department' && !tasks.some((t) => t.department === viewer.department)) throw notFound();
    return { found, tasks };
  }

  /**
   * The task a command is for: by id, else the department's live task, else the only live task,
   * else the only live one that is `wanted` (the one awaiting verification, for instance).
   */
  async function resolveTask(
    caseId: string,
    actor: Actor,
    target: TaskTarget,
    wanted?: (task: TaskView) => boolean,
  ): Promise<TaskView> {
    const { tasks } = await requireCase(caseId, actor);
    if (target.taskId) {
      const task = tasks.find((t) => t.id === target.taskId);
      if (!task) throw new DomainError('not_found', `案件 ${caseId} 没有任务 ${target.taskId} / case ${caseId} has no task ${target.taskId}`);
      return task;
    }
    const department = target.department ?? (actor.role === 'department' ? actor.department : undefined);
    const candidates = tasks.filter((t) => department === undefined || t.department === department);
    const live = candidates.filter((t) => !isTaskFinished(t.status));
    const preferred = wanted ? live.filter(wanted) : [];
    const chosen = preferred.length === 1 ? preferred : live.length > 0 ? live : candidates;
    if (chosen.length === 1 && chosen[0]) return chosen[0];
    if (chosen.length === 0) {
      throw new DomainError(
        'not_found',
        `案件 ${caseId} 没有部门 ${department} 的任务 / case ${caseId} has no task for department ${department}`,
      );
    }
    throw new DomainError(
      'invalid_input',
      `案件 ${caseId} 有多个任务，请指明部门或任务编号 / case ${caseId} has several tasks: name the department or the task`,
      [{ path: 'department', message: 'required when a case has several tasks' }],
    );
  }

  async function runUpdate<I>(
    workflowId: string,
    update: UpdateDefinition<TaskSnapshot, [Command<I>]> | UpdateDefinition<CaseState, [Command<I>]>,
    command: Command<I>,
    what: string,
    options: CommandOptions,
  ) {
    try {
      return await deps.client.workflow
        .getHandle(workflowId)
        .executeUpdate(update as UpdateDefinition<unknown, [Command<I>]>, {
          args: [command],
          ...(options.requestKey ? { updateId: options.requestKey } : {}),
        });
    } catch (error) {
      throw domainErrorFrom(error, what) ?? error;
    }
  }

  /**
   * Sends `update` with `input` to the task `target` picks; `input` may be computed from the task
   * (the rules that need its department). Answers the task as `actor` may see it.
   */
  async function taskCommand<I>(
    caseId: string,
    actor: Actor,
    target: TaskTarget,
    update: UpdateDefinition<TaskSnapshot, [Command<I>]>,
    input: I | ((task: TaskView, by: Actor) => Promise<I>),
    options: CommandOptions,
    wanted?: (task: TaskView) => boolean,
  ): Promise<TaskAnswer> {
    const by = parseInput(actorSchema, actor, 'actor');
    const task = await resolveTask(caseId, by, target, wanted);
    const command = typeof input === 'function' ? await (input as (task: TaskView, by: Actor) => Promise<I>)(task, by) : input;
    const result = (await runUpdate(task.id, update, { ...command, actor }, `任务 ${task.id} / task ${task.id}`, options)) as TaskSnapshot;
    const [responsiblePerson] = await people.responsiblePersonViews([result.responsiblePerson ?? null], by);
    return { ...result, responsiblePerson: responsiblePerson ?? null };
  }

  /**
   * 责任人 `personId` for `task`, named by `by`: the office or the task's own department may name
   * one, and only an active person of the task's department (409 naming `field` otherwise).
   */
  async function responsiblePersonFor(task: TaskView, by: Actor, personId: string, field: string): Promise<ResponsiblePerson> {
    checkResponsiblePersonAssigner(by, task.department, task.id);
    return people.responsiblePersonFor(personId, task.department, field);
  }

  return {
    /** Opens a case (交办) and returns it once it is recorded; the same request key opens it once. */
    async openCase(request: unknown, actor: Actor, options: CommandOptions = {}): Promise<CaseState> {
      const openedBy = parseInput(actorSchema, actor, 'actor');
      if (openedBy.role !== 'office') {
        throw new DomainError('forbidden', '只有督办机构可以交办案件 / only the office may open a case');
      }
      const parsed = parseInput(openCaseRequestSchema, request, 'case');
      const at = now();
      if (parsed.dueDate !== undefined && dueInstant(parsed.dueDate, deps.timeZone) <= at.toISOString()) {
        throw new DomainError('invalid_input', 'dueDate: 限期须晚于现在 / the due date must be in the future', [
          { path: 'dueDate', message: 'must be in the future' },
        ]);
      }
      const codes = [parsed.leadDepartment, ...parsed.cooperatingDepartments];
      const known = new Map((await findDepartments(deps.db, codes)).map((d) => [d.code, d]));
      const missing = codes
        .map((code, i) => ({ code, path: i === 0 ? 'leadDepartment' : `cooperatingDepartments[${i - 1}]` }))
        .filter(({ code }) => !known.get(code)?.active);
      if (missing.length > 0) {
        // Whether a department can take a case is a matter of the current state: 409, naming the field.
        throw new DomainError(
          'invalid_state',
          `部门不存在或已停用 / unknown or inactive department: ${missing.map((m) => m.code).join(', ')}`,
          missing.map((m) => ({ path: m.path, message: `unknown or inactive department ${m.code}` })),
        );
      }
      const twice = leadNotCooperating(parsed);
      if (twice >= 0) {
        throw new DomainError('invalid_input', `部门 ${parsed.leadDepartment} 已是牵头部门 / ${parsed.leadDepartment} leads the case already`, [
          { path: `cooperatingDepartments[${twice}]`, message: 'the lead department is not also a cooperating one' },
        ]);
      }
      const departments = new Set(codes);
      const named = Object.entries(parsed.responsiblePersons ?? {});
      const strangers = named.filter(([code]) => !departments.has(code));
      if (strangers.length > 0) {
        throw new DomainError(
          'invalid_input',
          `责任人所在部门不是本案部门 / responsible persons named for departments outside the case: ${strangers.map(([c]) => c).join(', ')}`,
          strangers.map(([code]) => ({ path: `responsiblePersons.${code}`, message: `${code} is neither the lead nor a cooperating department` })),
        );
      }
      // The same rule as naming one later, for each department at once, every refusal named.
      const responsiblePersons: Record<string, ResponsiblePerson> = {};
      const refusals: FieldIssue[] = [];
      for (const [code, personId] of named) {
        try {
          responsiblePersons[code] = await people.responsiblePersonFor(personId, code, `responsiblePersons.${code}`);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          refusals.push(...error.details);
        }
      }
      if (refusals.length > 0) {
        throw new DomainError('invalid_state', `责任人无效 / ${refusals.map((r) => `${r.path}: ${r.message}`).join('; ')}`, refusals);
      }
      const evidence = await resolveEvidence(parsed.evidence, options.resolveFile ?? noFiles);
      const { responsiblePersons: _named, ...fields } = parsed;
      const details: CaseDetails = parseInput(
        caseDetailsSchema,
        { ...fields, evidence, ...(options.complaintCode ? { complaintCode: options.complaintCode } : {}) },
        'case',
      );
      const requestKey = options.requestKey ?? crypto.randomUUID();
      // The persons named are part of the request (by id, as sent); a request naming none hashes as before.
      const hashed = named.length > 0 ? { details, openedBy, responsiblePersons: parsed.responsiblePersons } : { details, openedBy };
      const hash = crypto.createHash('sha256').update(JSON.stringify(hashed)).digest('hex');
      const caseId = await reserveCaseId(deps.db, {
        key: requestKey,
        hash,
        year: yearIn(at, deps.timeZone),
        now: at.toISOString(),
      });
      const start = new WithStartWorkflowOperation(caseWorkflow, {
        workflowId: caseId,
        taskQueue: deps.taskQueue,
        args: [{ details, openedBy, ...(named.length > 0 ? { responsiblePersons } : {}) }],
        // Indexed from the start, so that the case does not upsert them as its first act.
        typedSearchAttributes: caseStartAttributes(details),
        // A retried open joins the running case; a finished case is never started again.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      try {
        const opened = await deps.client.workflow.executeUpdateWithStart(caseOpenedUpdate, { startWorkflowOperation: start });
        return opened;
      } catch (error) {
        const domain = domainErrorFrom(error, `案件 ${caseId} / case ${caseId}`);
        if (domain?.code === 'conflict') {
          // Opened before, and finished since: the retry's answer is the case as it is.
          return await deps.client.workflow.getHandle(caseId).query(getCaseQuery);
        }
        throw domain ?? error;
      }
    },

    /** 签收: the department takes the task on, naming its responsible person (责任人) if it wishes. */
    async acknowledgeTask(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const { note, responsiblePersonId } = parseInput(acknowledgeRequestSchema, input ?? {}, 'acknowledge');
      return taskCommand(caseId, actor, target, acknowledgeTaskUpdate, async (task, by) => ({
        ...(note !== undefined ? { note } : {}),
        ...(responsiblePersonId !== undefined
          ? { responsiblePerson: await responsiblePersonFor(task, by, responsiblePersonId, 'responsiblePersonId') }
          : {}),
      }), options);
    },

    /** 指定责任人: the office or the task's department names the person of the department who owns the task. */
    async assignResponsiblePerson(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const { personId } = parseInput(assignResponsiblePersonRequestSchema, input, 'responsible person');
      return taskCommand(caseId, actor, target, assignResponsiblePersonUpdate, async (task, by) => ({
        person: await responsiblePersonFor(task, by, personId, 'personId'),
      }), options);
    },

    /** 报告进展: a progress note, optionally with evidence. */
    async reportProgress(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(progressRequestSchema, input, 'progress');
      const evidence = await resolveEvidence(parsed.evidence, options.resolveFile ?? noFiles);
      return taskCommand(caseId, actor, target, reportProgressUpdate, { note: parsed.note, evidence }, options);
    },

    /** 提交整改: the rectification report with its evidence. */
    async submitRectification(
      caseId: string,
      actor: Actor,
      input: unknown,
      target: TaskTarget = {},
      options: CommandOptions = {},
    ) {
      const parsed = parseInput(submitRequestSchema, input, 'submit');
      const evidence = await resolveEvidence(parsed.evidence, options.resolveFile ?? noFiles);
      return taskCommand(caseId, actor, target, submitRectificationUpdate, { report: parsed.report, evidence }, options);
    },

    /** 核查: the office accepts the rectification or sends it back (返工). */
    async verifyRectification(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(verifyInputSchema, input, 'verify');
      return taskCommand(caseId, actor, target, verifyRectificationUpdate, parsed, options, (t) => t.status === 'submitted');
    },

    /** 申请延期: the department asks for more working days, with a reason. */
    async requestExtension(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(extensionRequestInputSchema, input, 'extension');
      return taskCommand(caseId, actor, target, requestExtensionUpdate, parsed, options);
    },

    /** 审批延期: the office approves (possibly fewer days) or denies the pending request. */
    async decideExtension(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(extensionDecisionInputSchema, input, 'extension decision');
      return taskCommand(caseId, actor, target, decideExtensionUpdate, parsed, options, (t) => t.pendingExtension !== null);
    },

    /** 申请转办: the department says the task is not its own, suggesting whose it is. */
    async requestTransfer(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(transferRequestInputSchema, input, 'transfer request');
      return taskCommand(caseId, actor, target, requestTransferUpdate, parsed, options);
    },

    /** 驳回转办: the office keeps the task with its department. */
    async rejectTransfer(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(transferRejectionInputSchema, input, 'transfer rejection');
      return taskCommand(caseId, actor, target, rejectTransferUpdate, parsed, options, (t) => t.pendingTransfer !== null);
    },

    /** 改派: the office moves a live task to another department, which gets a fresh task. */
    async reassignTask(caseId: string, actor: Actor, input: unknown, options: CommandOptions = {}): Promise<CaseState> {
      const by = parseInput(actorSchema, actor, 'actor');
      const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
      const from = raw.taskId === undefined && typeof raw.fromDepartment === 'string' ? raw.fromDepartment : undefined;
      const { fromDepartment: _from, ...rest } = raw;
      // Naming the department instead of the task resolves it (and checks the case is visible).
      const taskId = from ? (await resolveTask(caseId, by, { department: from })).id : raw.taskId;
      const parsed = parseInput(reassignInputSchema, { ...rest, taskId }, 'reassign');
      if (!from) await requireCase(caseId, by);
      const [target] = await findDepartments(deps.db, [parsed.toDepartment]);
      if (!target?.active) {
        throw new DomainError('invalid_state', `部门 ${parsed.toDepartment} 不存在或已停用 / unknown or inactive department`, [
          { path: 'toDepartment', message: `unknown or inactive department ${parsed.toDepartment}` },
        ]);
      }
      const result = await runUpdate(caseId, reassignTaskUpdate, { ...parsed, actor: by }, `案件 ${caseId} / case ${caseId}`, options);
      return result as CaseState;
    },

    /** 挂起: the office stops a task's clock, with a reason. */
    async suspendTask(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(suspendInputSchema, input, 'suspend');
      return taskCommand(caseId, actor, target, suspendTaskUpdate, parsed, options);
    },

    /** 恢复: the clock runs again; the deadlines move on by the working days it was stopped. */
    async resumeTask(caseId: string, actor: Actor, input: unknown, target: TaskTarget = {}, options: CommandOptions = {}) {
      const parsed = parseInput(resumeInputSchema, input ?? {}, 'resume');
      return taskCommand(caseId, actor, target, resumeTaskUpdate, parsed, options, (t) => t.suspension !== null);
    },

    /** 撤销: the office withdraws the whole case with a reason. */
    async withdrawCase(caseId: string, actor: Actor, input: unknown, options: CommandOptions = {}): Promise<CaseState> {
      const parsed = parseInput(withdrawInputSchema, input, 'withdraw');
      await requireCase(caseId, actor);
      const command = { ...parsed, actor: parseInput(actorSchema, actor, 'actor') };
      const result = await runUpdate(caseId, withdrawCaseUpdate, command, `案件 ${caseId} / case ${caseId}`, options);
      return result as CaseState;
    },

    /**
     * 答复: the office answers the complainant of a closed complaint case, showing the after-photos
     * it chooses among the accepted submissions. The answer is shown to whoever holds the tracking
     * code, so it may not contain the complainant's contact data (422 naming `answer`).
     */
    async answerCase(caseId: string, actor: Actor, input: unknown, options: CommandOptions = {}): Promise<CaseState> {
      const parsed = parseInput(answerInputSchema, input, 'answer');
      const by = parseInput(actorSchema, actor, 'actor');
      const { found } = await requireCase(caseId, by);
      const complaint = found.complaintCode ? await findComplaint(deps.db, found.complaintCode) : undefined;
      const contact = complaint ? (JSON.parse(complaint.contact) as Record<string, string | undefined> | null) : null;
      // The language the complainant chose is no secret (and "en" is in many a word).
      const leaked = Object.entries(contact ?? {}).filter(
        ([field, value]) =>
          field !== 'language' && typeof value === 'string' && value.trim().length >= 2 && parsed.answer.includes(value.trim()),
      );
      if (leaked.length > 0) {
        throw new DomainError(
          'invalid_input',
          `answer: 答复公开可见，不得含投诉人的联系方式 / answer: the answer is shown on the public tracking page and must not contain the complainant's ${leaked.map(([k]) => k).join(', ')}`,
          leaked.map(([field]) => ({ path: 'answer', message: `contains the complainant's ${field}` })),
        );
      }
      return (await runUpdate(caseId, answerCaseUpdate, { ...parsed, actor: by }, `案件 ${caseId} / case ${caseId}`, options)) as CaseState;
    },

    /** 回访: the complainant's rating, sent by the complaint service for the holder of the tracking code. */
    async rateCase(caseId: string, input: RateInput, actor: Actor, options: CommandOptions = {}): Promise<CaseState> {
      const parsed = parseInput(rateInputSchema, input, 'rating');
      return (await runUpdate(caseId, rateCaseUpdate, { ...parsed, actor }, `案件 ${caseId} / case ${caseId}`, options)) as CaseState;
    },

    /** The office on a 不满意: uphold (重办, a new task for the department named, the lead by default) or dismiss. */
    async decideFollowUp(caseId: string, actor: Actor, input: unknown, options: CommandOptions = {}): Promise<CaseState> {
      const parsed = parseInput(followUpDecisionInputSchema, input, 'follow-up decision');
      const by = parseInput(actorSchema, actor, 'actor');
      await requireCase(caseId, by);
      if (parsed.decision === 'uphold' && parsed.department !== undefined) {
        const [target] = await findDepartments(deps.db, [parsed.department]);
        if (!target?.active) {
          throw new DomainError('invalid_state', `部门 ${parsed.department} 不存在或已停用 / unknown or inactive department`, [
            { path: 'department', message: `unknown or inactive department ${parsed.department}` },
          ]);
        }
      }
      return (await runUpdate(caseId, decideFollowUpUpdate, { ...parsed, actor: by }, `案件 ${caseId} / case ${caseId}`, options)) as CaseState;
    },

    /** A case with its tasks and full timeline, if `viewer` may see it. */
    async getCase(caseId: string, viewer?: Actor): Promise<CaseRecord> {
      const { found, tasks } = await requireCase(caseId, viewer);
      const events = await listCaseEvents(deps.db, caseId);
      const followUp = (await findFollowUp(deps.db, caseId)) ?? null;
      const next =
        tasks
          .filter((t) => t.next !== null)
          .map((t) => ({ ...t.next!, taskId: t.id }))
          .sort((a, b) => (a.at < b.at ? -1 : 1))[0] ?? null;
      const persons = await people.responsiblePersonViews(
        tasks.map((t) => t.responsiblePerson),
        viewer,
      );
      const shownTasks: TaskRecord[] = tasks.map((t, i) => ({ ...t, responsiblePerson: persons[i] ?? null }));
      if (viewer?.role !== 'department') return { case: { ...found, next }, tasks: shownTasks, events, followUp };
      const ownTasks = new Set(tasks.filter((t) => t.department === viewer.department).map((t) => t.id));
      // The tracking code is the complainant's own key to their complaint: the office sees it,
      // a department (perhaps the one complained about) does not.
      return {
        case: { ...withoutComplaintCode(found), next },
        tasks: shownTasks,
        followUp,
        // Who else was told what is the office's and that department's business: a department
        // sees the notices of its own tasks.
        events: events
          .filter((e) => !e.action.startsWith('notice.') || (e.taskId !== null && ownTasks.has(e.taskId)))
          .map((e) => (e.action === 'case.opened' ? { ...e, payload: omitKey(e.payload, 'complaintCode') } : e)),
      };
    },

    /**
     * One page of cases `viewer` may see (a department: its own), with the cursor of the next
     * page, or null after the last. `cached: false` reads the rows whole and leaves the cache of
     * views alone (an export of every case would otherwise push the lists' views out of it).
     */
    async listCases(
      filter: CaseFilter,
      viewer?: Actor,
      options: { cached?: boolean } = {},
    ): Promise<{ items: CaseView[]; nextCursor: string | null }> {
      const sort = filter.sort ?? '-openedAt';
      const limit = filter.limit ?? 50;
      let department = filter.department;
      if (viewer?.role === 'department') {
        if (department && department !== viewer.department) return { items: [], nextCursor: null };
        department = viewer.department;
      }
      const at = now().toISOString();
      const query = { ...filter, department, sort, limit: limit + 1, now: at };
      const asDepartment = viewer?.role === 'department';
      // The page's ids and revisions, the views from the cache; read again if a row changed in between.
      let items: CaseView[] | undefined;
      if (options.cached !== false) {
        for (let attempt = 0; attempt < 3 && !items; attempt++) {
          items = await caseViews.views(await listCaseKeys(deps.db, query), at, asDepartment, (ids) => findCaseRows(deps.db, ids));
        }
      }
      items ??= (await listCases(deps.db, query)).map((view) => (asDepartment ? withoutComplaintCode(view) : view));
      const page = items.slice(0, limit);
      const last = page.at(-1);
      const nextCursor =
        items.length > limit && last ? encodeCursor({ key: sortKeyOf(last, sort), id: last.id }) : null;
      return { items: page, nextCursor };
    },
  };
}

export type CaseService = ReturnType<typeof createCaseService>;
