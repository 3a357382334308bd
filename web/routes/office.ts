import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { caseSources, openCaseRequestSchema, severities } from '../../domain/case.schema';
import { DomainError } from '../../domain/errors';
import { fieldIssues } from '../../domain/validation';
import { UploadQuotaExceeded } from '../../services/evidence.store';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { actorOfUser, type WebUser } from '../session';
import { givenOf, locationOfForm } from '../form-values';
import { errorsOf, type FieldErrors, filesOf, formOf, readStaffForm, requireOffice, storePhotos } from '../staff';
import { reportCategories } from './report';

/** The fields of the form that opens a case, as the page names them. */
const caseFields = [
  'title',
  'description',
  'category',
  'severity',
  'source',
  'leadDepartment',
  'cooperatingDepartments',
  'address',
  'lat',
  'lng',
  'dueDate',
] as const;

/** The case the form describes, as POST /api/v1/cases takes it (without its photos). */
export function caseOfForm(values: Record<string, string>, cooperating: readonly string[]): Record<string, unknown> {
  const given = givenOf(values);
  const location = locationOfForm(given);
  return {
    title: values.title ?? '',
    description: values.description ?? '',
    category: values.category ?? '',
    severity: values.severity ?? '',
    source: values.source ?? '',
    leadDepartment: values.leadDepartment ?? '',
    cooperatingDepartments: cooperating.filter((c) => c !== '' && c !== values.leadDepartment),
    ...(location ? { location } : {}),
    ...(given('dueDate') ? { dueDate: given('dueDate') } : {}),
  };
}

/**
 * The office's pages: the dashboard of open work and the form that opens a case (交办) with its
 * location and photos. A department never sees them (404, as if they did not exist).
 */
export function officeRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const officeUser = (request: FastifyRequest, reply: FastifyReply) => requireOffice(kit, deps, request, reply);

    app.get('/office', { schema: { hide: true } }, async (request, reply) => {
      if (!(await officeUser(request, reply))) return reply;
      const [board, departments] = await Promise.all([deps.workbench.dashboard(), deps.departments.list()]);
      const names = Object.fromEntries(departments.map((d) => [d.code, d.name]));
      return sendPage(reply, pageContext(kit.site, request), 'office', { board, names });
    });

    const showNewCase = async (
      request: FastifyRequest,
      reply: FastifyReply,
      user: WebUser,
      state: { values?: Record<string, string>; cooperating?: string[]; errors?: FieldErrors; status?: number; formToken?: string } = {},
    ) => {
      const departments = (await deps.departments.list()).filter((d) => d.active);
      return sendPage(
        reply,
        pageContext(kit.site, request),
        'case-new',
        {
          csrf: reply.generateCsrf(),
          formToken: state.formToken ?? deps.formTokens.issue(formOf(user)),
          values: state.values ?? { severity: 'general', source: 'inspection' },
          cooperating: state.cooperating ?? [],
          errors: state.errors ?? {},
          departments,
          categories: reportCategories,
          severities,
          sources: caseSources,
        },
        state.status,
      );
    };

    app.get('/cases/new', { schema: { hide: true } }, async (request, reply) => {
      const user = await officeUser(request, reply);
      if (!user) return reply;
      return showNewCase(request, reply, user);
    });

    app.post('/cases/new', { schema: { hide: true } }, async (request, reply) => {
      // Who asks first: nobody unknown makes the server read (and hold) a body.
      const user = await officeUser(request, reply);
      if (!user) return reply;
      const form = await readStaffForm(request);
      const context = pageContext(kit.site, request);
      if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: '/cases/new' }, 403);
      const cooperating = form.lists.cooperatingDepartments ?? [];
      const again = (errors: FieldErrors, status: number) =>
        showNewCase(request, reply, user, { values: form.values, cooperating, errors, status, formToken: form.values.formToken });
      const claim = await deps.formTokens.claim(formOf(user), form.values.formToken ?? '');
      if (claim.state === 'invalid') return showNewCase(request, reply, user, { values: form.values, cooperating, errors: { form: context.t('staff.expired') }, status: 400 });
      if (claim.state === 'done') return reply.redirect(claim.result, 303);
      const known = [...caseFields, 'photos'];
      try {
        if (form.photoError) {
          await deps.formTokens.release(claim.claim);
          return await again({ photos: context.t('staff.photosTooMany') }, 422);
        }
        const input = caseOfForm(form.values, cooperating);
        // The fields first, so that no photo is stored for a form to correct.
        const checked = openCaseRequestSchema.safeParse(input);
        if (!checked.success) {
          await deps.formTokens.release(claim.claim);
          const issues = fieldIssues(checked.error);
          return await again(errorsOf(new DomainError('invalid_input', context.t('staff.errorSummary'), issues), known, context.lang), 422);
        }
        const evidence = await storePhotos(deps, user, form.photos);
        const opened = await deps.cases.openCase({ ...input, evidence }, actorOfUser(user), { resolveFile: filesOf(deps, user) });
        const location = `/cases/${opened.caseId}`;
        await deps.formTokens.complete(claim.claim, location);
        return reply.redirect(location, 303);
      } catch (error) {
        await deps.formTokens.release(claim.claim);
        if (error instanceof UploadQuotaExceeded) return again({ photos: context.t('error.rateLimited') }, 429);
        if (error instanceof DomainError && error.code !== 'not_found') {
          return again(errorsOf(error, known, context.lang), error.code === 'invalid_input' ? 422 : 409);
        }
        throw error;
      }
    });
  };
}
