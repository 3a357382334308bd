import fs from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { projectRoot } from '../scripts/binaries';

/** The languages of the pages: zh-CN first (the default), English on request. */
export const pageLanguages = ['zh-CN', 'en'] as const;
export type PageLanguage = (typeof pageLanguages)[number];

/** The cookie that keeps the language a visitor chose. */
export const languageCookie = 'lang';

export type Catalogue = Readonly<Record<string, string>>;

let catalogues: Record<PageLanguage, Catalogue> | undefined;

/** The message catalogues (web/messages/<lang>.json), read once; every key is in both. */
export function loadCatalogues(): Record<PageLanguage, Catalogue> {
  if (catalogues) return catalogues;
  const read = (lang: PageLanguage) =>
    JSON.parse(fs.readFileSync(path.join(projectRoot(), 'web', 'messages', `${lang}.json`), 'utf8')) as Catalogue;
  const loaded = { 'zh-CN': read('zh-CN'), en: read('en') };
  const missing = Object.keys(loaded['zh-CN']).filter((key) => !(key in loaded.en));
  const extra = Object.keys(loaded.en).filter((key) => !(key in loaded['zh-CN']));
  if (missing.length + extra.length > 0) throw new Error(`web/messages: keys not in both catalogues: ${[...missing, ...extra].join(', ')}`);
  catalogues = loaded;
  return loaded;
}

export const isPageLanguage = (value: unknown): value is PageLanguage => (pageLanguages as readonly unknown[]).includes(value);

/** The page's language: `?lang=`, else the `lang` cookie, else zh-CN. */
export function languageOf(request: FastifyRequest): PageLanguage {
  const query = (request.query as Record<string, unknown> | undefined)?.lang;
  if (isPageLanguage(query)) return query;
  const cookie = request.cookies[languageCookie];
  return isPageLanguage(cookie) ? cookie : 'zh-CN';
}

/** Looks a message up by key and fills its `{name}` placeholders; a missing key is a fault. */
export type Translate = (key: string, params?: Readonly<Record<string, string | number>>) => string;

export function translator(lang: PageLanguage): Translate {
  const catalogue = loadCatalogues()[lang];
  return (key, params = {}) => {
    const message = catalogue[key];
    if (message === undefined) throw new Error(`web/messages/${lang}.json has no message ${key}`);
    return message.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/**
 * The part of a bilingual domain message ("中文 / English", as DomainError messages and field
 * issues are written) in the page's language; a message without both parts comes back whole.
 */
export function inLanguage(message: string, lang: PageLanguage): string {
  const at = message.indexOf(' / ');
  if (at === -1) return message;
  return lang === 'en' ? message.slice(at + 3) : message.slice(0, at);
}

/** An instant as a page shows it in the office's zone: the local date and time, and the offset. */
export function displayInstant(iso: string, zone: string): { iso: string; text: string } {
  const dt = DateTime.fromISO(iso, { zone });
  return { iso, text: dt.isValid ? dt.toFormat('yyyy-MM-dd HH:mm') : iso };
}
