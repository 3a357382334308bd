import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import type { CaseService } from '../services/case.service';
import { quietMonday, sleepUntil } from './support/clock';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

/**
 * The read model a case leaves behind, row by row, must not depend on how its workflows get
 * there: the rows below were recorded with the workflows as they were before the lean histories
 * (commit 5220933, every patch of its own, a re-plan at each task's start, a timer restarted on
 * every change) and today's workflows must write exactly the same for the same commands.
 */
const golden = path.join(__dirname, 'fixtures', 'read-model', 'two-departments-with-rungs.json');

/** The tables a case's workflows write. */
const tables = ['cases', 'tasks', 'events', 'escalations', 'notifications', 'case_follow_ups'] as const;

/**
 * Columns holding the machine's clock at the write (not the workflow's), which no two runs share,
 * row ids numbered in the order two tasks happened to write, and the fence of a snapshot (the
 * workflow's clock at its workflow task's start, in milliseconds: a column added after the rows were
 * recorded, compared by test/journal-fence.test.ts), and a case row's revision (a count of its
 * updates, which the number of writes decides, not what they wrote: test/case-view-cache.test.ts).
 */
const unstable = new Set(['recorded_at', 'created_at', 'updated_at', 'claimed_at', 'claimed_until', 'available_at', 'id', 'fence', 'revision']);

const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Rows as comparable values: every instant as whole minutes after `monday` (the test server's
 * clock runs on by some milliseconds while a command is handled; planned instants are exact), in
 * JSON text too; the case's id (numbered by the year) as CASE; columns of the machine's clock left out.
 */
function normalise(value: unknown, monday: DateTime, caseId: string): unknown {
  const minutes = (iso: string) => `m+${Math.floor((Date.parse(iso) - monday.toMillis()) / 60_000)}`;
  if (typeof value === 'string') {
    if (instant.test(value)) return minutes(value);
    if (value.startsWith('{') || value.startsWith('[')) {
      try {
        return normalise(JSON.parse(value), monday, caseId);
      } catch {
        return value.replaceAll(caseId, 'CASE');
      }
    }
    return value.replaceAll(caseId, 'CASE');
  }
  if (Array.isArray(value)) return value.map((v) => normalise(v, monday, caseId));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !unstable.has(key))
        .map(([key, v]) => [key, normalise(v, monday, caseId)]),
    );
  }
  return value;
}

async function rowsOf(db: Db, caseId: string, monday: DateTime): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const rows =
      table === 'cases'
        ? await db.selectFrom('cases').selectAll().where('id', '=', caseId).execute()
        : await db.selectFrom(table).selectAll().where('case_id', '=', caseId).execute();
    out[table] = rows
      .map((row) => normalise(row, monday, caseId))
      .map((row) => JSON.stringify(row))
      .sort()
      .map((text) => JSON.parse(text) as unknown);
  }
  return out;
}

describe('read-model rows of a case, whatever path its workflows take', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack();
    ({ env, db, service } = stack);
  });
  afterAll(() => stack?.close());

  it('writes the same rows as before for a two-department case with rungs, progress, an extension, rework and closing', async () => {
    const m = await quietMonday(env);
    await sleepUntil(env, m);
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    // JD acknowledges at once; CG lets its acknowledgement lapse (due Tuesday): 催办 on Wednesday.
    await service.acknowledgeTask(caseId, dept('JD'), { note: '已签收' });
    await service.reportProgress(caseId, dept('JD'), { note: '已联系商户' });
    await sleepUntil(env, m.plus({ days: 3, hours: 2 }));
    await service.acknowledgeTask(caseId, dept('CG'), {});
    // An extension moves JD's deadline and every alarm after it.
    await service.requestExtension(caseId, dept('JD'), { workingDays: 2, reason: '需协调产权单位' });
    await service.decideExtension(caseId, office, { decision: 'approve', comment: '同意' });
    // CG's 50% reminder (serious: 7 working days, the reminder on the fifth after Monday) fires
    // the next Monday.
    await sleepUntil(env, m.plus({ days: 7, hours: 3 }));
    await service.submitRectification(caseId, dept('CG'), { report: '第一次整改', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'reject', comment: '仍有摊点' }, { department: 'CG' });
    await service.submitRectification(caseId, dept('CG'), { report: '第二次整改', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'CG' });
    await service.submitRectification(caseId, dept('JD'), { report: '配合完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: 'JD' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });

    const rows = await rowsOf(db, caseId, m);
    // The scenario reached what it is meant to cover.
    const actions = (rows.events as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['task.escalated', 'task.reminded', 'task.extension_granted', 'task.rejected', 'case.closed']));
    expect(rows.escalations).not.toEqual([]);
    expect(rows.notifications).not.toEqual([]);

    if (process.env.DUBAN_RECORD_READ_MODEL === '1' && !fs.existsSync(golden)) {
      fs.mkdirSync(path.dirname(golden), { recursive: true });
      fs.writeFileSync(golden, `${JSON.stringify(rows, null, 1)}\n`, { flag: 'wx' });
    }
    expect(rows).toEqual(JSON.parse(fs.readFileSync(golden, 'utf8')));
    await recordHistory(env.client, caseId, 'case-two-departments-lean');
    await recordHistory(env.client, `${caseId}-T1`, 'task-with-rungs-lean');
    await recordHistory(env.client, `${caseId}-T2`, 'task-extended-lean');
    await recordHistory(env.client, caseId, 'case-two-departments-fenced');
    await recordHistory(env.client, `${caseId}-T1`, 'task-with-rungs-fenced');
    await recordHistory(env.client, `${caseId}-T2`, 'task-extended-fenced');
    await recordHistory(env.client, caseId, 'case-two-departments-closing-turn');
    await recordHistory(env.client, `${caseId}-T1`, 'task-with-rungs-closing-turn');
    await recordHistory(env.client, `${caseId}-T2`, 'task-extended-closing-turn');
  });
});
