import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { severities } from '../../domain/case.schema';
import { DomainError } from '../../domain/errors';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { actorOfUser, type WebUser } from '../session';
import { type FailedForm, formOf, officeCommand, requireOffice, type StaffForm } from '../staff';
import { shownEvidence } from './cases';
import { reportCategories } from './report';

/** The fields of the triage forms, as the page names them. */
const convertFields = ['title', 'category', 'severity', 'leadDepartment', 'cooperatingDepartments', 'dueDate'] as const;
const dismissFields = ['duplicateOf', 'reason'] as const;

const caseIdPattern = /^DB-\d{4}-\d{6,}$/;

/**
 * The reason a dismissal as a duplicate records (the public reads it on the tracking page): the
 * case it repeats, or only that it repeats another complaint, then the office's own words if any.
 * Never the other complaint's tracking code: that code is its complainant's only credential.
 */
export function duplicateReason(caseId: string | null, reason: string): string {
  const head = caseId ? `重复投诉，同案件 ${caseId} / duplicate of case ${caseId}` : '重复投诉 / a duplicate of another complaint';
  return reason.trim() === '' ? head : `${head}: ${reason.trim()}`;
}

/**
 * 投诉分拣: the office's triage of the public's complaints, through the complaint service as
 * POST /api/v1/complaints/{code}/conversion and /dismissal do. Converting opens a case (title in
 * the office's words, category, severity, lead and cooperating departments); dismissing records a
 * reason the public sees. There is no merge in the services: "merge duplicates" is a dismissal
 * naming the complaint or case the complaint repeats (checked to exist), so that the public
 * follows that one.
 */
export function complaintRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const show = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, failed?: FailedForm, status = 200) => {
      const [complaints, departments] = await Promise.all([deps.complaints.listForOffice({ states: ['received'], limit: 100 }), deps.departments.list()]);
      const active = departments.filter((d) => d.active).map((d) => ({ value: d.code, label: `${d.name} (${d.code})` }));
      return sendPage(
        reply,
        pageContext(kit.site, request),
        'complaints',
        {
          complaints,
          departments: active,
          categories: reportCategories,
          severities,
          csrf: reply.generateCsrf(),
          token: () => deps.formTokens.issue(formOf(user)),
          failed,
          shown: shownEvidence,
        },
        status,
      );
    };

    app.get('/office/complaints', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      if (!user) return reply;
      return show(request, reply, user);
    });

    /** A complaint the office may triage (404 otherwise, as the API answers an unknown code). */
    /** The complaint `code` as the office sees it, or undefined when there is none. */
    const complaintOf = async (code: string) => {
      try {
        return await deps.complaints.officeView(code);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') return undefined;
        throw error;
      }
    };

    const convert = async (code: string, form: StaffForm, user: WebUser): Promise<string> => {
      const v = form.values;
      const given = (name: string) => v[name]?.trim() || undefined;
      const converted = await deps.complaints.convert(
        code,
        {
          title: v.title ?? '',
          category: v.category ?? '',
          severity: v.severity ?? '',
          leadDepartment: v.leadDepartment ?? '',
          cooperatingDepartments: (form.lists.cooperatingDepartments ?? []).filter((c) => c !== '' && c !== v.leadDepartment),
          ...(given('dueDate') ? { dueDate: given('dueDate') } : {}),
        },
        actorOfUser(user),
      );
      return converted.case ? `/cases/${converted.case.id}` : '/office/complaints';
    };

    const dismiss = async (code: string, form: StaffForm, user: WebUser): Promise<string> => {
      const reason = form.values.reason ?? '';
      const of = form.values.duplicateOf?.trim().toUpperCase() ?? '';
      if (of === '') {
        await deps.complaints.dismiss(code, { reason });
        return '/office/complaints';
      }
      // The complaint or case it repeats must exist (and be another one).
      let known = false;
      let caseId: string | null = null;
      if (of !== code && caseIdPattern.test(of)) {
        known = await deps.cases.getCase(of, actorOfUser(user)).then(
          () => true,
          (error: unknown) => {
            if (error instanceof DomainError && error.code === 'not_found') return false;
            throw error;
          },
        );
        caseId = of;
      } else if (of !== code) {
        const other = await complaintOf(of);
        known = other !== undefined;
        caseId = other?.case?.id ?? null;
      }
      if (!known) {
        throw new DomainError('invalid_input', `没有投诉或案件 ${of} / no other complaint or case ${of}`, [
          { path: 'duplicateOf', message: `没有其他投诉或案件 ${of} / no other complaint or case ${of}` },
        ]);
      }
      await deps.complaints.dismiss(code, { reason: duplicateReason(caseId, reason) });
      return '/office/complaints';
    };

    app.post<{ Params: { code: string; action: string } }>('/office/complaints/:code/:action', { schema: { hide: true } }, async (request, reply) => {
      const { code, action } = request.params;
      if (action !== 'convert' && action !== 'dismiss') {
        const user = await requireOffice(kit, deps, request, reply);
        return user ? reply.callNotFound() : reply;
      }
      return officeCommand(kit, deps, request, reply, {
        formId: `${action}-${code}`,
        known: action === 'convert' ? convertFields : dismissFields,
        back: '/office/complaints',
        act: async (form, user) => {
          if (!(await complaintOf(code))) throw new DomainError('invalid_state', `没有投诉 ${code} / no complaint ${code}`);
          return action === 'convert' ? convert(code, form, user) : dismiss(code, form, user);
        },
        show: (user, failed, status) => show(request, reply, user, failed, status),
      });
    });
  };
}
