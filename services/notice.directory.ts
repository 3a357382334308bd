import type { NoticeRole } from '../domain/notice';
import { findCase, listCaseTasks } from '../db/case.repository';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import { findWebhookSubscriber, type NoticeRow } from '../db/notice.repository';
import { findPerson } from '../db/person.repository';
import type { NoticeContext, NoticeDirectory, NoticeRecipient } from './notice.dispatcher';
import type { Addressee, PeopleService, Recipient } from './people.service';

/**
 * The people a notice goes to, from the directory as it is now: roles of the task's department,
 * the task's responsible person (or, while it has none, the department's liaison), the office's
 * lead and clerks.
 */
export function createNoticeDirectory(deps: { db: Db; people: PeopleService }): NoticeDirectory {
  const resolve = async (addressee: Addressee): Promise<Recipient[]> => (await deps.people.recipientsFor([addressee]))[0]?.recipients ?? [];
  const toRecipient = (r: Recipient): NoticeRecipient => ({
    id: r.personId,
    name: r.name,
    language: r.language,
    email: r.channels.find((c) => c.channel === 'email')?.address ?? null,
  });
  return {
    async recipients(role: NoticeRole, scope): Promise<NoticeRecipient[]> {
      let found: Recipient[] = [];
      if (role === 'office_lead' || role === 'office_clerk') {
        found = await resolve({ kind: 'office_role', role: role === 'office_lead' ? 'lead' : 'clerk' });
      } else if (role === 'responsible') {
        if (scope.taskId) found = await resolve({ kind: 'responsible_person', taskId: scope.taskId });
        if (found.length === 0 && scope.department) found = await resolve({ kind: 'department_role', department: scope.department, role: 'liaison' });
      } else if (scope.department) {
        found = await resolve({ kind: 'department_role', department: scope.department, role });
      }
      return found.map(toRecipient);
    },

    async context(notice: NoticeRow): Promise<NoticeContext> {
      const kase = notice.case_id ? await findCase(deps.db, notice.case_id) : undefined;
      const department = notice.department_code ? await findDepartment(deps.db, notice.department_code) : undefined;
      const tasks = notice.case_id ? await listCaseTasks(deps.db, notice.case_id) : [];
      const payload = JSON.parse(notice.payload) as { toDepartment?: unknown };
      const to = typeof payload.toDepartment === 'string' ? await findDepartment(deps.db, payload.toDepartment) : undefined;
      return {
        caseTitle: kase?.title ?? '',
        departmentName: department?.name ?? null,
        // A case-level notice (a closure) goes to every department that did the work to the end.
        departments: tasks.filter((t) => t.status !== 'transferred' && t.status !== 'withdrawn').map((t) => ({ department: t.department, taskId: t.id })),
        address: kase?.location?.address ?? null,
        rectificationDueAt: tasks.find((t) => t.id === notice.task_id)?.rectificationDueAt ?? null,
        toDepartmentName: to?.name ?? null,
      };
    },

    async currentAddress(delivery) {
      if (delivery.recipient_kind === 'webhook') {
        const subscriber = await findWebhookSubscriber(deps.db, delivery.recipient_id);
        return subscriber?.active === 1 ? { address: subscriber.url } : { gone: '订阅已停用 / the subscriber was deactivated' };
      }
      const person = await findPerson(deps.db, delivery.recipient_id);
      if (!person?.active) return { gone: '已从目录中移除 / removed from the directory' };
      if (!person.email || !person.channels.includes('email')) return { gone: '目录中已无其电子邮箱 / no e-mail address in the directory now' };
      return { address: person.email };
    },
  };
}
