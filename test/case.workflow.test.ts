import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { EvidenceStore } from '../services/evidence.store';
import { type CaseService, createCaseService } from '../services/case.service';
import { tempDatabase } from './support/database';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { createTestWorker, startTimeSkipping } from './support/temporal';

describe('case workflow on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let worker: Worker;
  let running: Promise<void>;
  let service: CaseService;

  beforeAll(async () => {
    env = await startTimeSkipping();
    const temp = await tempDatabase(['CG', 'JD', 'SJ']);
    db = temp.db;
    const created = await createTestWorker(env, db);
    worker = created.worker;
    running = worker.run();
    service = createCaseService({
      client: env.client,
      db,
      taskQueue: created.taskQueue,
      timeZone: 'Asia/Shanghai',
      evidence: EvidenceStore.inDataDir(temp.dir),
    });
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await db?.destroy();
    await env?.teardown();
  });

  it('runs a case from open to closed and records every step once', async () => {
    const opened = await service.openCase(caseRequest(), office);
    expect(opened.caseId).toMatch(/^DB-\d{4}-000001$/);
    expect(opened.status).toBe('open');

    await service.acknowledgeTask(opened.caseId, dept('CG'), { note: '已签收' });
    await service.submitRectification(opened.caseId, dept('CG'), { report: '已清理占道摊点', evidence: [photo] });
    const accepted = await service.verifyRectification(opened.caseId, office, { decision: 'accept' }, { department: 'CG' });
    expect(accepted.status).toBe('accepted');

    const handle = env.client.workflow.getHandle(opened.caseId);
    expect(await handle.result()).toEqual({ caseId: opened.caseId, status: 'closed' });

    const record = await service.getCase(opened.caseId);
    expect(record.case.status).toBe('closed');
    expect(record.tasks.map((t) => t.status)).toEqual(['accepted']);
    expect(record.events.map((e) => e.action)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.submitted',
      'task.accepted',
      'case.closed',
    ]);
  });
});
