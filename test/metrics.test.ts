import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCaseRow, saveTaskRow } from '../db/case.repository';
import type { Db } from '../db/database';
import type { TaskTable } from '../db/schema';
import { createMetricsRegistry, readModelMetrics, RequestMetrics } from '../services/metrics.service';
import { tempDatabase } from './support/database';

const now = new Date('2026-06-10T04:00:00.000Z');
const before = '2026-06-09T04:00:00.000Z';
const after = '2026-06-11T04:00:00.000Z';
const office = { role: 'office', name: '督办' };

/** A task row with only what the gauges look at set. */
const task = (id: string, caseId: string, fields: Partial<TaskTable>): TaskTable => ({
  id,
  case_id: caseId,
  department_code: 'CG',
  role: 'lead',
  status: 'acknowledged',
  rework_count: 0,
  submission_count: 0,
  assigned_at: '2026-06-01T02:00:00.000Z',
  acknowledged_at: null,
  submitted_at: null,
  closed_at: null,
  last_submission: null,
  version: 1,
  updated_at: '2026-06-01T02:00:00.000Z',
  ack_due_at: '2026-06-02T02:00:00.000Z',
  rectification_due_at: after,
  escalation_level: 0,
  ack_escalation_level: 0,
  suspended_since: null,
  suspension_reason: null,
  pending_extension: null,
  extensions_granted: 0,
  pending_transfer: null,
  transferred_to_task: null,
  next_alarm_at: null,
  next_alarm_kind: null,
  next_alarm_label: null,
  responsible_person_id: null,
  responsible_person_name: null,
  responsible_person_post: null,
  ...fields,
});

/** The label pairs of a sample's `{…}` in a stable order, so that the writer's order does not matter. */
const sortedLabels = (labels: string): string => (labels === '' ? '' : [...labels.slice(1, -1).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => m[0]).sort().join(','));

