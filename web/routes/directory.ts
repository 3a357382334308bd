import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors';
import { departmentRoles } from '../../domain/person.schema';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { actorOfUser, type WebUser } from '../session';
import { actOnce, type FailedForm, formOf, notFoundPage, officeCommand, readStaffForm, requireOffice } from '../staff';

/** A form's optional text field: absent when left empty. */
const optional = (values: Record<string, string>, name: string) => {
  const value = values[name]?.trim();
  return value ? { [name]: value } : {};
};

/**
 * The office's directory pages: departments (list, add), the people of each department (add,
 * roles, remove) and the API tokens (list, create, shown once, revoke), through the department,
 * people and token services as the API's and the CLI's commands do. The office only: a
 * department gets a 404, the public the sign-in page.
 */
export function directoryRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const token = (user: WebUser) => () => deps.formTokens.issue(formOf(user));

    // 部门
    const showDepartments = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, failed?: FailedForm, status = 200) =>
      sendPage(
        reply,
        pageContext(kit.site, request),
        'departments',
        { departments: await deps.departments.list(), csrf: reply.generateCsrf(), token: token(user), failed },
        status,
      );
    app.get('/office/departments', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      return user ? showDepartments(request, reply, user) : reply;
    });
    app.post('/office/departments', { schema: { hide: true } }, async (request, reply) =>
      officeCommand(kit, deps, request, reply, {
        formId: 'department',
        known: ['code', 'name', 'headName', 'email', 'phone'],
        back: '/office/departments',
        act: async (form) => {
          const v = form.values;
          await deps.departments.add({ code: v.code?.trim() ?? '', name: v.name ?? '', ...optional(v, 'headName'), ...optional(v, 'email'), ...optional(v, 'phone') });
          return '/office/departments';
        },
        show: (user, failed, status) => showDepartments(request, reply, user, failed, status),
      }),
    );

    // 人员: the directory of a department
    const department = async (code: string) => (await deps.departments.list()).find((d) => d.code === code);
    const showPeople = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, code: string | undefined, failed?: FailedForm, status = 200) => {
      const departments = await deps.departments.list();
      const chosen = code === undefined ? undefined : departments.find((d) => d.code === code);
      if (code !== undefined && code !== '' && !chosen) return notFoundPage(kit, request, reply);
      const people = chosen ? await deps.people.listDepartmentPeople(chosen.code, actorOfUser(user)) : [];
      return sendPage(
        reply,
        pageContext(kit.site, request),
        'people',
        { departments, chosen, people: people.filter((p) => p.active), roles: departmentRoles, csrf: reply.generateCsrf(), token: token(user), failed },
        status,
      );
    };
    app.get<{ Querystring: { department?: string } }>('/office/people', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      return user ? showPeople(request, reply, user, request.query.department || undefined) : reply;
    });
    app.post<{ Params: { code: string } }>('/office/people/:code', { schema: { hide: true } }, async (request, reply) => {
      const { code } = request.params;
      if (!(await department(code))) {
        const user = await requireOffice(kit, deps, request, reply);
        return user ? notFoundPage(kit, request, reply) : reply;
      }
      return officeCommand(kit, deps, request, reply, {
        formId: 'person',
        known: ['name', 'post', 'phone', 'email', 'roles'],
        back: `/office/people?department=${encodeURIComponent(code)}`,
        act: async (form) => {
          const v = form.values;
          await deps.people.addPerson(
            { department: code },
            { name: v.name ?? '', post: v.post ?? '', ...optional(v, 'phone'), ...optional(v, 'email'), roles: (form.lists.roles ?? []).filter((r) => r !== '') },
          );
          return `/office/people?department=${encodeURIComponent(code)}`;
        },
        show: (user, failed, status) => showPeople(request, reply, user, code, failed, status),
      });
    });
    app.post<{ Params: { id: string; action: string } }>('/office/people/person/:id/:action', { schema: { hide: true } }, async (request, reply) => {
      const { id, action } = request.params;
      let person;
      try {
        person = await deps.people.getPerson(id, undefined);
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'not_found')) throw error;
      }
      const code = person?.department ?? '';
      if (!person || code === '' || (action !== 'roles' && action !== 'remove')) {
        const user = await requireOffice(kit, deps, request, reply);
        return user ? notFoundPage(kit, request, reply) : reply;
      }
      return officeCommand(kit, deps, request, reply, {
        formId: `${action}-${id}`,
        known: ['roles'],
        back: `/office/people?department=${encodeURIComponent(code)}`,
        act: async (form) => {
          if (action === 'roles') await deps.people.setRoles(id, { roles: (form.lists.roles ?? []).filter((r) => r !== '') });
          else await deps.people.deactivatePerson(id);
          return `/office/people?department=${encodeURIComponent(code)}`;
        },
        show: (user, failed, status) => showPeople(request, reply, user, code, failed, status),
      });
    });

    // 令牌
    const showTokens = async (
      request: FastifyRequest,
      reply: FastifyReply,
      user: WebUser,
      state: { failed?: FailedForm; created?: { id: string; token: string; name: string } } = {},
      status = 200,
    ) =>
      sendPage(
        reply,
        pageContext(kit.site, request),
        'tokens',
        {
          tokens: await deps.tokens.list(),
          departments: (await deps.departments.list()).filter((d) => d.active),
          csrf: reply.generateCsrf(),
          token: token(user),
          failed: state.failed,
          created: state.created,
          me: user.tokenId,
        },
        status,
      );
    app.get('/office/tokens', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      if (!user) return reply;
      void reply.header('cache-control', 'no-store');
      return showTokens(request, reply, user);
    });
    // The new token is shown once, in the answer to the form (never again: only its hash is kept).
    app.post('/office/tokens', { schema: { hide: true } }, async (request, reply) => {
      // Who asks first: nobody unknown makes the server read (and hold) a body.
      const user = await requireOffice(kit, deps, request, reply);
      if (!user) return reply;
      const form = await readStaffForm(request);
      const context = pageContext(kit.site, request);
      if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: '/office/tokens' }, 403);
      let created: { id: string; token: string; name: string } | undefined;
      const sent = await actOnce(deps, user, form, ['name', 'role', 'department'], context.lang, context.t, async () => {
        const v = form.values;
        created = await deps.tokens.create({ name: v.name ?? '', role: v.role ?? '', ...(v.role === 'department' ? { department: v.department ?? '' } : {}) });
        return '/office/tokens';
      });
      void reply.header('cache-control', 'no-store');
      if (sent.kind === 'done') return created ? showTokens(request, reply, user, { created }, 201) : reply.redirect(sent.location, 303);
      return showTokens(request, reply, user, { failed: { id: 'token', values: form.values, lists: form.lists, errors: sent.errors } }, sent.status);
    });
    app.post<{ Params: { id: string } }>('/office/tokens/:id/revoke', { schema: { hide: true } }, async (request, reply) =>
      officeCommand(kit, deps, request, reply, {
        formId: `revoke-${request.params.id}`,
        known: [],
        back: '/office/tokens',
        act: async () => {
          try {
            await deps.tokens.revoke(request.params.id);
          } catch (error) {
            // Revoked already (or unknown): said at the form, not a missing page.
            if (error instanceof DomainError && error.code === 'not_found') throw new DomainError('invalid_state', error.message);
            throw error;
          }
          return '/office/tokens';
        },
        show: (user, failed, status) => showTokens(request, reply, user, { failed }, status),
      }),
    );
  };
}
