import { describe, expect, it } from 'vitest';
import type { Actor } from '../../domain/case.schema';
import { DomainError } from '../../domain/errors';
import { checkTaskCommand, continuedTask, decideTask, newTask, type TaskCommand, type TaskState } from '../../domain/task.machine';

const office: Actor = { role: 'office', name: '督查科' };
const cg: Actor = { role: 'department', department: 'CG', name: '城管' };
const jd: Actor = { role: 'department', department: 'JD', name: '街道' };
const evidence = [{ kind: 'url' as const, url: 'https://example.org/a.jpg' }];
const t0 = '2026-03-02T01:00:00.000Z';

const fresh = (): TaskState =>
  newTask({ taskId: 'DB-2026-000001-T1', caseId: 'DB-2026-000001', departmentCode: 'CG', role: 'lead', assignedAt: t0 });

function run(commands: TaskCommand[], start = fresh()): TaskState {
  return commands.reduce((state, command, i) => decideTask(state, command, `2026-03-0${i + 3}T01:00:00.000Z`).state, start);
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('task state machine', () => {
  it('goes assigned → acknowledged → submitted → accepted, stamping each step', () => {
    let state = fresh();
    const ack = decideTask(state, { type: 'acknowledge', actor: cg, note: '收到' }, '2026-03-02T02:00:00.000Z');
    expect(ack.state).toMatchObject({ status: 'acknowledged', acknowledgedAt: '2026-03-02T02:00:00.000Z' });
    expect(ack.events[0]).toMatchObject({ action: 'task.acknowledged', actor: cg, taskId: state.taskId, payload: { note: '收到' } });
    state = ack.state;
    const submit = decideTask(state, { type: 'submit', actor: cg, report: '已整改', evidence }, '2026-03-03T02:00:00.000Z');
    expect(submit.state).toMatchObject({ status: 'submitted', submissionCount: 1, lastSubmission: { report: '已整改', evidence } });
    const accept = decideTask(submit.state, { type: 'verify', actor: office, decision: 'accept' }, '2026-03-04T02:00:00.000Z');
    expect(accept.state).toMatchObject({ status: 'accepted', closedAt: '2026-03-04T02:00:00.000Z' });
    expect(accept.events[0]?.action).toBe('task.accepted');
  });

  it('sends a rejected rectification back for rework and counts rework and submissions', () => {
    const state = run([
      { type: 'acknowledge', actor: cg },
      { type: 'submit', actor: cg, report: '一', evidence },
      { type: 'verify', actor: office, decision: 'reject', comment: '不彻底' },
      { type: 'submit', actor: cg, report: '二', evidence },
      { type: 'verify', actor: office, decision: 'reject', comment: '仍不彻底' },
    ]);
    expect(state).toMatchObject({ status: 'rework', reworkCount: 2, submissionCount: 2 });
    const done = run([{ type: 'submit', actor: cg, report: '三', evidence }, { type: 'verify', actor: office, decision: 'accept' }], state);
    expect(done).toMatchObject({ status: 'accepted', reworkCount: 2, submissionCount: 3 });
  });

  it('records progress without changing the status', () => {
    const acknowledged = run([{ type: 'acknowledge', actor: cg }]);
    const { state, events: [event] } = decideTask(acknowledged, { type: 'reportProgress', actor: cg, note: '已约谈摊主', evidence: [] }, t0);
    expect(state).toBe(acknowledged);
    expect(event).toMatchObject({ action: 'task.progress_reported', payload: { note: '已约谈摊主' } });
  });

  it.each<[string, TaskCommand[], TaskCommand, string]>([
    ['submit before acknowledging', [], { type: 'submit', actor: cg, report: 'x', evidence }, 'invalid_state'],
    ['verify before submitting', [{ type: 'acknowledge', actor: cg }], { type: 'verify', actor: office, decision: 'accept' }, 'invalid_state'],
    ['acknowledge twice', [{ type: 'acknowledge', actor: cg }], { type: 'acknowledge', actor: cg }, 'invalid_state'],
    ['another department acknowledges', [], { type: 'acknowledge', actor: jd }, 'forbidden'],
    ['the office acknowledges for the department', [], { type: 'acknowledge', actor: office }, 'forbidden'],
    ['a department verifies', [{ type: 'acknowledge', actor: cg }, { type: 'submit', actor: cg, report: 'x', evidence }], { type: 'verify', actor: cg, decision: 'accept' }, 'forbidden'],
    ['a department withdraws', [], { type: 'withdraw', actor: cg, reason: 'x' }, 'forbidden'],
  ])('refuses: %s', (_name, before, command, code) => {
    const state = run(before);
    const error = refusal(() => checkTaskCommand(state, command));
    expect(error.code).toBe(code);
    expect(refusal(() => decideTask(state, command, t0)).code).toBe(code);
  });

  it('refuses every command once the task has finished', () => {
    const accepted = run([
      { type: 'acknowledge', actor: cg },
      { type: 'submit', actor: cg, report: 'x', evidence },
      { type: 'verify', actor: office, decision: 'accept' },
    ]);
    const withdrawn = run([{ type: 'withdraw', actor: office, reason: '撤销' }]);
    for (const state of [accepted, withdrawn]) {
      for (const command of [
        { type: 'acknowledge', actor: cg },
        { type: 'submit', actor: cg, report: 'x', evidence },
        { type: 'verify', actor: office, decision: 'reject', comment: 'x' },
        { type: 'withdraw', actor: office, reason: 'x' },
      ] satisfies TaskCommand[]) {
        expect(refusal(() => checkTaskCommand(state, command)).code).toBe('invalid_state');
      }
    }
  });

  it('names both departments when one acts on the other’s task', () => {
    const error = refusal(() => checkTaskCommand(fresh(), { type: 'acknowledge', actor: jd }));
    expect(error.message).toContain('JD');
    expect(error.message).toContain('CG');
  });

  describe('the responsible person (责任人)', () => {
    const zhang = { id: 'p_0a1b2c3d4e5f', name: '张三', post: '科长' };
    const li = { id: 'p_1b2c3d4e5f60', name: '李四', post: '副科长' };

    it('is named by the office or the task’s own department, on any live task, and recorded as named', () => {
      expect(fresh().responsiblePerson).toBeNull();
      const byOffice = decideTask(fresh(), { type: 'assignResponsiblePerson', actor: office, person: zhang }, t0);
      expect(byOffice.state).toEqual({ ...fresh(), responsiblePerson: zhang });
      expect(byOffice.events).toEqual([
        { action: 'task.responsible_person_assigned', actor: office, at: t0, taskId: 'DB-2026-000001-T1', payload: { personId: zhang.id, name: '张三', post: '科长' } },
      ]);
      const submitted = run([{ type: 'acknowledge', actor: cg }, { type: 'submit', actor: cg, report: 'x', evidence }], byOffice.state);
      const replaced = decideTask(submitted, { type: 'assignResponsiblePerson', actor: cg, person: li }, t0);
      expect(replaced.state).toMatchObject({ status: 'submitted', responsiblePerson: li });
      expect(replaced.events[0]).toMatchObject({ actor: cg, payload: { personId: li.id, name: '李四', post: '副科长' } });
    });

    it('is not named by another department, nor on a finished task', () => {
      const other = refusal(() => checkTaskCommand(fresh(), { type: 'assignResponsiblePerson', actor: jd, person: zhang }));
      expect(other.code).toBe('forbidden');
      expect(other.message).toContain('CG');
      const accepted = run([
        { type: 'acknowledge', actor: cg },
        { type: 'submit', actor: cg, report: 'x', evidence },
        { type: 'verify', actor: office, decision: 'accept' },
      ]);
      expect(refusal(() => decideTask(accepted, { type: 'assignResponsiblePerson', actor: office, person: zhang }, t0)).code).toBe('invalid_state');
    });

    it('may be named with the acknowledgement, which then records both', () => {
      const { state, events } = decideTask(fresh(), { type: 'acknowledge', actor: cg, note: '收到', responsiblePerson: zhang }, t0);
      expect(state).toMatchObject({ status: 'acknowledged', acknowledgedAt: t0, responsiblePerson: zhang });
      expect(events.map((e) => [e.action, e.actor, e.payload])).toEqual([
        ['task.acknowledged', cg, { note: '收到' }],
        ['task.responsible_person_assigned', cg, { personId: zhang.id, name: '张三', post: '科长' }],
      ]);
      // Without one, the acknowledgement is recorded as it always was.
      expect(decideTask(fresh(), { type: 'acknowledge', actor: cg }, t0).events.map((e) => e.action)).toEqual(['task.acknowledged']);
    });

    it('is none in a task continued from state recorded before the field existed', () => {
      const { responsiblePerson: _absent, ...recordedBefore } = fresh();
      expect(continuedTask(recordedBefore as TaskState).responsiblePerson).toBeNull();
      const named = { ...fresh(), responsiblePerson: zhang };
      expect(continuedTask(named)).toEqual(named);
    });
  });
});
