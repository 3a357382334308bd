import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { DomainError, type FieldIssue, isErrorCode } from '../domain/errors';

/**
 * The DomainError behind a Temporal client error: an update rejected by a validator or failed
 * by its handler carries our error code as the failure type. Undefined for any other error.
 */
export function domainErrorFrom(error: unknown, what: string): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const failure = error.cause;
    if (isErrorCode(failure.type)) {
      const details = (failure.details?.[0] as FieldIssue[] | undefined) ?? [];
      return new DomainError(failure.type, failure.message, details);
    }
  }
  if (error instanceof WorkflowNotFoundError) {
    return new DomainError('invalid_state', `${what} 已结束或不存在 / ${what} has finished or does not exist`);
  }
  if (error instanceof WorkflowExecutionAlreadyStartedError) {
    return new DomainError('conflict', `${what} 已存在 / ${what} already exists`);
  }
  return undefined;
}
