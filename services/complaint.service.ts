import crypto from 'node:crypto';
import type { Actor } from '../domain/case.schema';
import {
  type ComplaintInput,
  complaintConversionSchema,
  complaintDismissalSchema,
  complaintInputSchema,
  type ComplaintPublicStatus,
} from '../domain/complaint.schema';
import { DomainError } from '../domain/errors';
import { localiseInstants } from '../domain/time';
import { parseInput } from '../domain/validation';
import { findCase, listCaseTasks } from '../db/case.repository';
import { type ComplaintRow, findComplaint, insertComplaint, listComplaints, updateComplaint } from '../db/complaint.repository';
import type { Db } from '../db/database';
import { findDepartments } from '../db/department.repository';
import type { CaseService } from './case.service';

/** Crockford's base32: no I, L, O or U to misread over the phone. */
const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A tracking code such as TS-7K3MQ-9Q2PX: 50 random bits, easy to read out and type. */
export function newTrackingCode(): string {
  const bytes = crypto.randomBytes(10);
  const chars = [...bytes].map((b) => alphabet[b % 32]).join('');
  return `TS-${chars.slice(0, 5)}-${chars.slice(5, 10)}`;
}

export const trackingCodePattern = /^TS-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

/** A complaint as anyone with its tracking code sees it: no personal data. */
export interface PublicComplaint {
  trackingCode: string;
  status: ComplaintPublicStatus;
  title: string;
  description: string;
  category: string | null;
  address: string | null;
  lat: number | null;
  lng: number | null;
  mediaUrl: string | null;
  receivedAt: string;
  updatedAt: string;
  dismissReason: string | null;
  case: {
    id: string;
    status: string;
    openedAt: string;
    closedAt: string | null;
    /** The lead department's name. */
    agencyResponsible: string | null;
    /** The lead task's rectification deadline. */
    expectedAt: string | null;
  } | null;
}

/** A complaint as the office sees it, contact details included. */
export type OfficeComplaint = PublicComplaint & {
  contact: NonNullable<ComplaintInput['contact']> | null;
  channel: string;
  serviceCode: string | null;
  evidence: ComplaintInput['evidence'];
};

/**
 * Complaints (投诉/举报) from the public: filed with a tracking code, triaged by the office into a
 * case (once, however often the conversion is retried) or dismissed with a reason.
 */
