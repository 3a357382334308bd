import { z } from 'zod';
import { DomainError, type FieldIssue } from './errors';

const zh = z.locales.zhCN().localeError;
const en = z.locales.en().localeError;

/** `a.b[0].c` from a zod issue path; the empty path is the input itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** An issue's message in Chinese, then English. */
export function localised(issue: z.core.$ZodIssue): string {
  // Our own refinements carry their bilingual message already.
  if (issue.code === 'custom') return issue.message;
  const message = (map: typeof zh): string => {
    const result = map(issue as never);
    return typeof result === 'string' ? result : (result?.message ?? issue.message);
  };
  const zhMessage = message(zh);
  const enMessage = message(en);
  // A schema's own message (set with `error`) is already bilingual: keep it.
  if (issue.message && issue.message !== enMessage) return issue.message;
  return zhMessage === enMessage ? zhMessage : `${zhMessage} / ${enMessage}`;
}

/** Field-by-field issues of a zod error, messages in Chinese first, then English. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: `不允许的字段 / unknown field "${key}"`,
      }));
    }
    return [{ path: formatPath(issue.path), message: localised(issue) }];
  });
}

/**
 * Parses `input` with `schema` or throws an `invalid_input` DomainError that names every field at
 * fault. `what` names the input in the message, e.g. "case".
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = fieldIssues(result.error);
  const summary = details
    .slice(0, 3)
    .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
    .join('; ');
  throw new DomainError('invalid_input', `${what} 输入无效 / invalid ${what}: ${summary}`, details);
}
