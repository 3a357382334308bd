import type { TaskView } from '../db/case.mapper';
import type { Db } from '../db/database';
import { listOpenTasks, type OpenTaskRow } from '../db/workbench.repository';
import type { NoticeService } from './notice.service';

/** A live task as the inbox and the dashboard list it: what is owed next, by when, and its rung. */
export interface WorkItem extends OpenTaskRow {
  /** The deadline of what the department owes now (acknowledgement or rectification); null when nothing is owed. */
  readonly dueAt: string | null;
  readonly overdue: boolean;
  /** The highest rung of the escalation ladder the task reached (acknowledgement or rectification). */
  readonly rung: number;
}

/** What the department owes on `task` next, and by when (nothing while the office verifies or it is suspended). */
export function owedDeadline(task: TaskView): string | null {
  if (task.suspension) return null;
  if (task.status === 'assigned') return task.ackDueAt ?? task.rectificationDueAt;
  if (task.status === 'acknowledged' || task.status === 'rework') return task.rectificationDueAt;
  return null;
}

const week = 7 * 24 * 3_600_000;

/**
 * The read views of the pages: a department's inbox and the office's dashboard, from the read
 * model (tasks of open cases), with failed notices from the notice service.
 */
export function createWorkbenchService(deps: { db: Db; notices: NoticeService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const items = async (department?: string): Promise<WorkItem[]> => {
    const at = now().toISOString();
    return (await listOpenTasks(deps.db, department)).map((row) => {
      const dueAt = owedDeadline(row.task);
      return { ...row, dueAt, overdue: dueAt !== null && dueAt < at, rung: Math.max(row.task.escalationLevel, row.task.ackEscalationLevel) };
    });
  };
  /** Overdue first, then by deadline (none last), then by case. */
  const byDue = (a: WorkItem, b: WorkItem) =>
    (a.dueAt ?? '9999') < (b.dueAt ?? '9999') ? -1 : (a.dueAt ?? '9999') > (b.dueAt ?? '9999') ? 1 : a.task.id < b.task.id ? -1 : 1;

  return {
    /** A department's live tasks, the earliest deadline first. */
    async inbox(department: string): Promise<WorkItem[]> {
      return (await items(department)).sort(byDue);
    },

    /** The office's overview of open work. */
    async dashboard(): Promise<{
      total: number;
      overdue: number;
      byStatus: { status: string; count: number }[];
      byDepartment: { department: string; open: number; overdue: number; maxRung: number }[];
      dueThisWeek: WorkItem[];
      overdueItems: WorkItem[];
      failedNotices: number;
    }> {
      const all = (await items()).sort(byDue);
      const at = now().getTime();
      const count = new Map<string, number>();
      for (const item of all) count.set(item.task.status, (count.get(item.task.status) ?? 0) + 1);
      const departments = new Map<string, { department: string; open: number; overdue: number; maxRung: number }>();
      for (const item of all) {
        const entry = departments.get(item.task.department) ?? { department: item.task.department, open: 0, overdue: 0, maxRung: 0 };
        entry.open++;
        if (item.overdue) entry.overdue++;
        entry.maxRung = Math.max(entry.maxRung, item.rung);
        departments.set(item.task.department, entry);
      }
      const failed = await deps.notices.listDeliveries({ status: 'failed', limit: 200 });
      return {
        total: all.length,
        overdue: all.filter((i) => i.overdue).length,
        byStatus: [...count].map(([status, n]) => ({ status, count: n })).sort((a, b) => a.status.localeCompare(b.status)),
        byDepartment: [...departments.values()].sort((a, b) => b.overdue - a.overdue || a.department.localeCompare(b.department)),
        dueThisWeek: all.filter((i) => i.dueAt !== null && !i.overdue && Date.parse(i.dueAt) - at <= week),
        overdueItems: all.filter((i) => i.overdue),
        failedNotices: failed.length,
      };
    },
  };
}
export type WorkbenchService = ReturnType<typeof createWorkbenchService>;
