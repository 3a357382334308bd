import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fileViewerOf } from '../../api/routes/evidence';
import type { z } from 'zod';
import { type Evidence, progressRequestSchema, submitRequestSchema } from '../../domain/case.schema';
import { parseInput } from '../../domain/validation';
import { DomainError } from '../../domain/errors';
import { isTaskFinished } from '../../domain/task.machine';
import type { TaskView } from '../../db/case.mapper';
import type { CaseRecord } from '../../services/case.service';
import { owedDeadline } from '../../services/workbench.service';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { actorOfUser, type WebUser } from '../session';
import { actOnce, type FieldErrors, filesOf, formOf, notFoundPage, readStaffForm, requireUser, type StaffForm, storePhotos } from '../staff';

/** What a department does on its task from the task page, and the fields of each form. */
const departmentActions = {
  acknowledge: ['note', 'responsiblePersonId'],
  progress: ['note', 'photos'],
  submit: ['report', 'photos'],
  extension: ['workingDays', 'reason'],
  transfer: ['reason', 'suggestedDepartment'],
} as const;
type DepartmentAction = keyof typeof departmentActions;
const isDepartmentAction = (value: string): value is DepartmentAction => Object.hasOwn(departmentActions, value);

/** What the office decides on a task from the case page, and the fields of each form. */
export const officeTaskActions = {
  verify: ['decision', 'comment'],
  extensionDecision: ['decision', 'workingDays', 'comment'],
  transferDecision: ['decision', 'toDepartment', 'comment'],
  reassign: ['toDepartment', 'reason'],
  suspend: ['reason'],
  resume: ['comment'],
} as const;
type OfficeTaskAction = keyof typeof officeTaskActions;
const isOfficeTaskAction = (value: string): value is OfficeTaskAction => Object.hasOwn(officeTaskActions, value);

/**
 * Which decisions the office may take on a task now, from its status and pending requests (the
 * workflow's rules decide in the end): verification of a submission, the pending extension or
 * transfer request, reassignment, suspension or resumption of its clock.
 */
export function officeActionsFor(task: TaskView, caseStatus: string): Exclude<OfficeTaskAction, 'verify'>[] {
  if (caseStatus !== 'open' || isTaskFinished(task.status)) return [];
  const actions: Exclude<OfficeTaskAction, 'verify'>[] = [];
  if (task.pendingExtension) actions.push('extensionDecision');
  if (task.pendingTransfer) actions.push('transferDecision');
  else actions.push('reassign');
  actions.push(task.suspension ? 'resume' : 'suspend');
  return actions;
}

/** A refusal whose paths name the command's fields, renamed to the form's (`reason` → `comment`). */
function renamed(error: unknown, from: string, to: string): unknown {
  if (!(error instanceof DomainError)) return error;
  return new DomainError(
    error.code,
    error.message,
    error.details.map((d) => (d.path === from ? { ...d, path: to } : d)),
  );
}

/** A piece of evidence as a page shows it: a picture (from /files/…) or a link. */
export interface ShownEvidence {
  readonly href: string;
  readonly image: boolean;
  readonly name: string;
}

const evidenceUrl = /\/api\/v1\/evidence\/([0-9a-f]{64})$/;

/** Evidence as the pages show it: stored files through /files/<sha256> (the API's URLs of them too). */
export function shownEvidence(items: readonly (Evidence | Record<string, unknown>)[] | undefined): ShownEvidence[] {
  return (items ?? []).flatMap((raw) => {
    const item = raw as Record<string, unknown>;
    if (typeof item.sha256 === 'string') {
      const mediaType = typeof item.mediaType === 'string' ? item.mediaType : '';
      return [{ href: `/files/${item.sha256}`, image: mediaType.startsWith('image/'), name: typeof item.name === 'string' ? item.name : item.sha256 }];
    }
    if (typeof item.url === 'string') {
      const stored = evidenceUrl.exec(item.url);
      return [stored ? { href: `/files/${stored[1]}`, image: true, name: `${stored[1]!.slice(0, 12)}…` } : { href: item.url, image: false, name: item.url }];
    }
    return [];
  });
}

