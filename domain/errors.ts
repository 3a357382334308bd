/**
 * The closed set of reasons a command is refused. Workflows raise them as ApplicationFailure
 * types, the CLI prints them, and the HTTP edge maps each to one status code.
 */
export const errorCodes = [
  'invalid_input', // a field is missing or malformed (400/422)
  'not_found', // the case, task or department does not exist, or is not visible to the caller (404)
  'forbidden', // the caller may see it but may not do this (403)
  'invalid_state', // the case or task is not in a state that allows this command (409)
  'conflict', // the resource already exists or changed concurrently (409)
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** One problem with one field of an input. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** A refused command: a code from the closed set, a readable message and the fields at fault. */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}
