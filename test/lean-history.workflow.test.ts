import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../services/case.service';
import { caseRequest, dept, office, photo } from './support/fixtures';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const EventType = temporal.api.enums.v1.EventType;

/**
 * What a case costs in history, event by event (patches lean-case-history and lean-task-history):
 * each event is server work, and each upsert of a search attribute a visibility write besides.
 */
describe('the history a case writes', () => {
  let env: TestWorkflowEnvironment;
  let service: CaseService;
  let stack: WorkflowStack;

  beforeAll(async () => {
    stack = await startWorkflowStack();
    ({ env, service } = stack);
  });
  afterAll(() => stack?.close());

  /** The workflow's events, by type name (markers and upserts named by what they hold). */
  async function eventsOf(workflowId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).map((e) => {
      const type = String(EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '');
      if (e.markerRecordedEventAttributes) return `${type}:${e.markerRecordedEventAttributes.markerName}`;
      const upserted = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      return upserted ? `${type}:${Object.keys(upserted).sort().join(',')}` : type;
    });
  }
  const count = (events: string[], type: string) => events.filter((e) => e === type).length;

  it('has one patch marker per workflow and the closing turn’s, no upsert of what was set at the start, and no plan made twice', async () => {
    const { caseId } = await service.openCase(caseRequest({ cooperatingDepartments: ['JD'] }), office);
    for (const code of ['CG', 'JD']) {
      await service.acknowledgeTask(caseId, dept(code), {});
      await service.submitRectification(caseId, dept(code), { report: `${code} 整改完成`, evidence: [photo] });
      await service.verifyRectification(caseId, office, { decision: 'accept' }, { department: code });
    }
    expect(await env.client.workflow.getHandle(caseId).result()).toEqual({ caseId, status: 'closed' });

    const caseEvents = await eventsOf(caseId);
    // The fenced journal's, and the closing turn's (a patch made after the fenced journal).
    expect(count(caseEvents, 'MARKER_RECORDED:core_patch')).toBe(2);
    expect(count(caseEvents, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:TemporalChangeVersion')).toBe(2);
    // Before completing, one turn through the server as an activity, not a timer.
    expect(count(caseEvents, 'ACTIVITY_TASK_COMPLETED')).toBe(1);
    expect(count(caseEvents, 'TIMER_STARTED')).toBe(0);
    // Status and departments came with the start; only the closing changes the status.
    expect(caseEvents.filter((e) => e.includes('DubanStatus') || e.includes('DubanDepartments'))).toEqual([
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:DubanStatus',
    ]);
    // The deadlines, the opening and the closing.
    expect(count(caseEvents, 'MARKER_RECORDED:core_local_activity')).toBe(3);

    for (const taskId of [`${caseId}-T1`, `${caseId}-T2`]) {
      const events = await eventsOf(taskId);
      expect(count(events, 'MARKER_RECORDED:core_patch')).toBe(2);
      expect(count(events, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:TemporalChangeVersion')).toBe(2);
      expect(count(events, 'ACTIVITY_TASK_COMPLETED')).toBe(1);
      // acknowledged, submitted, accepted: one upsert per change of status, none at the start.
      expect(count(events, 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:DubanStatus')).toBe(3);
      expect(events.filter((e) => e.includes('DubanDepartments'))).toEqual([]);
      // One journal write per command, and no re-plan at the start (the case's plan is taken).
      expect(count(events, 'MARKER_RECORDED:core_local_activity')).toBe(3);
    }
  });

  it('keeps the timer running through changes that leave the next alarm where it was', async () => {
    const { caseId } = await service.openCase(caseRequest(), office);
    const taskId = `${caseId}-T1`;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    // The next alarm is now the first reminder; progress reports leave it there.
    for (const note of ['已联系商户', '已清理一半', '基本完成']) await service.reportProgress(caseId, dept('CG'), { note });
    await service.submitRectification(caseId, dept('CG'), { report: '完成', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    await env.client.workflow.getHandle(caseId).result();

    const events = await eventsOf(taskId);
    // Started: the acknowledgement rung and the reminder (the closing's turn is an activity).
    // Cancelled: the rung on acknowledging, the reminder on submitting; none for the three
    // reports between.
    expect(count(events, 'TIMER_STARTED')).toBe(2);
    expect(count(events, 'TIMER_CANCELED')).toBe(2);
    expect(count(events, 'WORKFLOW_EXECUTION_UPDATE_COMPLETED')).toBe(6);
    expect(count(events, 'MARKER_RECORDED:core_local_activity')).toBe(6);
  });
});
