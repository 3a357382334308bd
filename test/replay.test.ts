import fs from 'node:fs';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { historiesDir, readManifest, readRecordedHistory, sha256Of } from './support/histories';

/**
 * Every committed history (test/histories, recorded by the workflow tests with
 * DUBAN_RECORD_HISTORIES=1) must replay on today's workflow code: a change that would break
 * the cases running in production fails here. Guard such a change with `patched()`.
 */
describe('replay of recorded workflow histories', () => {
  const files = fs.readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
  const pinned = readManifest();

  it('replays exactly the pinned histories, each unchanged', () => {
    const names = pinned.map(([file]) => file);
    expect(new Set(names).size, `test/histories/SHA256SUMS lists a file twice: ${names.join(', ')}`).toBe(names.length);
    const missing = names.filter((file) => !files.includes(file));
    expect(
      missing,
      `pinned histories missing from test/histories: ${missing.join(', ')}. A committed history stands for runs that ` +
        'may still be in flight: never delete one.',
    ).toEqual([]);
    const unpinned = files.filter((file) => !names.includes(file));
    expect(
      unpinned,
      `histories not pinned in test/histories/SHA256SUMS: ${unpinned.join(', ')}. Record histories with ` +
        'DUBAN_RECORD_HISTORIES=1, which pins them; do not add or copy them by hand.',
    ).toEqual([]);
    const changed = pinned.filter(([file, sha256]) => files.includes(file) && sha256Of(file) !== sha256).map(([file]) => file);
    expect(
      changed,
      `histories changed since they were pinned: ${changed.join(', ')}. Never edit or re-record a history: guard ` +
        'the workflow change with patched() and record a new history under a new name.',
    ).toEqual([]);
  });

  it('has histories of every workflow type to replay', () => {
    const types = new Set(
      files.map((f) => {
        const { history } = readRecordedHistory(f);
        return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
      }),
    );
    expect([...types].sort()).toEqual(['caseWorkflow', 'noticeDispatcherWorkflow', 'taskWorkflow']);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const { workflowId, history } = readRecordedHistory(file);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundle') } }, history, workflowId);
  });
});
