import { ApplicationFailure } from '@temporalio/workflow';
import { DomainError } from '../domain/errors';

/**
 * A DomainError as an ApplicationFailure whose type is the error code: thrown from a validator it
 * rejects the update, from a handler it fails the update, and never retries. Other errors pass.
 */
export function asFailure(error: unknown): unknown {
  if (error instanceof DomainError) {
    return ApplicationFailure.create({
      type: error.code,
      message: error.message,
      details: [error.details],
      nonRetryable: true,
    });
  }
  return error;
}

/** Runs `fn`, turning a DomainError it throws into an ApplicationFailure. */
export function failOnDomainError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asFailure(error);
  }
}
