import type { NoticeRole } from '../domain/notice';
import { findCase, listCaseTasks } from '../db/case.repository';
import { findComplaint } from '../db/complaint.repository';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import { findWebhookSubscriber, type NoticeRow } from '../db/notice.repository';
import { findPerson } from '../db/person.repository';
import { type Complainant, complainantRecipientName, type NoticeContext, type NoticeDirectory, type NoticeRecipient } from './notice.dispatcher';
import { noticeLanguages } from './notice.renderer';
import type { Addressee, PeopleService, Recipient } from './people.service';

/** The contact data a complaint was filed with, as stored (JSON, or null when none was given). */
interface StoredContact {
  readonly name?: string;
  readonly phone?: string;
  readonly email?: string;
  readonly language?: string;
}

/**
 * The people a notice goes to, from the directory as it is now: roles of the task's department,
 * the task's responsible person (or, while it has none, the department's liaison), the office's
 * lead and clerks; and the complainant of a case opened from a complaint, from that complaint.
 */
export function createNoticeDirectory(deps: { db: Db; people: PeopleService }): NoticeDirectory {
  /** The complainant of `caseId` as their complaint has them now; null for a case not from a complaint. */
  async function complainantOf(caseId: string): Promise<Complainant | null> {
    const code = (await findCase(deps.db, caseId))?.complaintCode;
    const complaint = code ? await findComplaint(deps.db, code) : undefined;
    if (!complaint) return null;
    const contact = (JSON.parse(complaint.contact) as StoredContact | null) ?? {};
    const language = noticeLanguages.find((l) => l === contact.language) ?? 'zh-CN';
    return { trackingCode: complaint.tracking_code, email: contact.email ?? null, phone: contact.phone ?? null, language };
  }

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
      if (role === 'complainant') {
        // Reached by mail (their e-mail) or by the office's gateway (their phone); with neither, not at all.
        const complainant = scope.caseId ? await complainantOf(scope.caseId) : null;
        if (!complainant || (complainant.email === null && complainant.phone === null)) return [];
        return [{ id: scope.caseId!, name: complainantRecipientName, language: complainant.language, email: complainant.email }];
      }
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
        complainant: notice.case_id && (JSON.parse(notice.roles) as NoticeRole[]).includes('complainant') ? await complainantOf(notice.case_id) : null,
      };
    },

    async currentAddress(delivery) {
      if (delivery.recipient_kind === 'complainant') {
        // The complainant's e-mail as their complaint has it now (the delivery is named after the case).
        const email = (await complainantOf(delivery.recipient_id))?.email ?? null;
        return email ? { address: email } : { gone: '投诉已无电子邮箱 / the complaint has no e-mail address now' };
      }
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