export function createComplaintService(deps: { db: Db; cases: CaseService; timeZone: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function requireComplaint(code: string): Promise<ComplaintRow> {
    const row = trackingCodePattern.test(code) ? await findComplaint(deps.db, code) : undefined;
    if (!row) throw new DomainError('not_found', `投诉 ${code} 不存在 / no complaint ${code}`);
    return row;
  }

  async function present(row: ComplaintRow): Promise<PublicComplaint> {
    const found = row.case_id ? await findCase(deps.db, row.case_id) : undefined;
    let kase: PublicComplaint['case'] = null;
    let status: ComplaintPublicStatus = row.status === 'dismissed' ? 'dismissed' : 'received';
    if (found) {
      const tasks = await listCaseTasks(deps.db, found.id);
      const lead = tasks.filter((t) => t.role === 'lead' && t.status !== 'transferred').at(-1) ?? tasks[0];
      const [department] = lead ? await findDepartments(deps.db, [lead.department]) : [];
      kase = {
        id: found.id,
        status: found.status,
        openedAt: found.openedAt,
        closedAt: found.closedAt,
        agencyResponsible: department?.name ?? null,
        expectedAt: lead?.rectificationDueAt ?? null,
      };
      status = found.status === 'closed' ? 'closed' : found.status === 'withdrawn' ? 'withdrawn' : 'in_progress';
    }
    const evidence = JSON.parse(row.evidence) as ComplaintInput['evidence'];
    return localiseInstants(
      {
        trackingCode: row.tracking_code,
        status,
        title: row.title,
        description: row.description,
        category: row.category,
        address: row.location_address,
        lat: row.location_lat,
        lng: row.location_lng,
        mediaUrl: evidence[0]?.url ?? null,
        receivedAt: row.created_at,
        updatedAt: row.updated_at,
        dismissReason: row.dismiss_reason,
        case: kase,
      },
      deps.timeZone,
    );
  }

  async function presentToOffice(row: ComplaintRow): Promise<OfficeComplaint> {
    return {
      ...(await present(row)),
      contact: JSON.parse(row.contact) as OfficeComplaint['contact'],
      channel: row.channel,
      serviceCode: row.service_code,
      evidence: JSON.parse(row.evidence) as ComplaintInput['evidence'],
    };
  }

  return {
    /** Files a complaint; returns what the public may see of it, with its tracking code. */
    async file(input: unknown, channel: 'web' | 'open311' = 'web', serviceCode: string | null = null): Promise<PublicComplaint> {
      const parsed = parseInput(complaintInputSchema, input, 'complaint');
      const at = now().toISOString();
      const trackingCode = newTrackingCode();
      await insertComplaint(deps.db, {
        tracking_code: trackingCode,
        channel,
        service_code: serviceCode,
        title: parsed.title ?? parsed.description.slice(0, 40),
        description: parsed.description,
        category: parsed.category ?? null,
        location_address: parsed.location?.address ?? null,
        location_lat: parsed.location?.lat ?? null,
        location_lng: parsed.location?.lng ?? null,
        contact: JSON.stringify(parsed.contact ?? null),
        evidence: JSON.stringify(parsed.evidence),
        status: 'received',
        case_id: null,
        dismiss_reason: null,
        created_at: at,
        updated_at: at,
      });
      return present((await findComplaint(deps.db, trackingCode))!);
    },

    async publicView(trackingCode: string): Promise<PublicComplaint> {
      return present(await requireComplaint(trackingCode));
    },

    async officeView(trackingCode: string): Promise<OfficeComplaint> {
      return presentToOffice(await requireComplaint(trackingCode));
    },

    async list(filter: Parameters<typeof listComplaints>[1], view: 'office' | 'public'): Promise<(PublicComplaint | OfficeComplaint)[]> {
      const rows = await listComplaints(deps.db, filter);
      const out: (PublicComplaint | OfficeComplaint)[] = [];
      for (const row of rows) out.push(view === 'office' ? await presentToOffice(row) : await present(row));
      return out;
    },

    /** Opens a case from a complaint (受理转办); retried, it opens the same one case. */
    async convert(trackingCode: string, input: unknown, actor: Actor): Promise<OfficeComplaint> {
      const row = await requireComplaint(trackingCode);
      const parsed = parseInput(complaintConversionSchema, input, 'conversion');
      if (row.status === 'dismissed') {
        throw new DomainError('invalid_state', `投诉 ${trackingCode} 已不予受理 / complaint ${trackingCode} was dismissed`);
      }
      const opened = await deps.cases.openCase(
        {
          title: parsed.title ?? row.title,
          description: row.description,
          category: parsed.category,
          severity: parsed.severity,
          source: 'complaint',
          leadDepartment: parsed.leadDepartment,
          cooperatingDepartments: parsed.cooperatingDepartments,
          ...(row.location_address
            ? {
                location: {
                  address: row.location_address,
                  ...(row.location_lat !== null && row.location_lng !== null ? { lat: row.location_lat, lng: row.location_lng } : {}),
                },
              }
            : {}),
          evidence: JSON.parse(row.evidence) as ComplaintInput['evidence'],
          ...(parsed.dueDate ? { dueDate: parsed.dueDate } : {}),
        },
        actor,
        { requestKey: `complaint:${trackingCode}`, complaintCode: trackingCode },
      );
      if (row.case_id !== opened.caseId) {
        await updateComplaint(deps.db, trackingCode, { status: 'converted', case_id: opened.caseId, updated_at: now().toISOString() });
      }
      return presentToOffice((await findComplaint(deps.db, trackingCode))!);
    },

    /** 不予受理: dismisses a complaint with a reason the public sees. */
    async dismiss(trackingCode: string, input: unknown): Promise<OfficeComplaint> {
      const row = await requireComplaint(trackingCode);
      const { reason } = parseInput(complaintDismissalSchema, input, 'dismissal');
      if (row.status !== 'received') {
        throw new DomainError('invalid_state', `投诉 ${trackingCode} 已处理（${row.status}） / complaint ${trackingCode} is already ${row.status}`);
      }
      await updateComplaint(deps.db, trackingCode, { status: 'dismissed', dismiss_reason: reason, updated_at: now().toISOString() });
      return presentToOffice((await findComplaint(deps.db, trackingCode))!);
    },
  };
}
export type ComplaintService = ReturnType<typeof createComplaintService>;
