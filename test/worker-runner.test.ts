import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCase } from '../db/case.repository';
import type { Db } from '../db/database';
import { type CaseService, createCaseService } from '../services/case.service';
import { createWorkerRunner, type WorkerRunner } from '../worker/worker-runner';
import { caseRequest, office } from './support/fixtures';
import { tempDatabase } from './support/database';
import { createTestWorker, startTimeSkipping } from './support/temporal';

/**
 * The worker runner behind `duban backup`'s pause: while paused no worker of the process runs,
 * so nothing writes the read model for a workflow; afterwards a new worker does what waited.
 */
describe('pausing the worker', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let runner: WorkerRunner;
  let running: Promise<void>;
  let cases: CaseService;
  let created = 0;

  beforeAll(async () => {
    env = await startTimeSkipping();
    ({ db } = await tempDatabase(['CG', 'JD']));
    const taskQueue = `runner-${randomUUID()}`;
    runner = createWorkerRunner(async () => {
      created += 1;
      return (await createTestWorker(env, db, {}, taskQueue)).worker;
    }, pino({ level: 'silent' }));
    running = runner.run();
    cases = createCaseService({ client: env.client, db, taskQueue, timeZone: 'Asia/Shanghai' });
  });
  afterAll(async () => {
    runner?.stop();
    await running;
    await db?.destroy();
    await env?.teardown();
  });

  it('runs the pause with no worker polling; a case opened meanwhile is recorded only after it, by a new worker', async () => {
    const first = await cases.openCase(caseRequest({ leadDepartment: 'CG' }), office);
    expect((await findCase(db, first.caseId))?.status).toBe('open');
    expect(created).toBe(1);

    let opening: Promise<{ caseId: string }> | undefined;
    const seen = await runner.whilePaused(async () => {
      expect(runner.polling).toBe(false);
      opening = cases.openCase(caseRequest({ leadDepartment: 'JD', title: '暂停时交办' }), office, { requestKey: 'during-pause' });
      // The workflow is started, but without a worker its first task (which writes the read model) cannot run.
      await new Promise((r) => setTimeout(r, 1500));
      return db.selectFrom('cases').select('id').execute();
    });
    expect(seen.map((r) => r.id)).toEqual([first.caseId]);
    const second = await opening!;
    expect((await findCase(db, second.caseId))?.title).toBe('暂停时交办');
    expect(created).toBe(2);
    expect(runner.polling).toBe(true);
  });

  it('takes pauses one at a time, and a failing pause still lets the worker run again', async () => {
    const order: string[] = [];
    const a = runner.whilePaused(async () => {
      order.push('a start');
      await new Promise((r) => setTimeout(r, 300));
      order.push('a end');
    });
    const b = runner.whilePaused(() => {
      order.push('b');
      return Promise.reject(new Error('disk full'));
    });
    await a;
    await expect(b).rejects.toThrow('disk full');
    expect(order).toEqual(['a start', 'a end', 'b']);
    const third = await cases.openCase(caseRequest({ leadDepartment: 'CG', title: '之后' }), office);
    expect((await findCase(db, third.caseId))?.title).toBe('之后');
  });
});
