/**
 * The benchmark's baseline: the least a Temporal workflow can do with the same traffic as one
 * duban case (one update-with-start, three updates, five activities), with no domain rules, no
 * child workflow and an activity that does nothing.
 */
import { allHandlersFinished, condition, defineUpdate, proxyActivities, setHandler, sleep, startChild, workflowInfo } from '@temporalio/workflow';

export const baselineStartedUpdate = defineUpdate<number>('baselineStarted');
export const baselineStepUpdate = defineUpdate<number, [string]>('baselineStep');

const { noop } = proxyActivities<{ noop(step: string): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function baselineWorkflow(): Promise<number> {
  let steps = 0;
  let started = false;
  setHandler(baselineStartedUpdate, async () => {
    await condition(() => started);
    return steps;
  });
  setHandler(baselineStepUpdate, async (step: string) => {
    await noop(step);
    return ++steps;
  });
  await noop('open');
  started = true;
  await condition(() => steps === 3 && allHandlersFinished());
  await noop('close');
  return steps;
}

/**
 * The same traffic shaped as duban shapes a case: a parent workflow that opens (update-with-start,
 * answered once its task's child workflow has started), a child workflow per task that takes the
 * three commands and their activities, and the parent's closing activity once the child is done.
 * Against {@link baselineWorkflow} it measures what a child workflow per task costs in itself.
 */
export async function baselineParentWorkflow(): Promise<number> {
  let started = false;
  setHandler(baselineStartedUpdate, async () => {
    await condition(() => started);
    return 0;
  });
  await noop('open');
  const child = await startChild(baselineTaskWorkflow, { workflowId: `${workflowInfo().workflowId}-T1` });
  started = true;
  const steps = await child.result();
  await noop('close');
  return steps;
}

/** The task of {@link baselineParentWorkflow}: three commands, an activity each. */
export async function baselineTaskWorkflow(): Promise<number> {
  let steps = 0;
  setHandler(baselineStepUpdate, async (step: string) => {
    await noop(step);
    return ++steps;
  });
  await condition(() => steps === 3 && allHandlersFinished());
  return steps;
}

const { fired } = proxyActivities<{ fired(firedAt: number, startedLate: boolean): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
});

/** The timer baseline: sleep until `atMs`, then report when the timer fired. */
export async function timerBaselineWorkflow(atMs: number): Promise<void> {
  const startedLate = Date.now() >= atMs;
  await sleep(Math.max(1, atMs - Date.now()));
  await fired(Date.now(), startedLate);
}
