import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../activities';
import type { Db } from '../db/database';
import { writeWorkflowBundle } from '../scripts/bundle-workflows';
import { type CaseService, createCaseService } from '../services/case.service';
import { acknowledgeTaskUpdate, submitRectificationUpdate } from '../workflows/messages';
import type { PreloadProbe, preloadProbeWorkflow } from './fixtures/preload-probe.workflows';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { historiesDir, readRecordedHistory } from './support/histories';
import { tempDatabase } from './support/database';
import { startTimeSkipping } from './support/temporal';

/**
 * zod and the domain modules are evaluated once per reusable V8 context and shared by every
 * workflow in it (workflows/preload.ts). One worker runs everything here, so every workflow runs in
 * the same context: what the preloaded modules share must not change as workflows run, no workflow
 * may change it, and workflows side by side must not see each other.
 */
describe('workflows sharing preloaded modules in one reusable V8 context', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `test-${randomUUID()}`;
  const bundle = path.join(os.tmpdir(), `duban-preload-probe-${randomUUID()}.js`);

  beforeAll(async () => {
    // The workflows with a probe beside them, bundled as duban's own are (the same preload).
    await writeWorkflowBundle(path.join(__dirname, 'fixtures', 'preload-probe.workflows.ts'), bundle);
    env = await startTimeSkipping();
    ({ db } = await tempDatabase(['CG', 'JD']));
    worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      workflowBundle: { codePath: bundle },
      activities: createActivities({ db, timeZone: 'Asia/Shanghai' }),
    });
    running = worker.run();
    service = createCaseService({ client: env.client, db, taskQueue, timeZone: 'Asia/Shanghai' });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await db?.destroy();
    await env?.teardown();
    fs.rmSync(bundle, { force: true });
  });

  /** The failure a workflow's update validator refused `update` with (fails if it was accepted). */
  async function refusedUpdate(update: Promise<unknown>): Promise<{ type?: string; message?: string }> {
    const failure = await update.then(
      () => null,
      (e: unknown) => e as Error & { cause?: { type?: string; message?: string } },
    );
    expect(failure, 'the workflow accepted an invalid command').not.toBeNull();
    return failure?.cause ?? {};
  }

  const probe = (): Promise<PreloadProbe> =>
    env.client.workflow.execute<typeof preloadProbeWorkflow>('preloadProbeWorkflow', { taskQueue, workflowId: `probe-${randomUUID()}` });

  it('evaluates zod and the domain once per context, the SDK and the workflows once per workflow', async () => {
    const { ownModules } = await probe();
    expect(ownModules.filter((id) => /[\\/]domain[\\/]|[\\/]node_modules[\\/]zod[\\/]/.test(id))).toEqual([]);
    // A workflow's own: duban's workflow modules and the SDK's workflow API modules that the SDK's
    // entry does not load itself (their state is the workflow's); "?…" are webpack's empty stubs.
    expect(ownModules.filter((id) => !/^\.\/workflows\/|[\\/]@temporalio[\\/]workflow[\\/]|preload-probe|^\?/.test(id))).toEqual([]);
    expect(ownModules).toContain('./workflows/task.workflow.ts');
  });

  it('refuses every write of a workflow to shared state, and zod still checks patterns', async () => {
    const { writes, checks, shared } = await probe();
    expect(writes).toEqual({ severities: 'TypeError', defaultPolicy: 'TypeError', defaultTaskLimits: 'TypeError', zodConfig: 'TypeError' });
    expect(checks).toEqual({ caseId: true, httpUrl: true, email: true, workflowOwnEmail: true });
    // zod's settings were filled by the preload, before the SDK froze them.
    expect(shared.configFrozen).toBe(true);
    expect(shared.configKeys).toEqual(expect.arrayContaining(['localeError', 'memoizer']));
  });

  it('keeps what the preloaded modules share unchanged while two cases run side by side', async () => {
    const before = await probe();
    // Two cases at once in the same context: one refused by the workflow's own validators (bilingual
    // messages from the shared locale), one run to its end.
    const refusedInWorkflow = async () => {
      const { caseId } = await service.openCase(caseRequest({ title: '甲案' }), office);
      const task = env.client.workflow.getHandle(`${caseId}-T1`);
      const badActor = await refusedUpdate(task.executeUpdate(acknowledgeTaskUpdate, { args: [{ actor: { role: 'department', name: 'x' } as never }] }));
      await service.acknowledgeTask(caseId, dept('CG'), {});
      const badSubmit = await refusedUpdate(
        task.executeUpdate(submitRectificationUpdate, {
          args: [{ actor: dept('CG'), report: ' ', evidence: [{ kind: 'url', url: 'ftp://example.org/a.jpg' }] }],
        }),
      );
      return { caseId, badActor, badSubmit };
    };
    const runToClosed = async () => {
      const { caseId } = await service.openCase(caseRequest({ title: '乙案', cooperatingDepartments: ['JD'] }), office);
      for (const code of ['CG', 'JD']) {
        await service.acknowledgeTask(caseId, dept(code), {}, { department: code });
        await service.submitRectification(caseId, dept(code), { report: '已整改', evidence: [photo] }, { department: code });
        await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: code });
      }
      return env.client.workflow.getHandle(caseId).result();
    };
    const [refused, closed] = await Promise.all([refusedInWorkflow(), runToClosed()]);

    expect(refused.badActor).toMatchObject({ type: 'invalid_input' });
    expect(refused.badSubmit).toMatchObject({ type: 'invalid_input' });
    expect(refused.badSubmit.message).toMatch(/report: .*\//);
    expect(refused.badSubmit.message).toContain('须为 http(s) 链接 / an http(s) link');
    expect(closed).toMatchObject({ status: 'closed' });
    const refusedCase = await service.getCase(refused.caseId);
    expect(refusedCase.tasks.map((t) => t.status)).toEqual(['acknowledged']);

    const after = await probe();
    expect(after.shared).toEqual(before.shared);
  });

  it('replays every pinned history one after another in one reused context', async () => {
    const files = fs.readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
    const histories = files.map((file) => readRecordedHistory(file));
    // The SDK replays them one at a time, in order, in the replay worker's one context.
    const failed: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundle') } }, histories)) {
      if (result.error) failed.push(`${files[replayed]}: ${result.error.message}`);
      replayed++;
    }
    expect(failed).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
