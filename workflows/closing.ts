import { allHandlersFinished, condition, sleep } from '@temporalio/workflow';
import type { Journal } from './journal';

/**
 * Runs from this change on complete only in a workflow task that wrote nothing to the read model;
 * earlier runs complete in the task of their last write. (Continuing as new still happens in the
 * task that filled the history: a run waiting to continue would hold back commands sent to it.)
 */
export const closeApartPatch = 'close-in-own-workflow-task';

/**
 * Waits for a workflow task in which `journal` writes nothing, with every handler finished, so
 * that the run can complete in it. The server refuses to close a run while a message that arrived
 * meanwhile is waiting, and then runs the whole workflow task again with that message, possibly
 * handled before the one handled the first time. The local-activity writes of the refused attempt
 * have already happened, under the same event keys and versions as the retry's, so the read model
 * would keep what the refused attempt wrote and drop what the workflow actually did.
 */
export async function quietBeforeClosing(journal: Journal): Promise<void> {
  for (;;) {
    const written = journal.position.writes;
    // A timer: the task that starts it ends here, and the run closes in the one that it wakes.
    await sleep(1);
    await condition(allHandlersFinished);
    if (journal.position.writes === written) return;
  }
}
