import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../api/errors';
import type { Client } from '@temporalio/client';
import type { BulletinService } from '../services/bulletin.service';
import type { CaseService } from '../services/case.service';
import type { ComplaintService } from '../services/complaint.service';
import type { DepartmentService } from '../services/department.service';
import type { EvidenceService } from '../services/evidence.service';
import type { FormTokenService } from '../services/form-token.service';
import type { PeopleService } from '../services/people.service';
import type { TokenService } from '../services/token.service';
import type { WorkbenchService } from '../services/workbench.service';
import { installPageAssets } from './assets';
import { loadCatalogues } from './i18n';
import { pageContext, type PageSite, sendPage } from './render';
import { languageRoutes } from './routes/language';
import { bulletinRoutes } from './routes/bulletins';
import { caseRoutes } from './routes/cases';
import { complaintRoutes } from './routes/complaints';
import { directoryRoutes } from './routes/directory';
import { inboxRoutes } from './routes/inbox';
import { officeRoutes } from './routes/office';
import { reportRoutes } from './routes/report';
import { signInRoutes } from './routes/signin';
import { trackRoutes } from './routes/track';
import type { Sessions } from './session';

export interface WebDeps {
  readonly complaints: ComplaintService;
  readonly evidence: EvidenceService;
  readonly formTokens: FormTokenService;
  /** The staff's pages: sessions by API token, cases and tasks, people, the read views. */
  readonly sessions: Sessions;
  readonly cases: CaseService;
  readonly people: PeopleService;
  readonly departments: DepartmentService;
  readonly workbench: WorkbenchService;
  /** The office's token pages (list, create, revoke). */
  readonly tokens: TokenService;
  /** The office's bulletin pages: drafts, decisions, approval. */
  readonly bulletins: BulletinService;
  /** "Draft now" runs the bulletinDraftWorkflow, as POST /api/v1/bulletins does. */
  readonly bulletinDrafts: { readonly client: Client; readonly taskQueue: string; readonly periodKind: 'week' | 'month' };
  readonly timeZone: string;
  readonly officeName: string;
  /** Where the public reaches the pages; https there makes every cookie Secure. */
  readonly publicUrl?: string | undefined;
}

/** The cookie holding the CSRF secret (the forms carry tokens made from it). */
export const csrfCookie = 'duban_csrf';

/** What the pages' form handlers share: the site, cookie options and the CSRF check. */
export interface PageKit {
  readonly site: PageSite;
  readonly cookieOptions: { path: string; sameSite: 'lax'; httpOnly: true; secure: boolean };
  /** Whether the request's body carries a valid `_csrf` token for the visitor's CSRF cookie. */
  readonly csrfValid: (request: FastifyRequest) => Promise<boolean>;
}

/**
 * The web pages (server-rendered Eta templates with htmx, no build step), served by the API's own
 * process: the public's complaint form (/report) and tracking page (/track), with the language
 * switch (/lang/…) and their assets (/assets/…). None of them is an API operation: they are hidden
 * from the OpenAPI document. Forms are protected against cross-site posting by a double-submit
 * CSRF token (@fastify/csrf-protection, the secret in an HttpOnly SameSite=Lax cookie).
 */
export function webPages(deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    loadCatalogues();
    const secure = deps.publicUrl?.startsWith('https:') ?? false;
    const cookieOptions = { path: '/', sameSite: 'lax', httpOnly: true, secure } as const;
    await app.register(cookie);
    await app.register(csrf, {
      cookieKey: csrfCookie,
      cookieOpts: cookieOptions,
      // Only the form's own field: a header would need a script, and the pages send plain forms.
      getToken: (request: FastifyRequest) => {
        const token = (request.body as Record<string, unknown> | undefined)?._csrf;
        return typeof token === 'string' ? token : '';
      },
    });
    const site: PageSite = { officeName: deps.officeName, assets: installPageAssets(app), timeZone: deps.timeZone };
    const kit: PageKit = {
      site,
      cookieOptions,
      // The plugin answers a failed check itself; here it is a yes or no for the page to answer.
      csrfValid: (request) =>
        new Promise((resolve) => {
          const refuse = { send: () => resolve(false) } as unknown as FastifyReply;
          app.csrfProtection(request, refuse, () => resolve(true));
        }),
    };

    // A page's failure is a page too, in the visitor's language, never the API's JSON.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const context = pageContext(site, request);
      const status = error instanceof HttpError && error.code === 'rate_limited' ? 429 : (error.statusCode ?? 500);
      if (status >= 500) request.log.error({ err: error }, 'page failed');
      if (error instanceof HttpError) void reply.headers(error.headers);
      const message =
        status === 429 ? context.t('error.rateLimited') : status === 403 ? context.t('error.csrf') : context.t('error.generic');
      return sendPage(reply, context, 'error', { message, back: context.path }, status >= 400 ? status : 500);
    });

    await app.register(languageRoutes(kit));
    await app.register(reportRoutes(kit, deps));
    await app.register(trackRoutes(kit, deps));
    await app.register(signInRoutes(kit, deps));
    await app.register(inboxRoutes(kit, deps));
    await app.register(officeRoutes(kit, deps));
    await app.register(caseRoutes(kit, deps));
    await app.register(complaintRoutes(kit, deps));
    await app.register(directoryRoutes(kit, deps));
    await app.register(bulletinRoutes(kit, deps));
  };
}
