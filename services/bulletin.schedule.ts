import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { BulletinPeriodKind } from '../domain/bulletin';
import { systemActor } from '../domain/case.schema';
import type { BulletinDraftInput } from '../workflows/bulletin.workflow';

/** The Schedule that drafts bulletins for a task queue. */
export const bulletinScheduleId = (taskQueue: string): string => `duban-bulletin-${taskQueue}`;

export interface BulletinScheduleSettings {
  readonly taskQueue: string;
  /** 5-field cron in `zone`, e.g. `0 9 * * 1` (Mondays 09:00). */
  readonly cron: string;
  readonly zone: string;
  readonly periodKind: BulletinPeriodKind;
}

const draftOptions = (s: BulletinScheduleSettings) => ({
  spec: { cronExpressions: [s.cron], timezone: s.zone },
  action: {
    type: 'startWorkflow' as const,
    workflowType: 'bulletinDraftWorkflow',
    taskQueue: s.taskQueue,
    workflowId: `duban-bulletin-draft-${s.taskQueue}`,
    args: [{ periodKind: s.periodKind, origin: 'schedule', actor: systemActor } satisfies BulletinDraftInput],
  },
  policies: {
    // A draft that is still running when the next is due is left to finish; a schedule missed
    // while the server was down is caught up within a week (the draft of that period is made once).
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: '7 days',
  },
});

/**
 * Creates the bulletin Schedule, or brings an existing one to the configured cron, zone and
 * period (the configuration is the truth: an edited DUBAN_BULLETIN_CRON takes effect at the next
 * start). Returns what it did.
 */
export async function ensureBulletinSchedule(client: Client, settings: BulletinScheduleSettings): Promise<'created' | 'updated'> {
  const scheduleId = bulletinScheduleId(settings.taskQueue);
  const options = draftOptions(settings);
  try {
    await client.schedule.create({ scheduleId, ...options, memo: { purpose: '定期通报 / bulletin drafts' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: { ...previous.policies, ...options.policies },
    }));
    return 'updated';
  }
}

/** Removes the bulletin Schedule (DUBAN_BULLETIN_CRON=off); nothing when there is none. */
export async function removeBulletinSchedule(client: Client, taskQueue: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(bulletinScheduleId(taskQueue)).delete();
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ScheduleNotFoundError') return false;
    throw error;
  }
}
