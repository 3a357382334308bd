import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { sessionCookie, sessionMaxAgeSeconds, type WebUser } from '../session';
import { requireUser } from '../staff';
import { localPath } from './language';

/** Where a user lands after signing in: their inbox (a department) or the dashboard (the office). */
export const homeOf = (user: WebUser) => (user.role === 'office' ? '/office' : '/inbox');

/**
 * Signing in with one's API token (the same bearer token as the API), and out. The session is a
 * sealed HttpOnly cookie (web/session.ts); both forms are CSRF-checked.
 */
export function signInRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const showForm = (request: FastifyRequest, reply: FastifyReply, next: string, error?: string, status = 200) =>
      sendPage(reply, pageContext(kit.site, request), 'signin', { csrf: reply.generateCsrf(), next, error }, status);

    app.get<{ Querystring: { next?: string } }>('/signin', { schema: { hide: true } }, async (request, reply) => {
      const next = localPath(request.query.next, '');
      const user = await deps.sessions.userOf(request);
      if (user) return reply.redirect(next || homeOf(user), 303);
      return showForm(request, reply, next);
    });

    app.post('/signin', { schema: { hide: true } }, async (request, reply) => {
      const context = pageContext(kit.site, request);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const next = localPath(body.next, '');
      if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: '/signin' }, 403);
      const token = typeof body.token === 'string' ? body.token : '';
      if (token.trim() === '') return showForm(request, reply, next, context.t('signin.tokenMissing'), 422);
      const signedIn = await deps.sessions.signIn(token);
      if (!signedIn) return showForm(request, reply, next, context.t('signin.tokenInvalid'), 401);
      void reply.setCookie(sessionCookie, signedIn.cookie, { ...kit.cookieOptions, maxAge: sessionMaxAgeSeconds });
      return reply.header('cache-control', 'no-store').redirect(next || homeOf(signedIn.user), 303);
    });

    app.post('/signout', { schema: { hide: true } }, async (request, reply) => {
      const context = pageContext(kit.site, request);
      if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: '/' }, 403);
      void reply.clearCookie(sessionCookie, kit.cookieOptions);
      return reply.header('cache-control', 'no-store').redirect('/signin?out=1', 303);
    });

    // The staff's front door: their home when signed in, else the sign-in page.
    app.get('/staff', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireUser(kit, deps, request, reply);
      if (!user) return reply;
      return reply.redirect(homeOf(user), 303);
    });
  };
}