/** The text an event carries (a comment, a report, a reason …), if any. */
export function eventText(payload: Record<string, unknown>): string | undefined {
  for (const key of ['comment', 'report', 'note', 'reason', 'answer']) {
    const value = payload[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

/** The department's task of a case: its live one, else its latest. */
function ownTask(record: CaseRecord, department: string): TaskView | undefined {
  const own = record.tasks.filter((t) => t.department === department);
  return own.find((t) => !isTaskFinished(t.status)) ?? own.at(-1);
}

/** Which of its forms a department may use on its task now (the workflow's rules decide in the end). */
export function actionsFor(task: TaskView): DepartmentAction[] {
  if (task.suspension || isTaskFinished(task.status)) return [];
  const actions: DepartmentAction[] = [];
  if (task.status === 'assigned') actions.push('acknowledge');
  if (task.status === 'acknowledged' || task.status === 'rework') actions.push('progress', 'submit');
  if (task.status !== 'submitted' && !task.pendingExtension && task.status !== 'assigned') actions.push('extension');
  if (task.status !== 'submitted' && !task.pendingTransfer) actions.push('transfer');
  return actions;
}

/** Stand-ins for the photos a form carries, to check its fields before any photo is stored. */
const placeholders = (form: StaffForm) => form.photos.map(() => ({ url: 'https://photo.invalid/' }));

/** Checks a command's fields as the case service will (no photo is stored for a form to correct). */
function precheck(schema: z.ZodType, input: unknown, what: string): void {
  parseInput(schema, input, what);
}

/** A refused form: which one, what was typed, and the errors at its fields. */
interface Failed {
  readonly action: string;
  readonly taskId: string;
  readonly values: Record<string, string>;
  readonly errors: FieldErrors;
}

/**
 * A case's page: for the office the whole case (timeline, evidence before and after, verification
 * of each submitted task); for a department its own task in the case, with what it may do on it
 * (acknowledge, report progress, submit with photos, ask for more time or a transfer). A
 * department's view is the case service's own (getCase with the department as viewer): another
 * department's case is a 404. Every command goes through the case service as the user, once per form.
 */
export function caseRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const load = async (id: string, user: WebUser): Promise<CaseRecord | undefined> => {
      try {
        return await deps.cases.getCase(id, actorOfUser(user));
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') return undefined;
        throw error;
      }
    };

    const showCase = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, record: CaseRecord, failed?: Failed, status = 200) => {
      const context = pageContext(kit.site, request);
      const departments = await deps.departments.list();
      const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
      const common = {
        record,
        names,
        csrf: reply.generateCsrf(),
        token: () => deps.formTokens.issue(formOf(user)),
        failed,
        before: shownEvidence(record.case.evidence),
        shown: shownEvidence,
        eventText,
        owedDeadline,
        now: new Date().toISOString(),
      };
      if (user.role === 'office') {
        const others = departments.filter((d) => d.active).map((d) => ({ value: d.code, label: `${d.name} (${d.code})` }));
        return sendPage(reply, context, 'case', { ...common, officeActionsFor, others }, status);
      }
      const task = ownTask(record, user.department!);
      if (!task) return notFoundPage(kit, request, reply);
      const people = (await deps.people.listDepartmentPeople(user.department!, actorOfUser(user))).filter((p) => p.active);
      const others = departments.filter((d) => d.active && d.code !== user.department);
      return sendPage(reply, context, 'task', { ...common, task, actions: actionsFor(task), people, others }, status);
    };

    app.get<{ Params: { id: string } }>('/cases/:id', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireUser(kit, deps, request, reply);
      if (!user) return reply;
      const record = await load(request.params.id, user);
      if (!record) return notFoundPage(kit, request, reply);
      return showCase(request, reply, user, record);
    });

    /** The command a form names, as the case service takes it. */
    const commandOf = async (action: string, form: StaffForm, user: WebUser, caseId: string, taskId: string): Promise<void> => {
      const v = form.values;
      const given = (name: string) => v[name]?.trim() || undefined;
      const actor = actorOfUser(user);
      const target = { taskId };
      const resolveFile = filesOf(deps, user);
      switch (action) {
        case 'acknowledge':
          await deps.cases.acknowledgeTask(caseId, actor, { note: given('note'), responsiblePersonId: given('responsiblePersonId') }, target);
          return;
        case 'progress':
          precheck(progressRequestSchema, { note: v.note ?? '', evidence: placeholders(form) }, 'progress');
          await deps.cases.reportProgress(caseId, actor, { note: v.note ?? '', evidence: await storePhotos(deps, user, form.photos) }, target, { resolveFile });
          return;
        case 'submit':
          precheck(submitRequestSchema, { report: v.report ?? '', evidence: placeholders(form) }, 'submit');
          await deps.cases.submitRectification(caseId, actor, { report: v.report ?? '', evidence: await storePhotos(deps, user, form.photos) }, target, { resolveFile });
          return;
        case 'extension': {
          const days = given('workingDays');
          await deps.cases.requestExtension(caseId, actor, { workingDays: days === undefined ? undefined : Number(days), reason: v.reason ?? '' }, target);
          return;
        }
        case 'transfer':
          await deps.cases.requestTransfer(caseId, actor, { reason: v.reason ?? '', suggestedDepartment: given('suggestedDepartment') }, target);
          return;
        case 'extensionDecision': {
          const days = given('workingDays');
          const decision = v.decision === 'approve' || v.decision === 'deny' ? v.decision : undefined;
          if (!decision) throw new DomainError('invalid_input', '请选择审批结论 / choose approve or deny', [{ path: 'decision', message: '请选择 / choose one' }]);
          const input =
            decision === 'approve'
              ? { decision, ...(days === undefined ? {} : { workingDays: Number(days) }), ...(given('comment') ? { comment: given('comment') } : {}) }
              : { decision, ...(given('comment') ? { comment: given('comment') } : {}) };
          await deps.cases.decideExtension(caseId, actor, input, target);
          return;
        }
        case 'transferDecision': {
          if (v.decision === 'reject') {
            await deps.cases.rejectTransfer(caseId, actor, { comment: v.comment ?? '' }, target);
            return;
          }
          if (v.decision !== 'transfer') throw new DomainError('invalid_input', '请选择转办结论 / choose transfer or reject', [{ path: 'decision', message: '请选择 / choose one' }]);
          try {
            await deps.cases.reassignTask(caseId, actor, { taskId, toDepartment: v.toDepartment ?? '', reason: v.comment ?? '' });
          } catch (error) {
            throw renamed(error, 'reason', 'comment');
          }
          return;
        }
        case 'reassign':
          await deps.cases.reassignTask(caseId, actor, { taskId, toDepartment: v.toDepartment ?? '', reason: v.reason ?? '' });
          return;
        case 'suspend':
          await deps.cases.suspendTask(caseId, actor, { reason: v.reason ?? '' }, target);
          return;
        case 'resume':
          await deps.cases.resumeTask(caseId, actor, given('comment') ? { comment: given('comment') } : {}, target);
          return;
        case 'withdraw':
          await deps.cases.withdrawCase(caseId, actor, { reason: v.reason ?? '' });
          return;
        case 'verify': {
          const decision = v.decision === 'accept' || v.decision === 'reject' ? v.decision : undefined;
          if (!decision) throw new DomainError('invalid_input', '请选择核查结论 / choose accept or reject', [{ path: 'decision', message: '请选择 / choose one' }]);
          await deps.cases.verifyRectification(caseId, actor, decision === 'accept' ? { decision, comment: given('comment') } : { decision, comment: v.comment ?? '' }, target);
          return;
        }
      }
    };

    app.post<{ Params: { id: string; taskId: string; action: string } }>(
      '/cases/:id/tasks/:taskId/:action',
      { schema: { hide: true } },
      async (request, reply) => {
        // Who asks first: nobody unknown makes the server read (and hold) a body.
        const user = await requireUser(kit, deps, request, reply);
        if (!user) return reply;
        const form = await readStaffForm(request);
        const context = pageContext(kit.site, request);
        const { id, taskId, action } = request.params;
        if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: `/cases/${id}` }, 403);
        // Office-only commands do not exist for a department, nor a department's for the office.
        const allowed = user.role === 'office' ? isOfficeTaskAction(action) : isDepartmentAction(action);
        const record = allowed ? await load(id, user) : undefined;
        const task = record?.tasks.find((t) => t.id === taskId);
        if (!record || !task || (user.role === 'department' && task.department !== user.department)) return notFoundPage(kit, request, reply);
        const known: readonly string[] = isOfficeTaskAction(action) ? officeTaskActions[action] : departmentActions[action as DepartmentAction];
        const sent = await actOnce(deps, user, form, known, context.lang, context.t, async () => {
          await commandOf(action, form, user, id, taskId);
          return `/cases/${id}#task-${taskId}`;
        });
        if (sent.kind === 'done') return reply.redirect(sent.location, 303);
        const fresh = (await load(id, user)) ?? record;
        return showCase(request, reply, user, fresh, { action, taskId, values: form.values, errors: sent.errors }, sent.status);
      },
    );

    /** 撤销: the office withdraws the whole case, with a reason. */
    app.post<{ Params: { id: string } }>('/cases/:id/withdraw', { schema: { hide: true } }, async (request, reply) => {
      // Who asks first: nobody unknown makes the server read (and hold) a body.
      const user = await requireUser(kit, deps, request, reply);
      if (!user) return reply;
      const form = await readStaffForm(request);
      const context = pageContext(kit.site, request);
      const { id } = request.params;
      if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: `/cases/${id}` }, 403);
      const record = user.role === 'office' ? await load(id, user) : undefined;
      if (!record) return notFoundPage(kit, request, reply);
      const sent = await actOnce(deps, user, form, ['reason'], context.lang, context.t, async () => {
        await commandOf('withdraw', form, user, id, '');
        return `/cases/${id}`;
      });
      if (sent.kind === 'done') return reply.redirect(sent.location, 303);
      const fresh = (await load(id, user)) ?? record;
      return showCase(request, reply, user, fresh, { action: 'withdraw', taskId: '', values: form.values, errors: sent.errors }, sent.status);
    });

    /** An evidence file, to those who may download it through the API (its uploader, those who see a case referring to it). */
    app.get<{ Params: { sha256: string } }>('/files/:sha256', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireUser(kit, deps, request, reply);
      if (!user) return reply;
      if (!/^[0-9a-f]{64}$/.test(request.params.sha256)) return notFoundPage(kit, request, reply);
      let found;
      try {
        found = await deps.evidence.download(fileViewerOf(user), request.params.sha256);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') return notFoundPage(kit, request, reply);
        throw error;
      }
      return reply
        .type(found.file.mediaType)
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
        .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(found.file.name)}`)
        .header('cache-control', 'private, no-cache')
        .send(found.bytes);
    });
  };
}
