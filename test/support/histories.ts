import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

/** Committed histories that the replay test runs through today's workflow code. */
export const historiesDir = path.join(__dirname, '..', 'histories');

/**
 * With DUBAN_RECORD_HISTORIES=1, saves the workflow's id and history (in the JSON of
 * `temporal workflow show --output json`) as test/histories/<name>.json unless that file exists,
 * so that a later change to the workflow code must replay it. Otherwise does nothing.
 */
export async function recordHistory(client: Client, workflowId: string, name: string, runId?: string): Promise<void> {
  if (process.env.DUBAN_RECORD_HISTORIES !== '1') return;
  const file = path.join(historiesDir, `${name}.json`);
  // A recorded history stands for runs in flight: it is never replaced, only added to.
  if (fs.existsSync(file)) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  fs.mkdirSync(historiesDir, { recursive: true });
  const json = `{"workflowId": ${JSON.stringify(workflowId)},\n "history": ${historyToJSON(history)}}\n`;
  fs.writeFileSync(file, json);
}

/** A recorded history file: the workflow id it ran under and its history. */
export function readRecordedHistory(file: string): { workflowId: string; history: History } {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
  return { workflowId, history: historyFromJSON(history) };
}
