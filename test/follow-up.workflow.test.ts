import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { complainantActor } from '../domain/case.schema';
import type { CaseService } from '../services/case.service';
import { createCalendarSource } from '../services/calendar.source';
import type { FileResolver } from '../services/evidence.store';
import { getCaseQuery } from '../workflows/messages';
import { refusal } from './support/assertions';
import { caseRequest, dept, office } from './support/fixtures';
import { recordHistory } from './support/histories';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const sha = (n: number) => n.toString(16).padStart(64, 'a');

/** Files as the evidence store would have resolved them: stored photos named by their hash. */
const resolveFile: FileResolver = (reference) => {
  const sha256 = reference.replace(/^sha256:/, '');
  return Promise.resolve({ kind: 'file', sha256, name: `${sha256.slice(-4)}.jpg`, size: 2048, mediaType: 'image/jpeg' });
};

/**
 * 答复 → 回访 → 重办 of a case opened from a complaint, on the time-skipping server: the events as
 * the indicators read them, the read model the tracking page reads, and every refusal.
 */
describe('follow-up of a complaint case on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let stack: WorkflowStack;
  let code = 0;

  beforeAll(async () => {
    stack = await startWorkflowStack({
      deps: (dir) => {
        const policyFile = path.join(dir, 'policy.json');
        // One reopening at most, so that the second 不满意 meets the limit.
        fs.writeFileSync(policyFile, JSON.stringify({ followUp: { windowWorkingDays: 5, maxReopens: 1 } }));
        return { policyFile };
      },
    });
    ({ env, db, service } = stack);
  });
  afterAll(() => stack?.close());

  /** Opens a case from a complaint (as the complaint service does) and takes `dept` CG's task to accepted, with `photos`. */
  async function complaintCaseClosed(photos: number[]): Promise<string> {
    code++;
    const { caseId } = await service.openCase(caseRequest({ source: 'complaint' }), office, {
      complaintCode: `TS-AAAAA-${String(code).padStart(5, '0')}`,
    });
    await acceptTask(caseId, photos);
    await closed(caseId);
    return caseId;
  }

  async function acceptTask(caseId: string, photos: number[], department = 'CG'): Promise<void> {
    await service.acknowledgeTask(caseId, dept(department), {});
    await service.submitRectification(
      caseId,
      dept(department),
      { report: '已整改', evidence: photos.map((n) => ({ file: `sha256:${sha(n)}`, note: `整改后 ${n}` })) },
      {},
      { resolveFile },
    );
    await service.verifyRectification(caseId, office, { decision: 'accept' }, { department });
  }

  /** Waits until the workflow has started the follow-up round after its closing. */
  async function closed(caseId: string, round = 1): Promise<void> {
    const handle = env.client.workflow.getHandle(caseId);
    for (;;) {
      const state = await handle.query(getCaseQuery);
      if (state.status === 'closed' && state.followUp?.round === round && state.followUp.status === 'awaiting_answer') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * Waits for a run to end without asking the server to skip time (awaiting a result does, and
   * would skip a case that waits for its answer without a timer to its ten-year run time-out).
   */
  async function completed(caseId: string): Promise<string> {
    for (;;) {
      const { status } = await env.client.workflow.getHandle(caseId).describe();
      if (status.name !== 'RUNNING') return status.name;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const actions = async (caseId: string) => (await service.getCase(caseId)).events.map((e) => e.action);

  it('closes, answers, reopens on an upheld 不满意 with a new task and fresh deadlines, closes again and ends on 满意', async () => {
    const caseId = await complaintCaseClosed([1, 2]);
    const handle = env.client.workflow.getHandle(caseId);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    let record = await service.getCase(caseId);
    expect(record.case.status).toBe('closed');
    expect(record.case.closedAt).not.toBeNull();
    expect(record.followUp).toMatchObject({ round: 1, status: 'awaiting_answer', answer: null, followUpDueAt: null });

    // Refused before an answer: a rating.
    expect((await refusal(service.rateCase(caseId, { rating: 'satisfied' }, complainantActor))).code).toBe('invalid_state');

    const answered = await service.answerCase(caseId, office, { answer: '摊点已清理，已恢复通行。', evidence: [`sha256:${sha(2)}`] });
    expect(answered.followUp?.status).toBe('awaiting_rating');
    const calendar = await createCalendarSource({ db, timeZone: 'Asia/Shanghai' })();
    record = await service.getCase(caseId);
    const answeredEvent = record.events.find((e) => e.action === 'case.answered')!;
    expect(answeredEvent.payload).toEqual({
      answer: '摊点已清理，已恢复通行。',
      evidence: [{ kind: 'file', sha256: sha(2), name: `${sha(2).slice(-4)}.jpg`, size: 2048, mediaType: 'image/jpeg', note: '整改后 2' }],
      followUpDueAt: calendar.dueAfter(answeredEvent.at, 5),
    });
    expect(record.followUp).toMatchObject({ status: 'awaiting_rating', followUpDueAt: calendar.dueAfter(answeredEvent.at, 5) });
    expect(record.followUp?.answer?.evidence.map((e) => (e.kind === 'file' ? e.sha256 : e.url))).toEqual([sha(2)]);
    // Answered once.
    expect((await refusal(service.answerCase(caseId, office, { answer: '再答复' }))).code).toBe('invalid_state');

    // A 不满意 needs its reason; then it is taken once.
    expect((await refusal(service.rateCase(caseId, { rating: 'dissatisfied' } as never, complainantActor))).code).toBe('invalid_input');
    await service.rateCase(caseId, { rating: 'dissatisfied', reason: '晚上摊贩又回来了' }, complainantActor);
    expect((await refusal(service.rateCase(caseId, { rating: 'satisfied' }, complainantActor))).code).toBe('invalid_state');
    // A department cannot decide; the office upholds.
    expect((await refusal(service.decideFollowUp(caseId, dept('CG'), { decision: 'dismiss', reason: 'x' }))).code).toBe('forbidden');
    const reopened = await service.decideFollowUp(caseId, office, { decision: 'uphold', reason: '经核实夜间仍有占道' });
    expect(reopened.status).toBe('open');
    expect(reopened.closedAt).toBeNull();
    expect(reopened.tasks.map((t) => [t.taskId.split('-').pop(), t.departmentCode, t.role, t.outcome])).toEqual([
      ['T1', 'CG', 'lead', 'accepted'],
      ['T2', 'CG', 'lead', null],
    ]);

    record = await service.getCase(caseId);
    expect(record.case.status).toBe('open');
    expect(record.case.closedAt).toBeNull();
    const reopenedEvent = record.events.find((e) => e.action === 'case.reopened')!;
    const t2 = record.tasks.find((t) => t.id === `${caseId}-T2`)!;
    // Fresh deadlines from the policy (serious: 7 working days; acknowledgement 1), from the reopening.
    expect(reopenedEvent.payload).toEqual({
      reason: '经核实夜间仍有占道',
      taskId: `${caseId}-T2`,
      department: 'CG',
      ackDueAt: calendar.dueAfter(reopenedEvent.at, 1),
      rectificationDueAt: calendar.dueAfter(reopenedEvent.at, 7),
    });
    expect([t2.status, t2.ackDueAt, t2.rectificationDueAt]).toEqual([
      'assigned',
      calendar.dueAfter(reopenedEvent.at, 1),
      calendar.dueAfter(reopenedEvent.at, 7),
    ]);
    expect(record.events.find((e) => e.action === 'task.assigned' && e.taskId === t2.id)?.payload).toMatchObject({
      department: 'CG',
      role: 'lead',
      ackDueAt: t2.ackDueAt,
      rectificationDueAt: t2.rectificationDueAt,
    });
    expect(record.followUp).toMatchObject({ status: 'reopened', reopens: 1, rating: { rating: 'dissatisfied', reason: '晚上摊贩又回来了' } });
    // Not closed: nothing to answer.
    expect((await refusal(service.answerCase(caseId, office, { answer: '答复' }))).code).toBe('invalid_state');

    await acceptTask(caseId, [3]);
    await closed(caseId, 2);
    record = await service.getCase(caseId);
    expect(record.case.status).toBe('closed');
    expect(record.followUp).toMatchObject({ round: 2, status: 'awaiting_answer', reopens: 1, answer: null, rating: null });
    // The photos of every accepted submission may be shown.
    await service.answerCase(caseId, office, { answer: '已安排夜间巡查，摊点未再出现。', evidence: [sha(3), sha(1)] });
    await service.rateCase(caseId, { rating: 'satisfied' }, complainantActor);
    expect(await handle.result()).toEqual({ caseId, status: 'closed' });

    expect(await actions(caseId)).toEqual([
      'case.opened',
      'task.assigned',
      'task.acknowledged',
      'task.submitted',
      'task.accepted',
      'case.closed',
      'case.answered',
      'case.rated',
      'case.reopened',
      'task.assigned',
      'task.acknowledged',
      'task.submitted',
      'task.accepted',
      'case.closed',
      'case.answered',
      'case.rated',
    ]);
    record = await service.getCase(caseId);
    const rated = record.events.filter((e) => e.action === 'case.rated');
    expect(rated.map((e) => [e.payload, e.actor])).toEqual([
      [{ rating: 'dissatisfied', reason: '晚上摊贩又回来了' }, { role: 'public', department: null, name: '投诉人 complainant' }],
      [{ rating: 'satisfied', reason: null }, { role: 'public', department: null, name: '投诉人 complainant' }],
    ]);
    expect(record.followUp).toMatchObject({ round: 2, status: 'rated', rating: { rating: 'satisfied', reason: null } });
    expect(record.followUp?.answer?.evidence.map((e) => (e.kind === 'file' ? e.sha256 : ''))).toEqual([sha(3), sha(1)]);
    await recordHistory(env.client, caseId, 'case-follow-up-reopened-and-satisfied');
  });

  it('refuses a photo not from this case, and ends when the window passes without a rating', async () => {
    const other = await complaintCaseClosed([7]);
    const caseId = await complaintCaseClosed([4]);
    const notOurs = await refusal(service.answerCase(caseId, office, { answer: '已处理', evidence: [sha(7)] }));
    expect(notOurs.code).toBe('invalid_input');
    expect(notOurs.details).toEqual([{ path: 'evidence[0]', message: 'not a file of an accepted submission of this case' }]);
    expect((await refusal(service.answerCase(caseId, office, { answer: '  ' }))).code).toBe('invalid_input');
    expect((await refusal(service.answerCase(caseId, dept('CG'), { answer: '已处理' }))).code).toBe('forbidden');
    // The other case's own photo is its to show; done with it before time passes.
    await service.answerCase(other, office, { answer: '已处理', evidence: [sha(7)] });
    await service.rateCase(other, { rating: 'basically_satisfied' }, complainantActor);
    expect(await completed(other)).toBe('COMPLETED');
    await service.answerCase(caseId, office, { answer: '已处理', evidence: [sha(4)] });
    const dueAt = (await service.getCase(caseId)).followUp!.followUpDueAt!;

    const handle = env.client.workflow.getHandle(caseId);
    expect(await handle.result()).toEqual({ caseId, status: 'closed' });
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(Date.parse(dueAt));
    const record = await service.getCase(caseId);
    expect(record.events.at(-1)).toMatchObject({ action: 'case.follow_up_expired', payload: { followUpDueAt: dueAt }, actor: { role: 'system' } });
    expect(record.followUp).toMatchObject({ status: 'expired', rating: null });
    // After the window: the run has ended, a rating is refused as out of state.
    expect((await refusal(service.rateCase(caseId, { rating: 'satisfied' }, complainantActor))).code).toBe('invalid_state');
    await recordHistory(env.client, caseId, 'case-follow-up-expired');
  });

  it('refuses an upholding beyond the policy’s reopenings, and dismisses the 不满意', async () => {
    const caseId = await complaintCaseClosed([5]);
    await service.answerCase(caseId, office, { answer: '已处理' });
    await service.rateCase(caseId, { rating: 'dissatisfied', reason: '没处理好' }, complainantActor);
    expect((await refusal(service.decideFollowUp(caseId, office, { decision: 'uphold', reason: 'r', department: 'NOPE' }))).code).toBe(
      'invalid_state',
    );
    await service.decideFollowUp(caseId, office, { decision: 'uphold', reason: '重办', department: 'JD' });
    const record = await service.getCase(caseId);
    expect(record.tasks.map((t) => [t.department, t.role, t.status])).toEqual([
      ['CG', 'lead', 'accepted'],
      ['JD', 'lead', 'assigned'],
    ]);
    await acceptTask(caseId, [6], 'JD');
    await closed(caseId, 2);
    await service.answerCase(caseId, office, { answer: '再次处理' });
    await service.rateCase(caseId, { rating: 'dissatisfied', reason: '还是不行' }, complainantActor);
    const beyond = await refusal(service.decideFollowUp(caseId, office, { decision: 'uphold', reason: '再重办' }));
    expect(beyond.code).toBe('invalid_state');
    expect(beyond.details).toEqual([{ path: 'decision', message: 'at most 1 reopenings' }]);
    await service.decideFollowUp(caseId, office, { decision: 'dismiss', reason: '已按标准处理完毕' });
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    const after = await service.getCase(caseId);
    expect(after.events.at(-1)).toMatchObject({ action: 'case.rating_dismissed', payload: { comment: '已按标准处理完毕' } });
    expect(after.followUp).toMatchObject({ status: 'dismissed', reopens: 1, decision: { decision: 'dismiss', comment: '已按标准处理完毕' } });
    await recordHistory(env.client, caseId, 'case-follow-up-dismissed');
  });

  it('leaves cases not from complaints as they were: closed and completed', async () => {
    const { caseId } = await service.openCase(caseRequest(), office);
    await acceptTask(caseId, [8]);
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });
    expect((await service.getCase(caseId)).followUp).toBeNull();
    expect(await actions(caseId)).not.toContain('case.answered');
  });
});
