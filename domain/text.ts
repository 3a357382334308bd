import { z } from 'zod';

/**
 * The first `n` characters of `text`, counted in code points, so that a cut never splits a
 * character outside the Basic Multilingual Plane (an emoji, a rare 汉字) into half a surrogate pair.
 */
export function leadingCharacters(text: string, n: number): string {
  let out = '';
  let count = 0;
  for (const character of text) {
    if (count++ === n) break;
    out += character;
  }
  return out;
}

/**
 * The characters that String.prototype.trim removes (Unicode white space and line terminators),
 * spelt out so that the pattern means the same in every regular-expression dialect that reads the
 * OpenAPI document (JavaScript's and Python's `\s` differ).
 */
const whiteSpace = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const notBlank = new RegExp(`[^${whiteSpace}]`);

/** Length in characters as JSON Schema counts them: code points, not UTF-16 units. */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

/**
 * Free text of at most `max` characters, stored without surrounding white space; unless
 * `blankAllowed`, it must hold something other than white space; `missing` says why it is required. Declared so that its JSON Schema
 * (maxLength in characters, a pattern for "not blank") accepts exactly what it accepts.
 */
export function text(max: number, options: { blankAllowed?: boolean; missing?: string } = {}) {
  const { missing } = options;
  const bounded = z
    .string(missing ? { error: (issue) => (issue.input === undefined ? missing : undefined) } : undefined)
    .refine((value) => characterCount(value) <= max, { error: `至多 ${max} 个字符 / at most ${max} characters` });
  const checked = options.blankAllowed ? bounded : bounded.regex(notBlank, '不能为空白 / must not be blank');
  return checked.trim().meta({ maxLength: max });
}

/**
 * An e-mail address as the schema states it: zod's own pattern, declared as a pattern (not as the
 * `email` format, which validators read differently) so that clients check exactly what we check.
 */
export const emailSchema = z
  .string()
  .max(254)
  .regex(/^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$/, '须为电子邮件地址 / an e-mail address');

/** An http(s) link, as a pattern every client reads alike: a scheme, a host, no spaces or controls. */
export const httpUrlSchema = z
  .string()
  .max(2000)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a link may not hold
  .regex(/^https?:\/\/[^\x00-\x20\x7f/?#]+(?:[/?#][^\x00-\x20\x7f]*)?$/, '须为 http(s) 链接 / an http(s) link');
