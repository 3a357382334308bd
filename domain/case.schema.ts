import { z } from 'zod';
import { personIdSchema, responsiblePersonSchema } from './person-id';
import { emailSchema, httpUrlSchema, text } from './text';

/** 一般 / 较重 / 严重: drives the default rectification window. */
export const severities = ['general', 'serious', 'major'] as const;
export type Severity = (typeof severities)[number];

/** Where a finding came from: 督查 inspection, 投诉 complaint, 热线 hotline, 媒体 media, 测评 survey. */
export const caseSources = ['inspection', 'complaint', 'hotline', 'media', 'survey', 'other'] as const;
export type CaseSource = (typeof caseSources)[number];

/** Free text of 1 to `max` characters, trimmed (see domain/text.ts). */
const trimmed = (_min: 1, max: number) => text(max);

export const departmentCodeSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/,
    '部门代码为 2 到 32 位字母、数字、- 或 _ / department code: 2-32 letters, digits, - or _',
  );

export const actorSchema = z
  .object({
    role: z.enum(['office', 'department', 'system', 'public']),
    department: departmentCodeSchema.optional(),
    name: trimmed(1, 100),
  })
  .strict()
  .refine((a) => (a.role === 'department') === (a.department !== undefined), {
    message: '部门角色必须且只能带部门代码 / a department actor, and only one, names its department',
    path: ['department'],
  });
/** Who did something: the office, a department (with its code), the complainant (public) or duban itself. */
export type Actor = z.infer<typeof actorSchema>;

export const systemActor: Actor = Object.freeze({ role: 'system', name: 'duban' });

/** The complainant, acting with the tracking code of their complaint (回访): never named. */
export const complainantActor: Actor = Object.freeze({ role: 'public', name: '投诉人 complainant' });

/** A telephone number as people write it: digits, spaces, +, -, parentheses, an extension. */
export const phoneSchema = z
  .string()
  .regex(/^[0-9+()\- ]{3,40}$/, '电话号码为 3 到 40 位数字及 +-() / a phone number: 3-40 digits, +, -, (, ), spaces')
  .regex(/[0-9]/, '电话号码须含数字 / a phone number has digits');

export const departmentInputSchema = z
  .object({
    code: departmentCodeSchema,
    name: trimmed(1, 100),
    headName: trimmed(1, 100).optional(),
    email: emailSchema.optional(),
    phone: phoneSchema.optional(),
  })
  .strict();
export type DepartmentInput = z.infer<typeof departmentInputSchema>;

const httpUrl = httpUrlSchema;
const note = trimmed(1, 1000).optional();

/**
 * Evidence as a caller names it: a link, or a file reference that the edge resolves (a local
 * path for the CLI, an upload for the API) into a stored file.
 */
export const evidenceRequestSchema = z.union([
  z.object({ url: httpUrl, note }).strict(),
  z.object({ file: trimmed(1, 1000), note }).strict(),
]);
export type EvidenceRequest = z.infer<typeof evidenceRequestSchema>;

/** Evidence as recorded: a link, or a file stored content-addressed under the data directory. */
export const evidenceSchema = z.union([
  z.object({ kind: z.literal('url'), url: httpUrl, note }).strict(),
  z
    .object({
      kind: z.literal('file'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      name: trimmed(1, 255),
      size: z.number().int().nonnegative(),
      mediaType: trimmed(1, 255),
      note,
    })
    .strict(),
]);
export type Evidence = z.infer<typeof evidenceSchema>;

/** Where: an address, with a point (lat and lng together) or without. */
export const locationSchema = z
  .object({
    address: trimmed(1, 500),
    lat: z.number().min(-90).max(90).optional(),
    lng: z.number().min(-180).max(180).optional(),
  })
  .strict()
  .refine((l) => (l.lat === undefined) === (l.lng === undefined), {
    message: '纬度与经度须同时给出 / lat and lng go together',
    path: ['lat'],
  })
  // The same rule, as JSON Schema states it for clients.
  .meta({ dependentRequired: { lat: ['lng'], lng: ['lat'] } });
export type Location = z.infer<typeof locationSchema>;

/** The point of a location, if it has one. */
export function pointOf(location: Location | null | undefined): { lat: number; lng: number } | null {
  return location?.lat !== undefined && location.lng !== undefined ? { lat: location.lat, lng: location.lng } : null;
}

/** A date (end of that day in the office's zone) or an instant with its zone offset. */
export const dueDateSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: '须为 ISO 8601 日期或带时区的时间 / an ISO 8601 date, or a date-time with a zone offset',
});

/** Cooperating departments: each once. */
export const departmentListSchema = z
  .array(departmentCodeSchema)
  .max(20)
  .refine((codes) => new Set(codes).size === codes.length, { error: '部门重复 / a department is listed twice' })
  .meta({ uniqueItems: true })
  .default([]);

const caseFields = {
  title: trimmed(1, 200),
  description: text(5000, { blankAllowed: true }).default(''),
  category: trimmed(1, 64),
  severity: z.enum(severities),
  source: z.enum(caseSources),
  leadDepartment: departmentCodeSchema,
  cooperatingDepartments: departmentListSchema,
  location: locationSchema.optional(),
  dueDate: dueDateSchema.optional(),
};

/** The lead department must not also be listed as cooperating. */
export function leadNotCooperating(c: { leadDepartment: string; cooperatingDepartments: readonly string[] }): number {
  return c.cooperatingDepartments.indexOf(c.leadDepartment);
}

/** The most departments a case has: its lead and up to 20 cooperating ones. */
const maxDepartments = 21;

