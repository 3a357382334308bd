import crypto from 'node:crypto';
import { type Actor, complainantActor, pointOf } from '../domain/case.schema';
import { type FollowUpStatus, type Rating, rateInputSchema } from '../domain/follow-up';
import {
  type ComplaintInput,
  complaintConversionSchema,
  complaintDismissalSchema,
  complaintInputSchema,
  type ComplaintPublicStatus,
} from '../domain/complaint.schema';
import { DomainError } from '../domain/errors';
import { leadingCharacters } from '../domain/text';
import { parseInput } from '../domain/validation';
import { caseIdSchema } from '../domain/case-id';
import {
  type ComplaintState,
  type ComplaintViewRow,
  findComplaint,
  findComplaintView,
  findComplaintViewByCase,
  insertComplaint,
  listComplaintViews,
  transitionComplaint,
} from '../db/complaint.repository';
import type { Db } from '../db/database';
import { findFollowUp, type FollowUpView } from '../db/follow-up.repository';
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

/** A complaint as the holder of its tracking code sees it: no contact data, coordinates coarsened. */
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
  case: PublicCase | null;
}

/**
 * The office's answer (答复) as the holder of the tracking code sees it: the text, the after-photos
 * the office chose (public links to exactly those files), the rating window and the rating given.
 * Never the complainant's contact data, nor who in the office wrote it.
 */
export interface PublicAnswer {
  text: string;
  photos: { url: string; name: string; mediaType: string }[];
  answeredAt: string;
  /** Until when the complainant may rate it. */
  followUpDueAt: string | null;
  followUpStatus: FollowUpStatus;
  /** 满意 / 基本满意 / 不满意, once given. */
  rating: { rating: Rating; at: string } | null;
  /** Whether the office upheld a 不满意 (the case was reopened) or dismissed it. */
  decision: 'uphold' | 'dismiss' | null;
}

const publicExtensions: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'video/mp4': 'mp4',
  'video/quicktime': 'mov',
  'application/pdf': 'pdf',
};

/**
 * The name the public sees for the `index`-th photo of an answer: `photo-1.jpg`. Never the
 * uploader's file name or note (a department may have written the complainant's name in either);
 * the office chose the file, not its words.
 */
export function answerPhotoName(index: number, mediaType: string): string {
  return `photo-${index + 1}.${publicExtensions[mediaType] ?? 'bin'}`;
}

/** The public link to a photo an answer shows. */
export function answerPhotoUrl(trackingCode: string, sha256: string): string {
  return `/api/v1/complaints/${trackingCode}/photos/${sha256}`;
}

function publicAnswer(trackingCode: string, followUp: FollowUpView | undefined): PublicAnswer | null {
  if (!followUp?.answer) return null;
  return {
    text: followUp.answer.text,
    photos: followUp.answer.evidence.flatMap((e) =>
      e.kind === 'file' ? [e] : [],
    ).map((e, i) => ({ url: answerPhotoUrl(trackingCode, e.sha256), name: answerPhotoName(i, e.mediaType), mediaType: e.mediaType })),
    answeredAt: followUp.answer.at,
    followUpDueAt: followUp.followUpDueAt,
    followUpStatus: followUp.status,
    rating: followUp.rating ? { rating: followUp.rating.rating, at: followUp.rating.at } : null,
    decision: followUp.decision?.decision ?? null,
  };
}

/** What anyone may learn of the case opened from a complaint. */
export interface PublicCase {
  id: string;
  status: string;
  openedAt: string;
  closedAt: string | null;
  /** The lead department's name. */
  agencyResponsible: string | null;
  /** The lead task's rectification deadline. */
  expectedAt: string | null;
}

/**
 * A complaint the office accepted, as anyone may list it: named by its case, described in the
 * office's words (the case title), never with the tracking code, the complainant's own text,
 * their photos or their contact details; coordinates coarsened.
 */
export interface PublishedRequest {
  caseId: string;
  status: 'in_progress' | 'closed';
  title: string;
  category: string | null;
  serviceCode: string | null;
  address: string | null;
  lat: number | null;
  lng: number | null;
  receivedAt: string;
  updatedAt: string;
  case: PublicCase;
}

