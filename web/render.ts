import path from 'node:path';
import { Eta } from 'eta';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { projectRoot } from '../scripts/binaries';
import type { PageAssets } from './assets';
import { displayInstant, languageOf, type PageLanguage, translator, type Translate } from './i18n';
import type { WebUser } from './session';

let engine: Eta | undefined;

/** The templates under templates/web, escaping every value unless written with `<%~`. */
function eta(): Eta {
  engine ??= new Eta({ views: path.join(projectRoot(), 'templates', 'web'), autoEscape: true, cache: true });
  return engine;
}

/** What every page knows: its language and messages, the office, the assets and the way to the other language. */
export interface PageContext {
  readonly lang: PageLanguage;
  readonly t: Translate;
  readonly officeName: string;
  readonly assets: PageAssets;
  /** The page's path, to come back to after switching language. */
  readonly path: string;
  readonly switchHref: string;
  readonly otherLang: PageLanguage;
  /** An instant shown in the office's zone. */
  readonly when: (iso: string) => { iso: string; text: string };
  /** The signed-in user of a staff page (the header shows their links and the sign-out button). */
  readonly user: WebUser | undefined;
}

export interface PageSite {
  readonly officeName: string;
  readonly assets: PageAssets;
  readonly timeZone: string;
}

/** The context of a page for this request. */
export function pageContext(site: PageSite, request: FastifyRequest): PageContext {
  const lang = languageOf(request);
  const otherLang: PageLanguage = lang === 'en' ? 'zh-CN' : 'en';
  const here = request.url.split('?')[0] ?? '/';
  return {
    lang,
    t: translator(lang),
    officeName: site.officeName,
    assets: site.assets,
    path: here,
    otherLang,
    switchHref: `/lang/${otherLang}?next=${encodeURIComponent(here)}`,
    when: (iso) => displayInstant(iso, site.timeZone),
    user: request.webUser,
  };
}

/** Renders `view` (a template under templates/web) with the page context and sends it as HTML. */
export function sendPage(reply: FastifyReply, context: PageContext, view: string, data: Record<string, unknown>, status = 200): FastifyReply {
  // A signed-in user's header carries the sign-out form, with its CSRF token.
  const signOutCsrf = context.user ? reply.generateCsrf() : undefined;
  const html = eta().render(`./${view}`, { ...data, page: context, signOutCsrf });
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-language', context.lang)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('x-frame-options', 'DENY')
    .send(html);
}