/**
 * 责任人 named by the office when it opens a case: a person of the directory per department of the
 * case, by department code, e.g. `{"CG": "p_3f9a0c1b2d4e"}`.
 */
export const responsiblePersonsSchema = z
  .record(departmentCodeSchema, personIdSchema)
  .refine((persons) => Object.keys(persons).length <= maxDepartments, {
    error: `至多 ${maxDepartments} 个部门 / at most ${maxDepartments} departments`,
  })
  .meta({ maxProperties: maxDepartments })
  .describe('the responsible person (责任人) of each department named, by department code');

/** What an office submits to open a case (交办). */
export const openCaseRequestSchema = z
  .object({
    ...caseFields,
    evidence: z.array(evidenceRequestSchema).max(50).default([]),
    responsiblePersons: responsiblePersonsSchema.optional(),
  })
  .strict();
export type OpenCaseRequest = z.input<typeof openCaseRequestSchema>;

/** A case's details once its evidence is stored: the input of the case workflow. */
export const caseDetailsSchema = z
  .object({
    ...caseFields,
    evidence: z.array(evidenceSchema).max(50).default([]),
    /** The tracking code of the complaint the case was opened from. */
    complaintCode: z.string().max(32).optional(),
  })
  .strict();
export type CaseDetails = z.infer<typeof caseDetailsSchema>;

/** 签收 as the task workflow takes it: the responsible person, if named, as the directory had them. */
export const acknowledgeInputSchema = z.object({ note, responsiblePerson: responsiblePersonSchema.optional() }).strict();
export type AcknowledgeInput = z.infer<typeof acknowledgeInputSchema>;
/** 签收 as a department sends it, naming its responsible person (责任人) if it wishes. */
export const acknowledgeRequestSchema = z
  .object({
    note,
    responsiblePersonId: personIdSchema.optional().describe('a person of the department (its directory) who owns the task'),
  })
  .strict();

/** 指定责任人 as the task workflow takes it: the person as the directory had them. */
export const assignResponsiblePersonInputSchema = z.object({ person: responsiblePersonSchema }).strict();
export type AssignResponsiblePersonInput = z.infer<typeof assignResponsiblePersonInputSchema>;
/** 指定责任人 as the office or the task's department sends it: a person of the task's department. */
export const assignResponsiblePersonRequestSchema = z
  .object({ personId: personIdSchema.describe("a person of the task's department (its directory)") })
  .strict();

const progressNote = trimmed(1, 2000);
const report = trimmed(1, 5000);
const someEvidence = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, '整改须附至少一项佐证 / a rectification needs at least one piece of evidence').max(50);

export const progressInputSchema = z
  .object({ note: progressNote, evidence: z.array(evidenceSchema).max(50).default([]) })
  .strict();
export type ProgressInput = z.infer<typeof progressInputSchema>;
/** A progress report as a caller sends it, file references not yet stored. */
export const progressRequestSchema = z
  .object({ note: progressNote, evidence: z.array(evidenceRequestSchema).max(50).default([]) })
  .strict();

export const submitInputSchema = z.object({ report, evidence: someEvidence(evidenceSchema) }).strict();
export type SubmitInput = z.infer<typeof submitInputSchema>;
/** A rectification as a caller sends it, file references not yet stored. */
export const submitRequestSchema = z.object({ report, evidence: someEvidence(evidenceRequestSchema) }).strict();

const verdict = trimmed(1, 2000);
/** 核查: accept (a comment if wished), or send back with a comment saying what to rework. */
export const verifyInputSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('accept'), comment: verdict.optional() }).strict(),
  z
    .object({
      decision: z.literal('reject'),
      comment: text(2000, { missing: '退回须说明理由 / a rejection needs a comment saying what to rework' }),
    })
    .strict(),
]);
export type VerifyInput = z.infer<typeof verifyInputSchema>;

export const withdrawInputSchema = z.object({ reason: trimmed(1, 2000) }).strict();
export type WithdrawInput = z.infer<typeof withdrawInputSchema>;

const reason = trimmed(1, 2000);

export const extensionRequestInputSchema = z
  .object({ workingDays: z.number().int().min(1).max(365), reason })
  .strict();
export type ExtensionRequestInput = z.infer<typeof extensionRequestInputSchema>;

/** 审批延期: approve (possibly fewer working days than requested) or deny. */
export const extensionDecisionInputSchema = z.discriminatedUnion('decision', [
  z
    .object({
      decision: z.literal('approve'),
      /** Fewer working days than requested, if the office so decides. */
      workingDays: z.number().int().min(1).max(365).optional(),
      comment: trimmed(1, 2000).optional(),
    })
    .strict(),
  z.object({ decision: z.literal('deny'), comment: trimmed(1, 2000).optional() }).strict(),
]);
export type ExtensionDecisionInput = z.infer<typeof extensionDecisionInputSchema>;

export const transferRequestInputSchema = z
  .object({ reason, suggestedDepartment: departmentCodeSchema.optional() })
  .strict();
export type TransferRequestInput = z.infer<typeof transferRequestInputSchema>;

export const transferRejectionInputSchema = z.object({ comment: reason }).strict();
export type TransferRejectionInput = z.infer<typeof transferRejectionInputSchema>;

export const reassignInputSchema = z
  .object({ taskId: z.string().min(1).max(64), toDepartment: departmentCodeSchema, reason })
  .strict();
export type ReassignInput = z.infer<typeof reassignInputSchema>;

export const suspendInputSchema = z.object({ reason }).strict();
export type SuspendInput = z.infer<typeof suspendInputSchema>;

export const resumeInputSchema = z.object({ comment: trimmed(1, 2000).optional() }).strict();
export type ResumeInput = z.infer<typeof resumeInputSchema>;
