import { ApplicationFailure } from '@temporalio/common';
import type { BulletinPeriodKind } from '../domain/bulletin';
import type { Actor } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import type { Period } from '../domain/indicator.types';
import type { BulletinService } from '../services/bulletin.service';

/** What the bulletin workflow asks for: the period, or the scheduled time it follows from. */
export interface DraftBulletinInput {
  /** The period to draft; absent, the last complete period before `scheduledAt`. */
  readonly period?: Period | undefined;
  /** ISO instant the schedule fired for (or the workflow started). */
  readonly scheduledAt: string;
  readonly periodKind: BulletinPeriodKind;
  readonly origin: 'schedule' | 'office';
  readonly actor: Actor;
}

export interface DraftBulletinResult {
  readonly bulletinId: string;
  readonly period: Period;
  readonly items: number;
}

/** Drafting bulletins from the read model (services/bulletin.service.ts). */
export function createBulletinActivities(deps: { bulletins: BulletinService | null }) {
  return {
    /** Drafts a period's bulletin; a scheduled period is drafted once however often this runs. */
    async draftBulletin(input: DraftBulletinInput): Promise<DraftBulletinResult> {
      if (!deps.bulletins) throw new Error('bulletins are not configured in this worker');
      const period = input.period ?? deps.bulletins.scheduledPeriod(new Date(input.scheduledAt), input.periodKind);
      try {
        const draft = await deps.bulletins.draft({ period, origin: input.origin, actor: input.actor });
        return { bulletinId: draft.id, period: draft.period, items: draft.document.items.length };
      } catch (error) {
        // A refused period will be refused again: fail the workflow rather than retry for ever.
        if (error instanceof DomainError) {
          throw ApplicationFailure.nonRetryable(error.message, error.code, error.details);
        }
        throw error;
      }
    },
  };
}
export type BulletinActivities = ReturnType<typeof createBulletinActivities>;
