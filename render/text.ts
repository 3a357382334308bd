/**
 * Text as the public renderings show it: every string of a bulletin is untrusted (case titles,
 * reasons, department names), so it is cleaned of what XML and HTML forbid and escaped where
 * it is written.
 */

/** The languages a bulletin is rendered in; zh-CN first. */
export const bulletinLanguages = ['zh-CN', 'en'] as const;
export type BulletinLanguage = (typeof bulletinLanguages)[number];

/** The other language, for the link that switches. */
export function otherLanguage(lang: BulletinLanguage): BulletinLanguage {
  return lang === 'zh-CN' ? 'en' : 'zh-CN';
}

/**
 * Characters that XML 1.0 does not allow (C0 controls but tab, line feed and carriage return;
 * U+FFFE, U+FFFF; halves of surrogate pairs standing alone) and those HTML reports as errors
 * (DEL and the C1 controls).
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
const forbidden = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `value` without the characters XML 1.0 forbids or HTML reports as errors. */
export function publicText(value: string): string {
  return value.replace(forbidden, '');
}

/** `value` cleaned and on one line: runs of white space (line breaks included) become one space. */
export function oneLine(value: string): string {
  return publicText(value).replace(/[\s\u2028\u2029]+/g, ' ').trim();
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** `value` cleaned and escaped for XML or HTML text and attribute values (either quote). */
export function escapeXml(value: string): string {
  return publicText(value).replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/** A rate in [0, 1] as a percentage with one decimal, e.g. 7/9 → 77.8%. */
export function formatPercent(value: number): string {
  return `${(Math.round(value * 1000) / 10).toFixed(1)}%`;
}

/** A score or a deduction with at most two decimals and no trailing zeros, e.g. 92.5, 90. */
export function formatScore(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/**
 * A link that the page may hold: http(s), or a path on the same site. Anything else (a
 * `javascript:` link, say) becomes `#`: links come from the caller, but the page never runs code.
 */
export function safeHref(url: string): string {
  const cleaned = publicText(url).trim();
  return /^(?:https?:\/\/|\/(?!\/)|\?|#|\.{1,2}\/)/i.test(cleaned) || /^[^:/?#]+(?:[/?#]|$)/.test(cleaned) ? cleaned : '#';
}

/**
 * A copy of `value` with every string in it (at any depth) cleaned by `publicText`: what a
 * renderer shows is cleaned once, whichever field it comes from.
 */
export function cleanStrings<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return publicText(value);
  if (Array.isArray(value)) return value.map(clean);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [publicText(key), clean(inner)]));
  }
  return value;
}
