import { describe, expect, it } from 'vitest';
import { planAlarms } from '../../domain/alarm.plan';
import { WorkingCalendar } from '../../domain/calendar';
import { policySchema } from '../../domain/policy';
import { fireDueAlarms, newTask, pendingAlarms, type TaskState } from '../../domain/task.machine';

// A calendar of weekends only, in Shanghai: Monday 7 Dec 2026 ... (dates chosen clear of holidays).
const calendar = new WorkingCalendar('Asia/Shanghai', {
  holidays: new Set(),
  workdays: new Set(),
  coveredYears: new Set([2026]),
});
const policy = policySchema.parse({});
// Assigned Monday 7 Dec 2026 10:00 in Shanghai; acknowledge by Tuesday; rectify in 3 working days (Thursday).
const deadlines = {
  assignedAt: '2026-12-07T02:00:00.000Z',
  ackDueAt: '2026-12-08T15:59:59.999Z',
  rectificationDueAt: '2026-12-10T15:59:59.999Z',
};
const nine = (day: number) => `2026-12-${String(day).padStart(2, '0')}T01:00:00.000Z`;

const task = (over: Partial<TaskState> = {}): TaskState => ({
  ...newTask({ taskId: 'DB-2026-000001-T1', caseId: 'DB-2026-000001', departmentCode: 'CG', role: 'lead', ...deadlines }),
  ...over,
});

describe('alarm planning', () => {
  it('plans reminders by share of the window and rungs by working days overdue, at the start of the day', () => {
    expect(planAlarms(deadlines, policy, calendar).map((a) => [a.key.split(':').slice(0, 3).join(':'), a.at])).toEqual([
      // 3-day window: 50% and "1 working day left" both fall on Thursday morning; 80% would be past it.
      ['reminder:50%:2026-12-10T15', nine(10)],
      ['escalation:acknowledgement:1', nine(9)],
      ['escalation:acknowledgement:2', nine(10)],
      ['escalation:rectification:1', nine(11)],
      ['escalation:rectification:2', nine(15)],
      ['escalation:rectification:3', nine(17)],
      ['escalation:rectification:4', nine(24)],
    ].sort((a, b) => (a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : a[0]! < b[0]! ? -1 : 1)));
  });

  it('takes the working day start time and the ladder from the policy', () => {
    const custom = policySchema.parse({
      workdayStartTime: '08:30',
      reminders: [],
      escalation: { rectification: [{ level: 2, workingDaysOverdue: 2 }], acknowledgement: [] },
    });
    expect(planAlarms(deadlines, custom, calendar).map((a) => [a.level, a.at])).toEqual([[2, '2026-12-14T00:30:00.000Z']]);
    expect(() => policySchema.parse({ workdayStartTime: '25:00' })).toThrow(/HH:MM/);
    expect(() =>
      policySchema.parse({ escalation: { rectification: [{ level: 2, workingDaysOverdue: 1 }, { level: 1, workingDaysOverdue: 3 }] } }),
    ).toThrow(/rungs go up/);
  });

  it('keeps only the alarms that still concern the task', () => {
    const plan = planAlarms(deadlines, policy, calendar);
    expect(pendingAlarms(task(), plan)).toHaveLength(plan.length);
    // Acknowledged: no acknowledgement rung is due any more.
    const acknowledged = pendingAlarms(task({ status: 'acknowledged' }), plan);
    expect(acknowledged).toEqual(plan.filter((a) => a.deadline === 'rectification'));
    expect(acknowledged.length).toBeGreaterThan(0);
    // Submitted or suspended: nothing runs.
    expect(pendingAlarms(task({ status: 'submitted' }), plan)).toEqual([]);
    expect(pendingAlarms(task({ suspension: { since: deadlines.assignedAt, reason: 'x' } }), plan)).toEqual([]);
    // Rungs reached are not due again; the reminder not yet sent still is.
    expect(pendingAlarms(task({ status: 'rework', escalationLevel: 2 }), plan).map((a) => a.level)).toEqual([null, 3, 4]);
  });

  it('fires every rung owed but only the latest reminder, and no reminder once the deadline has passed', () => {
    const many = policySchema.parse({ reminders: [{ atFraction: 0.3 }, { atFraction: 0.6 }] });
    const longWindow = { ...deadlines, rectificationDueAt: '2026-12-18T15:59:59.999Z' };
    const plan = planAlarms(longWindow, many, calendar);
    const acknowledged = task({ status: 'acknowledged', rectificationDueAt: longWindow.rectificationDueAt });
    const midWindow = fireDueAlarms(acknowledged, plan, '2026-12-16T03:00:00.000Z');
    expect(midWindow.firings.map((f) => [f.event.action, f.event.payload.label])).toEqual([['task.reminded', '60%']]);
    expect(midWindow.state.firedReminders).toHaveLength(2);

    const late = fireDueAlarms(acknowledged, plan, '2026-12-23T03:00:00.000Z');
    expect(late.firings.map((f) => [f.event.action, f.event.payload.level ?? null])).toEqual([
      ['task.escalated', 1],
      ['task.escalated', 2],
    ]);
    expect(late.state).toMatchObject({ escalationLevel: 2, firedReminders: expect.arrayContaining([expect.stringContaining('30%')]) as unknown });
    expect(late.firings[1]!.notifications.map((n) => n.recipient)).toEqual(['department_head', 'office_lead']);
    expect(late.firings[1]!.escalation).toMatchObject({ deadline: 'rectification', level: 2 });
  });
});
