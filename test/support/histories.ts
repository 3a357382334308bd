import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;

/** Committed histories that the replay test runs through today's workflow code. */
export const historiesDir = path.join(__dirname, '..', 'histories');

/**
 * The pinned set of committed histories, one `<sha256>  <file>` line each (the format of
 * `sha256sum`, so `cd test/histories && sha256sum -c SHA256SUMS` checks them too). Recording a
 * history adds its line; the replay test fails for a history that is missing, changed or unpinned.
 */
export const manifestFile = path.join(historiesDir, 'SHA256SUMS');

export function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(historiesDir, file))).digest('hex');
}

/** The manifest's lines as [file, sha256] pairs, in the order recorded. */
export function readManifest(): [file: string, sha256: string][] {
  if (!fs.existsSync(manifestFile)) return [];
  return fs
    .readFileSync(manifestFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      if (!match) throw new Error(`${manifestFile}: not a "<sha256>  <file>" line: ${JSON.stringify(line)}`);
      return [match[2]!, match[1]!];
    });
}

/**
 * With DUBAN_RECORD_HISTORIES=1, saves the workflow's id and history (in the JSON of
 * `temporal workflow show --output json`) as test/histories/<name>.json unless that file exists,
 * and pins it in the manifest, so that a later change to the workflow code must replay it.
 * Otherwise does nothing.
 */
export async function recordHistory(client: Client, workflowId: string, name: string, runId?: string): Promise<void> {
  if (process.env.DUBAN_RECORD_HISTORIES !== '1') return;
  const file = `${name}.json`;
  // A recorded history stands for runs in flight: it is never replaced, only added to.
  if (fs.existsSync(path.join(historiesDir, file))) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  fs.mkdirSync(historiesDir, { recursive: true });
  const json = `{"workflowId": ${JSON.stringify(workflowId)},\n "history": ${historyToJSON(history)}}\n`;
  fs.writeFileSync(path.join(historiesDir, file), json, { flag: 'wx' });
  // One short append per history: test files recording at the same time do not overwrite each other.
  fs.appendFileSync(manifestFile, `${sha256Of(file)}  ${file}\n`);
}

/** A recorded history file: the workflow id it ran under and its history. */
export function readRecordedHistory(file: string): { workflowId: string; history: History } {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(historiesDir, file), 'utf8')) as {
    workflowId: string;
    history: unknown;
  };
  return { workflowId, history: historyFromJSON(history) };
}
