import type { TaskView } from './case.mapper';
import { toTaskView } from './case.mapper';
import type { Executor } from './database';

/** A live task with what a list shows of its case. */
export interface OpenTaskRow {
  readonly task: TaskView;
  readonly caseTitle: string;
  readonly caseCategory: string;
  readonly address: string | null;
}

const finished = ['accepted', 'withdrawn', 'transferred'];

/** The live tasks of open cases (of one department, or all), for the inbox and the dashboard. */
export async function listOpenTasks(db: Executor, department?: string): Promise<OpenTaskRow[]> {
  let query = db
    .selectFrom('tasks')
    .innerJoin('cases', 'cases.id', 'tasks.case_id')
    .selectAll('tasks')
    .select(['cases.title as case_title', 'cases.category as case_category', 'cases.location_address as case_address'])
    .where('cases.status', '=', 'open')
    .where('tasks.status', 'not in', finished);
  if (department !== undefined) query = query.where('tasks.department_code', '=', department);
  const rows = await query.orderBy('tasks.id').execute();
  return rows.map(({ case_title, case_category, case_address, ...task }) => ({
    task: toTaskView(task),
    caseTitle: case_title,
    caseCategory: case_category,
    address: case_address,
  }));
}
