import { describe, expect, it } from 'vitest';
import { openCase, recordTaskFinished, withdrawCase } from '../../domain/case.machine';
import { type Actor, caseDetailsSchema } from '../../domain/case.schema';
import { DomainError } from '../../domain/errors';

const office: Actor = { role: 'office', name: '督查科' };
const details = caseDetailsSchema.parse({
  title: '垃圾清运不及时',
  category: '环境卫生',
  severity: 'general',
  source: 'complaint',
  leadDepartment: 'HW',
  cooperatingDepartments: ['JD', 'WY'],
});
const at = '2026-05-06T02:00:00.000Z';

describe('case state machine', () => {
  it('opens with a lead task and one task per cooperating department, all recorded', () => {
    const { state, events } = openCase({ caseId: 'DB-2026-000007', details, actor: office, at });
    expect(state.tasks).toEqual([
      { taskId: 'DB-2026-000007-T1', departmentCode: 'HW', role: 'lead', outcome: null },
      { taskId: 'DB-2026-000007-T2', departmentCode: 'JD', role: 'cooperating', outcome: null },
      { taskId: 'DB-2026-000007-T3', departmentCode: 'WY', role: 'cooperating', outcome: null },
    ]);
    expect(events.map((e) => [e.action, e.taskId])).toEqual([
      ['case.opened', null],
      ['task.assigned', 'DB-2026-000007-T1'],
      ['task.assigned', 'DB-2026-000007-T2'],
      ['task.assigned', 'DB-2026-000007-T3'],
    ]);
  });

  it('names the responsible person the office chose for a department right after its assignment', () => {
    const person = { id: 'p_0a1b2c3d4e5f', name: '王五', post: '环卫所所长' };
    const { events } = openCase({ caseId: 'DB-2026-000007', details, actor: office, at, responsiblePersons: { JD: person } });
    expect(events.map((e) => [e.action, e.taskId])).toEqual([
      ['case.opened', null],
      ['task.assigned', 'DB-2026-000007-T1'],
      ['task.assigned', 'DB-2026-000007-T2'],
      ['task.responsible_person_assigned', 'DB-2026-000007-T2'],
      ['task.assigned', 'DB-2026-000007-T3'],
    ]);
    expect(events[3]).toMatchObject({ actor: office, at, payload: { personId: person.id, name: '王五', post: '环卫所所长' } });
  });

  it('closes only when every task is accepted', () => {
    let { state } = openCase({ caseId: 'DB-2026-000007', details, actor: office, at });
    for (const [i, taskId] of ['DB-2026-000007-T1', 'DB-2026-000007-T3'].entries()) {
      const decision = recordTaskFinished(state, taskId, 'accepted', `2026-05-0${7 + i}T02:00:00.000Z`);
      expect(decision.events).toEqual([]);
      state = decision.state;
    }
    expect(state.status).toBe('open');
    const last = recordTaskFinished(state, 'DB-2026-000007-T2', 'accepted', '2026-05-10T02:00:00.000Z');
    expect(last.state).toMatchObject({ status: 'closed', closedAt: '2026-05-10T02:00:00.000Z' });
    expect(last.events.map((e) => e.action)).toEqual(['case.closed']);
  });

  it('withdraws an open case with its reason; refuses departments and finished cases', () => {
    const { state } = openCase({ caseId: 'DB-2026-000007', details, actor: office, at });
    const dept: Actor = { role: 'department', department: 'HW', name: 'x' };
    expect(() => withdrawCase(state, { actor: dept, reason: 'x' }, at)).toThrow(DomainError);
    const withdrawn = withdrawCase(state, { actor: office, reason: '重复件' }, at);
    expect(withdrawn.state).toMatchObject({ status: 'withdrawn', withdrawal: { reason: '重复件', by: office } });
    expect(withdrawn.events.map((e) => [e.action, e.payload])).toEqual([['case.withdrawn', { reason: '重复件' }]]);
    expect(() => withdrawCase(withdrawn.state, { actor: office, reason: 'again' }, at)).toThrow(/withdrawn/);
    // A task finishing after the withdrawal does not reopen or close the case.
    const late = recordTaskFinished(withdrawn.state, 'DB-2026-000007-T1', 'accepted', at);
    expect(late.state.status).toBe('withdrawn');
    expect(late.events).toEqual([]);
  });
});
