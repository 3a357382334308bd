import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BulletinActivities, DraftBulletinResult } from '../activities/bulletin.activities';
import type { BulletinPeriodKind } from '../domain/bulletin';
import type { Actor } from '../domain/case.schema';
import type { Period } from '../domain/indicator.types';

const { draftBulletin } = proxyActivities<BulletinActivities>({
  // Figures over a year of events for every department: generous, and retried if a worker dies.
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export interface BulletinDraftInput {
  readonly periodKind: BulletinPeriodKind;
  /** Drafted by the office for this period ("draft now"); absent, the period before the scheduled time. */
  readonly period?: Period;
  readonly origin: 'schedule' | 'office';
  readonly actor: Actor;
}

/** The time a Temporal Schedule started this run for (set by the server on scheduled runs). */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * Drafts a bulletin (定期通报). The Schedule `duban-bulletin` starts it weekly (or as configured):
 * it covers the last complete period before the time the schedule fired for, so a run that starts
 * late, or again, drafts the same period, once. The office then decides on the draft and approves
 * it (services/bulletin.service.ts); nothing is published by the schedule itself.
 */
export async function bulletinDraftWorkflow(input: BulletinDraftInput): Promise<DraftBulletinResult> {
  const info = workflowInfo();
  const scheduledAt = info.typedSearchAttributes.get(scheduledStartTime) ?? info.runStartTime;
  return draftBulletin({
    period: input.period,
    scheduledAt: scheduledAt.toISOString(),
    periodKind: input.periodKind,
    origin: input.origin,
    actor: input.actor,
  });
}