/** A complaint as the office sees it, contact details included. */
export type OfficeComplaint = PublicComplaint & {
  contact: NonNullable<ComplaintInput['contact']> | null;
  channel: string;
  serviceCode: string | null;
  evidence: ComplaintInput['evidence'];
};

/**
 * Coordinates shown to the public are rounded to three decimals, about 100 m: enough to find the
 * problem, not enough to find the door of whoever reported it.
 */
export function coarseCoordinate(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

/** The public cases of complaints: those the office accepted, and not withdrawn since. */
const publishedStates = ['converted'] as const;
const unpublishedCaseStatuses = ['withdrawn'];

function publicCase(row: ComplaintViewRow): PublicCase | null {
  if (!row.case_id || !row.case_status || !row.case_opened_at) return null;
  return {
    id: row.case_id,
    status: row.case_status,
    openedAt: row.case_opened_at,
    closedAt: row.case_closed_at,
    agencyResponsible: row.lead_department_name,
    expectedAt: row.lead_due_at,
  };
}

function publicStatus(row: ComplaintViewRow): ComplaintPublicStatus {
  if (row.status === 'dismissed') return 'dismissed';
  if (!row.case_status) return 'received';
  return row.case_status === 'closed' ? 'closed' : row.case_status === 'withdrawn' ? 'withdrawn' : 'in_progress';
}

/** The later of two instants (ISO 8601 UTC strings compare in time order). */
const later = (a: string, b: string | null): string => (b !== null && b > a ? b : a);

function toPublic(row: ComplaintViewRow): PublicComplaint {
  const evidence = JSON.parse(row.evidence) as ComplaintInput['evidence'];
  return {
    trackingCode: row.tracking_code,
    status: publicStatus(row),
    title: row.title,
    description: row.description,
    category: row.category,
    address: row.location_address,
    lat: coarseCoordinate(row.location_lat),
    lng: coarseCoordinate(row.location_lng),
    mediaUrl: evidence[0]?.url ?? null,
    receivedAt: row.created_at,
    updatedAt: later(row.updated_at, row.case_updated_at),
    dismissReason: row.dismiss_reason,
    case: publicCase(row),
  };
}

function toOffice(row: ComplaintViewRow): OfficeComplaint {
  return {
    ...toPublic(row),
    lat: row.location_lat,
    lng: row.location_lng,
    contact: JSON.parse(row.contact) as OfficeComplaint['contact'],
    channel: row.channel,
    serviceCode: row.service_code,
    evidence: JSON.parse(row.evidence) as ComplaintInput['evidence'],
  };
}

function toPublished(row: ComplaintViewRow): PublishedRequest | undefined {
  const kase = publicCase(row);
  if (!kase || !row.case_title || row.status !== 'converted' || unpublishedCaseStatuses.includes(kase.status)) return undefined;
  return {
    caseId: kase.id,
    status: kase.status === 'closed' ? 'closed' : 'in_progress',
    // The office's words, given when it accepted the complaint; never the complainant's own.
    title: row.case_title ?? '',
    category: row.category,
    serviceCode: row.service_code,
    address: row.location_address,
    lat: coarseCoordinate(row.location_lat),
    lng: coarseCoordinate(row.location_lng),
    receivedAt: row.created_at,
    updatedAt: later(row.updated_at, row.case_updated_at),
    case: kase,
  };
}

/** Filters of the public list of accepted complaints. */
export interface PublishedFilter {
  readonly since: string;
  readonly until: string;
  readonly limit: number;
  readonly offset: number;
  readonly caseIds?: readonly string[] | undefined;
  readonly services?: { readonly codes: readonly string[]; readonly names: readonly string[] } | undefined;
  readonly statuses?: readonly ('open' | 'closed')[] | undefined;
}

/**
 * Complaints (投诉/举报) from the public: filed with a tracking code, triaged by the office into a
 * case (once, however often the conversion is retried) or dismissed with a reason; of two
 * concurrent triage commands on one complaint exactly one takes effect.
 */
export function createComplaintService(deps: { db: Db; cases: CaseService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  const notFound = (code: string) => new DomainError('not_found', `投诉 ${code} 不存在 / no complaint ${code}`);

  async function requireView(code: string): Promise<ComplaintViewRow> {
    const row = trackingCodePattern.test(code) ? await findComplaintView(deps.db, code) : undefined;
    if (!row) throw notFound(code);
    return row;
  }

  const alreadyTriaged = (code: string, status: string) =>
    new DomainError('invalid_state', `投诉 ${code} 已处理（${status}） / complaint ${code} is already ${status}`);

  return {
    /** Files a complaint; returns what its holder may see of it, with its tracking code. */
    async file(
      input: unknown,
      channel: 'web' | 'open311' = 'web',
      serviceCode: string | null = null,
    ): Promise<PublicComplaint & { answer: PublicAnswer | null }> {
      const parsed = parseInput(complaintInputSchema, input, 'complaint');
      const at = now().toISOString();
      const trackingCode = newTrackingCode();
      await insertComplaint(deps.db, {
        tracking_code: trackingCode,
        channel,
        service_code: serviceCode,
        title: parsed.title ?? leadingCharacters(parsed.description, 40),
        description: parsed.description,
        category: parsed.category ?? null,
        location_address: parsed.location?.address ?? null,
        location_lat: pointOf(parsed.location)?.lat ?? null,
        location_lng: pointOf(parsed.location)?.lng ?? null,
        contact: JSON.stringify(parsed.contact ?? null),
        evidence: JSON.stringify(parsed.evidence),
        status: 'received',
        case_id: null,
        dismiss_reason: null,
        created_at: at,
        updated_at: at,
      });
      return { ...toPublic((await findComplaintView(deps.db, trackingCode))!), answer: null };
    },

    /** Where a complaint stands, for whoever holds its tracking code: with the office's answer once given. */
    async publicView(trackingCode: string): Promise<PublicComplaint & { answer: PublicAnswer | null }> {
      const row = await requireView(trackingCode);
      const followUp = row.case_id ? await findFollowUp(deps.db, row.case_id) : undefined;
      return { ...toPublic(row), answer: publicAnswer(trackingCode, followUp) };
    },

    /**
     * 回访: the holder of the tracking code rates the answer to their complaint, once, within the
     * window; a 不满意 gives its reason and goes to the office to decide.
     */
    async rate(trackingCode: string, input: unknown): Promise<PublicComplaint & { answer: PublicAnswer | null }> {
      const row = await requireView(trackingCode);
      const parsed = parseInput(rateInputSchema, input, 'rating');
      if (!row.case_id) {
        throw new DomainError('invalid_state', `投诉 ${trackingCode} 尚无答复，不能评价 / complaint ${trackingCode} has no answer to rate yet`);
      }
      await deps.cases.rateCase(row.case_id, parsed, complainantActor);
      return this.publicView(trackingCode);
    },

    /** The files the answer to a complaint shows (by sha256): the only ones its tracking code opens. */
    async answerPhotos(trackingCode: string): Promise<string[]> {
      const row = await requireView(trackingCode);
      const followUp = row.case_id ? await findFollowUp(deps.db, row.case_id) : undefined;
      return (followUp?.answer?.evidence ?? []).flatMap((e) => (e.kind === 'file' ? [e.sha256] : []));
    },

    /** An accepted complaint as the public list shows it, by its case id. */
    async publishedView(caseId: string): Promise<PublishedRequest> {
      const row = caseIdSchema.safeParse(caseId).success ? await findComplaintViewByCase(deps.db, caseId) : undefined;
      const published = row && toPublished(row);
      if (!published) throw new DomainError('not_found', `没有公开的诉求 ${caseId} / no published request ${caseId}`);
      return published;
    },

    async officeView(trackingCode: string): Promise<OfficeComplaint> {
      return toOffice(await requireView(trackingCode));
    },

    /** Complaints for the office to triage, newest first, contact details included. */
    async listForOffice(filter: { states?: ComplaintState[]; before?: number; limit: number; codes?: string[] }): Promise<OfficeComplaint[]> {
      const states = filter.states?.flatMap((s): ComplaintState[] => (s === 'received' ? ['received', 'converting'] : [s]));
      return (await listComplaintViews(deps.db, { ...filter, states })).map(toOffice);
    },

    /** The complaints the office accepted, as anyone may list them. */
    async listPublished(filter: PublishedFilter): Promise<PublishedRequest[]> {
      const rows = await listComplaintViews(deps.db, {
        states: publishedStates,
        excludeCaseStatuses: unpublishedCaseStatuses,
        since: filter.since,
        until: filter.until,
        limit: filter.limit,
        offset: filter.offset,
        caseIds: filter.caseIds,
        services: filter.services,
        caseStatuses: filter.statuses?.flatMap((s) => (s === 'open' ? ['open'] : ['closed'])),
      });
      return rows.flatMap((row) => toPublished(row) ?? []);
    },

    /**
     * Opens a case from a complaint (受理转办); retried, it opens the same one case. The complaint
     * is claimed first (received → converting), so a dismissal can no longer take it.
     */
    async convert(trackingCode: string, input: unknown, actor: Actor): Promise<OfficeComplaint> {
      const row = await requireView(trackingCode);
      const parsed = parseInput(complaintConversionSchema, input, 'conversion');
      if (row.status === 'dismissed') {
        throw new DomainError('invalid_state', `投诉 ${trackingCode} 已不予受理 / complaint ${trackingCode} was dismissed`);
      }
      const claimed = await transitionComplaint(deps.db, trackingCode, ['received'], { status: 'converting', updated_at: now().toISOString() });
      if (!claimed) {
        const current = await findComplaint(deps.db, trackingCode);
        // Converting or converted already: this is a retry (or a twin) of the same conversion.
        if (current?.status !== 'converting' && current?.status !== 'converted') throw alreadyTriaged(trackingCode, current?.status ?? 'gone');
      }
      let opened: Awaited<ReturnType<CaseService['openCase']>>;
      try {
        opened = await deps.cases.openCase(
          {
            title: parsed.title,
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
      } catch (error) {
        // The request itself refused (an unknown department, say), before any case was reserved:
        // the complaint goes back to triage, if this call claimed it. A conflict means another
        // conversion of it holds the case already; a passing failure leaves the claim for the
        // retry to finish. Neither gives the complaint back.
        if (claimed && error instanceof DomainError && error.code !== 'conflict') {
          await transitionComplaint(deps.db, trackingCode, ['converting'], { status: 'received', updated_at: now().toISOString() });
        }
        if (error instanceof DomainError && error.code === 'conflict') {
          throw new DomainError('invalid_state', `投诉 ${trackingCode} 正由另一受理请求办理 / complaint ${trackingCode} is being converted by another request`);
        }
        throw error;
      }
      if (row.case_id !== opened.caseId) {
        const recorded = await transitionComplaint(deps.db, trackingCode, ['converting', 'converted'], {
          status: 'converted',
          case_id: opened.caseId,
          updated_at: now().toISOString(),
        });
        // Nothing takes a complaint out of converting but this; if it did, say so rather than hide it.
        if (!recorded) throw new Error(`complaint ${trackingCode} left converting while case ${opened.caseId} was opened from it`);
      }
      return toOffice((await findComplaintView(deps.db, trackingCode))!);
    },

    /** 不予受理: dismisses a complaint still awaiting triage, with a reason the public sees. */
    async dismiss(trackingCode: string, input: unknown): Promise<OfficeComplaint> {
      await requireView(trackingCode);
      const { reason } = parseInput(complaintDismissalSchema, input, 'dismissal');
      const dismissed = await transitionComplaint(deps.db, trackingCode, ['received'], {
        status: 'dismissed',
        dismiss_reason: reason,
        updated_at: now().toISOString(),
      });
      if (!dismissed) throw alreadyTriaged(trackingCode, (await findComplaint(deps.db, trackingCode))?.status ?? 'gone');
      return toOffice((await findComplaintView(deps.db, trackingCode))!);
    },
  };
}
export type ComplaintService = ReturnType<typeof createComplaintService>;
