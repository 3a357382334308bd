import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Actor } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { instantSchema } from '../domain/time';
import { text } from '../domain/text';
import { parseInput } from '../domain/validation';
import { completeInterview, findInterview, type InterviewRow, listEscalations, listInterviews } from '../db/bulletin.repository';
import type { Db } from '../db/database';

/** Who may see what: the office everything, a department its own rows only. */
export type Viewer = { readonly role: 'office' } | { readonly role: 'department'; readonly department: string };


/** A rung reached by a task against its deadline. */
export interface EscalationView {
  readonly id: number;
  readonly caseId: string;
  readonly taskId: string;
  readonly department: string;
  readonly departmentName: string;
  readonly title: string;
  /** acknowledgement | rectification */
  readonly deadline: string;
  readonly level: number;
  readonly rung: string;
  readonly dueAt: string;
  readonly at: string;
  /** The bulletin that published it (通报批评), if any. */
  readonly bulletinId: string | null;
}

/** An accountability interview (约谈) called by rung 4. */
export interface InterviewView {
  readonly id: string;
  readonly caseId: string;
  readonly taskId: string;
  readonly department: string;
  readonly status: 'pending' | 'completed';
  readonly calledAt: string;
  readonly interviewees: string | null;
  readonly interviewers: string | null;
  readonly heldAt: string | null;
  readonly outcome: string | null;
  readonly completedBy: string | null;
  readonly completedAt: string | null;
}

export const interviewRecordSchema = z
  .object({
    /** Who was interviewed (names and posts, e.g. 区城管局 王局长). */
    interviewees: text(500),
    /** Who held it. */
    interviewers: text(500),
    heldAt: instantSchema,
    /** What was decided: the commitments, the deadline, any accountability. */
    outcome: text(4000),
  })
  .strict();

const rungNames: Record<number, string> = { 1: '催办', 2: '督办', 3: '通报批评', 4: '约谈' };

/** An escalation page cursor: `<at>_<id>` of the last row. */
export const escalationCursorPattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_(\d{1,15})$/;

const toInterview = (row: InterviewRow): InterviewView => ({
  id: row.id,
  caseId: row.case_id,
  taskId: row.task_id,
  department: row.department_code,
  status: row.status as InterviewView['status'],
  calledAt: row.called_at,
  interviewees: row.interviewees,
  interviewers: row.interviewers,
  heldAt: row.held_at,
  outcome: row.outcome,
  completedBy: row.completed_by,
  completedAt: row.completed_at,
});

/** The rungs reached (escalations) and the interviews rung 4 calls for. */
export function createEscalationService(deps: { db: Db; zone: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const ownOnly = (viewer: Viewer, department?: string): string | undefined => {
    if (viewer.role === 'office') return department;
    if (department && department !== viewer.department) {
      throw new DomainError('forbidden', `部门只能查看本部门 / a department sees only its own (${viewer.department})`);
    }
    return viewer.department;
  };
  return {
    /** Rungs reached, oldest first, a page at a time (`next`: the cursor of the following page). */
    async list(
      viewer: Viewer,
      filter: { department?: string; level?: number; from?: string; to?: string; limit: number; cursor?: string },
    ): Promise<{ items: EscalationView[]; next: string | null }> {
      const department = ownOnly(viewer, filter.department);
      const match = filter.cursor ? escalationCursorPattern.exec(filter.cursor) : null;
      const rows = await listEscalations(deps.db, {
        ...(department ? { department } : {}),
        ...(filter.level ? { level: filter.level } : {}),
        ...(filter.from ? { fromInstant: DateTime.fromISO(filter.from, { zone: deps.zone }).startOf('day').toUTC().toISO()! } : {}),
        ...(filter.to ? { toInstant: DateTime.fromISO(filter.to, { zone: deps.zone }).plus({ days: 1 }).startOf('day').toUTC().toISO()! } : {}),
        ...(match ? { after: { at: match[1]!, id: Number(match[2]) } } : {}),
        limit: filter.limit + 1,
      });
      const page = rows.slice(0, filter.limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          id: r.id,
          caseId: r.case_id,
          taskId: r.task_id,
          department: r.department_code,
          departmentName: r.department_name ?? r.department_code,
          title: r.title,
          deadline: r.deadline,
          level: r.level,
          rung: rungNames[r.level] ?? String(r.level),
          dueAt: r.due_at,
          at: r.at,
          bulletinId: r.bulletin_id,
        })),
        next: rows.length > filter.limit && last ? `${last.at}_${last.id}` : null,
      };
    },

    async listInterviews(viewer: Viewer, filter: { department?: string; status?: string; limit: number; after?: string }): Promise<InterviewView[]> {
      const department = ownOnly(viewer, filter.department);
      const rows = await listInterviews(deps.db, {
        ...(department ? { department } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.after ? { afterId: filter.after } : {}),
        limit: filter.limit,
      });
      return rows.map(toInterview);
    },

    async getInterview(viewer: Viewer, id: string): Promise<InterviewView> {
      const row = await findInterview(deps.db, id);
      if (!row || (viewer.role === 'department' && row.department_code !== viewer.department)) {
        throw new DomainError('not_found', `约谈 ${id} 不存在 / interview ${id} not found`);
      }
      return toInterview(row);
    },

    /** Records how an interview went; once only (a completed record is not rewritten). */
    async completeInterview(id: string, input: unknown, actor: Actor): Promise<InterviewView> {
      const record = parseInput(interviewRecordSchema, input, 'interview');
      const row = await findInterview(deps.db, id);
      if (!row) throw new DomainError('not_found', `约谈 ${id} 不存在 / interview ${id} not found`);
      if (Date.parse(record.heldAt) < Date.parse(row.called_at)) {
        throw new DomainError('invalid_input', 'heldAt: 不能早于约谈启动时间 / cannot be before the interview was called', [
          { path: 'heldAt', message: 'before it was called' },
        ]);
      }
      const done = await completeInterview(deps.db, id, {
        interviewees: record.interviewees,
        interviewers: record.interviewers,
        heldAt: new Date(record.heldAt).toISOString(),
        outcome: record.outcome,
        completedBy: actor.name,
        completedAt: now().toISOString(),
      });
      if (!done) throw new DomainError('invalid_state', `约谈 ${id} 已记录 / interview ${id} is already recorded`);
      return toInterview((await findInterview(deps.db, id))!);
    },
  };
}
export type EscalationService = ReturnType<typeof createEscalationService>;