/** The value of `name` with `labels` in an exposition, or undefined when absent. */
function valueOf(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => {
    const m = /^([\w:]+)(\{.*\})? (\S+)$/.exec(l);
    return m !== null && m[1] === name && sortedLabels(m[2] ?? '') === sortedLabels(labels);
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('operations metrics', () => {
  let db: Db;
  let dir: string;

  beforeAll(async () => {
    ({ db, dir } = await tempDatabase(['CG']));
    const openCase = async (id: string, status: string) =>
      saveCaseRow(db, {
        id,
        title: id,
        description: '',
        category: '市容秩序',
        severity: 'general',
        source: 'inspection',
        lead_department: 'CG',
        cooperating_departments: '[]',
        location_address: null,
        location_lat: null,
        location_lng: null,
        due_date: null,
        evidence: '[]',
        status,
        opened_at: '2026-06-01T02:00:00.000Z',
        opened_by: JSON.stringify(office),
        closed_at: null,
        withdrawn_reason: null,
        version: 1,
        updated_at: '2026-06-01T02:00:00.000Z',
      });
    await openCase('DB-2026-000001', 'open');
    await openCase('DB-2026-000002', 'open');
    await openCase('DB-2026-000003', 'closed');
    const tasks = [
      // Overdue at rung 0, rung 2 and rung 2: counted.
      task('DB-2026-000001-T1', 'DB-2026-000001', { rectification_due_at: before }),
      task('DB-2026-000001-T2', 'DB-2026-000001', { status: 'rework', rectification_due_at: before, escalation_level: 2 }),
      task('DB-2026-000002-T1', 'DB-2026-000002', { status: 'assigned', rectification_due_at: before, escalation_level: 2, ack_due_at: before }),
      // Not counted: submitted (the office owes the next step), suspended, not yet due, of a closed case.
      task('DB-2026-000002-T2', 'DB-2026-000002', { status: 'submitted', rectification_due_at: before }),
      task('DB-2026-000002-T3', 'DB-2026-000002', { rectification_due_at: before, suspended_since: before, suspension_reason: '施工' }),
      task('DB-2026-000002-T4', 'DB-2026-000002', { status: 'assigned', rectification_due_at: after, ack_due_at: after }),
      task('DB-2026-000003-T1', 'DB-2026-000003', { status: 'assigned', rectification_due_at: before, ack_due_at: before }),
    ];
    for (const row of tasks) await saveTaskRow(db, row);
    await db
      .insertInto('notices')
      .values({ notice_key: 'n1', case_id: 'DB-2026-000001', task_id: null, department_code: 'CG', kind: 'assigned', roles: '[]', urgent: 0, event_action: null, payload: '{}', event_at: before, status: 'planned', not_before: before, created_at: before })
      .execute();
    const delivery = (key: string, status: string, createdAt: string) => ({
      delivery_key: key,
      id: `dl_${key}`,
      notice_key: 'n1',
      recipient_kind: 'person',
      recipient_id: 'p_1',
      recipient_name: '张三',
      role: 'liaison',
      channel: 'email',
      address: 'z@example.org',
      language: 'zh-CN',
      status,
      attempts: 0,
      next_attempt_at: createdAt,
      last_error: null,
      claim_id: null,
      claimed_at: null,
      sent_at: null,
      created_at: createdAt,
      updated_at: createdAt,
    });
    await db
      .insertInto('deliveries')
      .values([delivery('a', 'pending', '2026-06-10T03:00:00.000Z'), delivery('b', 'sending', '2026-06-10T03:30:00.000Z'), delivery('c', 'sent', '2026-06-01T00:00:00.000Z'), delivery('d', 'failed', before)])
      .execute();
  });
  afterAll(async () => {
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('counts open cases, overdue tasks by rung, late acknowledgements and the outbox backlog from the read model', async () => {
    const registry = createMetricsRegistry();
    await readModelMetrics(registry, db).refresh(now);
    const text = await registry.metrics();
    expect(valueOf(text, 'duban_cases_open')).toBe(2);
    expect(valueOf(text, 'duban_tasks_overdue', '{rung="0"}')).toBe(1);
    expect(valueOf(text, 'duban_tasks_overdue', '{rung="2"}')).toBe(2);
    expect(valueOf(text, 'duban_tasks_overdue', '{rung="1"}')).toBeUndefined();
    expect(valueOf(text, 'duban_tasks_ack_overdue')).toBe(1);
    expect(valueOf(text, 'duban_outbox_deliveries', '{status="pending"}')).toBe(1);
    expect(valueOf(text, 'duban_outbox_deliveries', '{status="failed"}')).toBe(1);
    expect(valueOf(text, 'duban_outbox_backlog')).toBe(2);
    // The oldest owed delivery (pending since 03:00) is an hour old at 04:00.
    expect(valueOf(text, 'duban_outbox_oldest_owed_age_seconds')).toBe(3600);
    expect(text).toContain('# TYPE duban_tasks_overdue gauge\n');
  });

  it('counts requests by route pattern and status, with cumulative duration buckets and escaped labels', async () => {
    const registry = createMetricsRegistry();
    const requests = new RequestMetrics(registry);
    requests.record({ method: 'GET', route: '/api/v1/cases/:caseId', status: 200, seconds: 0.003 });
    requests.record({ method: 'GET', route: '/api/v1/cases/:caseId', status: 200, seconds: 0.2 });
    requests.record({ method: 'GET', route: '/api/v1/cases/:caseId', status: 404, seconds: 0.004 });
    requests.record({ method: 'GET', route: null, status: 404, seconds: 0.001 });
    requests.record({ method: 'POST', route: '/odd"route\\', status: 201, seconds: 30 });
    const text = await registry.metrics();
    expect(valueOf(text, 'duban_http_requests_total', '{method="GET",route="/api/v1/cases/:caseId",status="200"}')).toBe(2);
    expect(valueOf(text, 'duban_http_requests_total', '{method="GET",route="/api/v1/cases/:caseId",status="404"}')).toBe(1);
    expect(valueOf(text, 'duban_http_requests_total', '{method="GET",route="(unmatched)",status="404"}')).toBe(1);
    expect(valueOf(text, 'duban_http_request_duration_seconds_bucket', '{method="GET",route="/api/v1/cases/:caseId",le="0.005"}')).toBe(2);
    expect(valueOf(text, 'duban_http_request_duration_seconds_bucket', '{method="GET",route="/api/v1/cases/:caseId",le="0.25"}')).toBe(3);
    expect(valueOf(text, 'duban_http_request_duration_seconds_bucket', '{method="GET",route="/api/v1/cases/:caseId",le="+Inf"}')).toBe(3);
    expect(valueOf(text, 'duban_http_request_duration_seconds_count', '{method="GET",route="/api/v1/cases/:caseId"}')).toBe(3);
    // A label value with a quote and a backslash stays one well-formed label.
    expect(valueOf(text, 'duban_http_requests_total', '{method="POST",route="/odd\\"route\\\\",status="201"}')).toBe(1);
    expect(valueOf(text, 'duban_http_request_duration_seconds_bucket', '{method="POST",route="/odd\\"route\\\\",le="10"}')).toBe(0);
  });
});
