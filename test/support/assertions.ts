import { expect } from 'vitest';
import { DomainError } from '../../domain/errors';

/** The DomainError a promise is refused with, for asserting its code, message and fields. */
export async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}
