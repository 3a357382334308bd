import { allHandlersFinished, condition, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { ClosingActivities } from '../activities/closing.activities';
import { activityOptions } from './activities';
import type { Journal } from './journal';

/**
 * Runs from this change on complete only in a workflow task that wrote nothing to the read model;
 * earlier runs complete in the task of their last write. (Continuing as new still happens in the
 * task that filled the history: a run waiting to continue would hold back commands sent to it.)
 */
export const closeApartPatch = 'close-in-own-workflow-task';

/**
 * From this change on, the turn before completing is an activity that does nothing instead of a
 * one-millisecond timer, which the server fired about a second late: a case closed about two
 * seconds after its last acceptance (activities/closing.activities.ts).
 */
export const closingTurnPatch = 'closing-turn-activity';

const { closingTurn } = proxyActivities<ClosingActivities>(activityOptions);

/**
 * Waits for a workflow task in which `journal` writes nothing, with every handler finished, so
 * that the run can complete in it. The server refuses to close a run while a message that arrived
 * meanwhile is waiting, and then runs the whole workflow task again with that message, possibly
 * handled before the one handled the first time. The local-activity writes of the refused attempt
 * have already happened, under the same event keys and versions as the retry's, so the read model
 * would keep what the refused attempt wrote and drop what the workflow actually did.
 */
export async function quietBeforeClosing(journal: Journal): Promise<void> {
  const quick = patched(closingTurnPatch);
  for (;;) {
    const written = journal.position.writes;
    // A turn through the server: the task that asks for it ends here, and the run closes in the one
    // that its answer starts.
    if (quick) await closingTurn();
    else await sleep(1);
    await condition(allHandlersFinished);
    if (journal.position.writes === written) return;
  }
}
