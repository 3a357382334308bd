import fs from 'node:fs';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historiesDir, readRecordedHistory } from './support/histories';

/**
 * Every committed history (test/histories, recorded by the workflow tests with
 * DUBAN_RECORD_HISTORIES=1) must replay on today's workflow code: a change that would break
 * the cases running in production fails here. Guard such a change with `patched()`.
 */
describe('replay of recorded workflow histories', () => {
  const files = fs.readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();

  it('has histories of every workflow type to replay', () => {
    const types = new Set(
      files.map((f) => {
        const { history } = readRecordedHistory(f);
        return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      }),
    );
    expect([...types].sort()).toEqual(['caseWorkflow', 'taskWorkflow']);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const { workflowId, history } = readRecordedHistory(file);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, history, workflowId);
  });
});
