import type { FastifyInstance } from 'fastify';
import { isPageLanguage, languageCookie } from '../i18n';
import type { PageKit } from '../plugin';

/** A path on this site to go back to (never another site: `//host` or `/\host` are refused). */
export function localPath(value: unknown, fallback: string): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s]*$/.test(value) ? value : fallback;
}

/** The language switch: `/lang/en?next=/report` keeps the choice in a cookie and goes back. */
export function languageRoutes(kit: PageKit) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Params: { lang: string }; Querystring: { next?: string } }>('/lang/:lang', { schema: { hide: true } }, async (request, reply) => {
      const next = localPath(request.query.next, '/report');
      if (isPageLanguage(request.params.lang)) {
        void reply.setCookie(languageCookie, request.params.lang, { ...kit.cookieOptions, maxAge: 365 * 24 * 3600 });
      }
      return reply.header('cache-control', 'no-store').redirect(next, 303);
    });
  };
}
