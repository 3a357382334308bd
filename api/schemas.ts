/**
 * Response schemas of the HTTP API. Request schemas are the domain's own (domain/*.schema.ts);
 * both feed validation, serialization and the OpenAPI document.
 */
import { z } from 'zod';
import { caseIdSchema, taskIdSchema } from '../domain/case-id';
import { caseSources, evidenceSchema, locationSchema, severities } from '../domain/case.schema';
import { complaintPublicStatuses } from '../domain/complaint.schema';
import { caseStatuses } from '../domain/case.machine';
import { eventActions, eventPayloadSchemas } from '../domain/event';
import { followUpStatuses, ratings } from '../domain/follow-up';
import { personIdSchema } from '../domain/person-id';
import { channels, languages, personRoles } from '../domain/person.schema';
import { taskStatuses } from '../domain/task.machine';
import { instantSchema } from '../domain/time';
import type { TimelineEntry } from '../db/event.repository';

/**
 * An instant with its zone offset, e.g. 2026-12-01T23:59:59.999+08:00: fields declared so are
 * shown in the office's time zone by the serializer (api/serializer.ts), and no other field is.
 */
const instant = instantSchema;
const nullableInstant = instant.nullable();

export const actorResponseSchema = z.object({
  role: z.enum(['office', 'department', 'system', 'public']),
  department: z.string().optional(),
  name: z.string(),
});

export const departmentSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    headName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    active: z.boolean(),
    createdAt: instant,
  })
  .meta({ id: 'Department' });

/** How to reach a person: for the office and the person's own department only. */
const personContactSchema = z
  .object({
    phone: z.string().nullable(),
    email: z.string().nullable(),
    language: z.enum(languages),
    channels: z.array(z.enum(channels)).describe('ways to reach them, in order of preference'),
  })
  .meta({ id: 'PersonContact' });
const contactField = personContactSchema
  .nullable()
  .describe("null: not shown to this caller (contact data is for the office and the person's own department)");

/** A person of the directory (a department's, or the office's own staff when `department` is null). */
export const personSchema = z
  .object({
    id: z.string(),
    department: z.string().nullable().describe("the person's department; null: one of the office's own staff"),
    name: z.string(),
    post: z.string().describe('岗位'),
    roles: z.array(z.enum(personRoles)).describe('head, deputy, liaison (a department); lead, clerk (the office)'),
    active: z.boolean().describe('false once removed: kept for the records that name them'),
    createdAt: instant,
    updatedAt: instant,
    deactivatedAt: nullableInstant,
    contact: contactField,
  })
  .meta({ id: 'Person' });

/** A task's 责任人: name and post as of the assignment, contact data as the directory has it now. */
export const responsiblePersonViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    post: z.string(),
    active: z.boolean().describe('whether they are still in the directory'),
    contact: contactField,
  })
  .meta({ id: 'ResponsiblePerson' });

const nextAlarmSchema = z.object({ at: instant, kind: z.string(), label: z.string() });

export const caseSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    category: z.string(),
    severity: z.enum(severities),
    source: z.enum(caseSources),
    leadDepartment: z.string(),
    cooperatingDepartments: z.array(z.string()),
    location: locationSchema.nullable(),
    dueDate: z.string().nullable(),
    evidence: z.array(evidenceSchema),
    status: z.enum(caseStatuses),
    openedAt: instant,
    openedBy: actorResponseSchema,
    closedAt: nullableInstant,
    withdrawnReason: z.string().nullable(),
    dueAt: nullableInstant,
    overdue: z.boolean(),
    escalationLevel: z.number().int(),
    complaintCode: z.string().nullable(),
  })
  .meta({ id: 'Case' });

const submissionSchema = z.object({ report: z.string(), evidence: z.array(evidenceSchema).readonly(), at: instant });

/** What a task is, whether read from the read model or answered by its workflow. */
const taskFields = {
  caseId: z.string(),
  role: z.enum(['lead', 'cooperating']),
  status: z.enum(taskStatuses),
  reworkCount: z.number().int(),
  submissionCount: z.number().int(),
  assignedAt: instant,
  acknowledgedAt: nullableInstant,
  submittedAt: nullableInstant,
  closedAt: nullableInstant,
  lastSubmission: submissionSchema.nullable(),
  ackDueAt: nullableInstant,
  rectificationDueAt: nullableInstant,
  escalationLevel: z.number().int(),
  ackEscalationLevel: z.number().int(),
  suspension: z.object({ since: instant, reason: z.string() }).nullable(),
  pendingExtension: z.object({ workingDays: z.number().int(), reason: z.string(), at: instant }).nullable(),
  extensionsGranted: z.number().int(),
  pendingTransfer: z.object({ reason: z.string(), suggestedDepartment: z.string().nullable(), at: instant }).nullable(),
  responsiblePerson: responsiblePersonViewSchema.nullable().describe('责任人, once named'),
};

export const taskSchema = z
  .object({
    id: z.string(),
    department: z.string(),
    ...taskFields,
    transferredToTask: z.string().nullable(),
    next: nextAlarmSchema.nullable(),
  })
  .meta({ id: 'Task' });

const timelineEntryFields = {
  position: z.number().int(),
  at: instant,
  taskId: z.string().nullable(),
  actor: z.object({ role: z.string(), department: z.string().nullable(), name: z.string() }),
};

/** One entry of a case's timeline; its payload's shape (and which of its fields are instants) follows its action. */
export const timelineEntrySchema = z
  .discriminatedUnion(
    'action',
    eventActions.map((action) =>
      z.object({ ...timelineEntryFields, action: z.literal(action), payload: eventPayloadSchemas[action] }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .meta({ id: 'TimelineEntry' }) as unknown as z.ZodType<TimelineEntry>;

/** 答复 and 回访 of a case from a complaint, as the office and the case's departments read it. */
export const followUpSchema = z
  .object({
    caseId: z.string(),
    round: z.number().int().describe('the answer round: 1, and one more after each reopening (重办)'),
    status: z.enum(followUpStatuses),
    reopens: z.number().int(),
    maxReopens: z.number().int(),
    answer: z.object({ text: z.string(), evidence: z.array(evidenceSchema), at: instant }).nullable(),
    followUpDueAt: nullableInstant.describe('until when the complainant may rate the answer'),
    rating: z.object({ rating: z.enum(ratings), reason: z.string().nullable(), at: instant }).nullable(),
    decision: z.object({ decision: z.enum(['uphold', 'dismiss']), comment: z.string(), at: instant }).nullable(),
  })
  .meta({ id: 'FollowUp' });

export const caseRecordSchema = z
  .object({
    case: caseSchema.extend({ next: nextAlarmSchema.extend({ taskId: z.string() }).nullable() }),
    tasks: z.array(taskSchema),
    events: z.array(timelineEntrySchema),
    followUp: followUpSchema.nullable().describe('答复 and 回访, for a case from a complaint once it has closed'),
  })
  .meta({ id: 'CaseRecord' });

export const casePageSchema = z
  .object({ items: z.array(caseSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'CasePage' });

/** A task as its workflow answers a command. */
export const taskStateSchema = z
  .object({
    taskId: z.string(),
    departmentCode: z.string(),
    ...taskFields,
    transferredTo: z.object({ department: z.string(), taskId: z.string() }).nullable(),
    next: z
      .object({ at: instant, kind: z.enum(['reminder', 'escalation']), label: z.string(), deadline: z.string(), level: z.number().int().nullable() })
      .nullable(),
  })
  .meta({ id: 'TaskState' });

/** A case as its workflow answers a command. */
export const caseStateSchema = z
  .object({
    caseId: z.string(),
    status: z.enum(caseStatuses),
    openedAt: instant,
    closedAt: nullableInstant,
    withdrawal: z.object({ reason: z.string(), at: instant, by: actorResponseSchema }).nullable(),
    tasks: z
      .array(
        z.object({
          taskId: z.string(),
          departmentCode: z.string(),
          role: z.enum(['lead', 'cooperating']),
          outcome: z.enum(taskStatuses).nullable(),
        }),
      )
      .readonly(),
    followUp: z
      .object({
        round: z.number().int(),
        status: z.enum(followUpStatuses),
        reopens: z.number().int(),
        maxReopens: z.number().int(),
        answer: z.object({ text: z.string(), evidence: z.array(evidenceSchema).readonly(), at: instant }).nullable(),
        followUpDueAt: nullableInstant,
        rating: z.object({ rating: z.enum(ratings), reason: z.string().nullable(), at: instant }).nullable(),
        decision: z.object({ decision: z.enum(['uphold', 'dismiss']), comment: z.string(), at: instant }).nullable(),
      })
      .nullable()
      .optional()
      .describe('答复 and 回访 of a case from a complaint, once it has closed'),
  })
  .meta({ id: 'CaseState' });

export const storedFileSchema = z
  .object({
    file: z.string().describe('reference to use as evidence: sha256:<hex>'),
    sha256: z.string(),
    name: z.string(),
    size: z.number().int(),
    mediaType: z.string(),
  })
  .meta({ id: 'StoredFile' });

const complaintFields = z
  .object({
    trackingCode: z.string(),
    status: z.enum(complaintPublicStatuses),
    title: z.string(),
    description: z.string(),
    category: z.string().nullable(),
    address: z.string().nullable(),
    lat: z.number().nullable(),
    lng: z.number().nullable(),
    mediaUrl: z.string().nullable(),
    receivedAt: instant,
    updatedAt: instant,
    dismissReason: z.string().nullable(),
    case: z
      .object({
        id: z.string(),
        status: z.string(),
        openedAt: instant,
        closedAt: nullableInstant,
        agencyResponsible: z.string().nullable(),
        expectedAt: nullableInstant,
      })
      .nullable(),
  });

/** The office's answer on the tracking page: no contact data, no names of who wrote it. */
export const publicAnswerSchema = z
  .object({
    text: z.string(),
    photos: z
      .array(
        z.object({
          url: z.string().describe('public download link of this photo'),
          name: z.string().describe('photo-1.jpg, photo-2.png … (never the uploader’s file name or note)'),
          mediaType: z.string(),
        }),
      )
      .describe('the after-photos the office chose to show, and only those'),
    answeredAt: instant,
    followUpDueAt: nullableInstant.describe('until when the answer may be rated (POST …/rating)'),
    followUpStatus: z.enum(followUpStatuses),
    rating: z.object({ rating: z.enum(ratings), at: instant }).nullable(),
    decision: z.enum(['uphold', 'dismiss']).nullable().describe('the office on a 不满意: reopened (uphold) or not (dismiss)'),
  })
  .meta({ id: 'PublicAnswer' });

export const publicComplaintSchema = complaintFields
  .extend({ answer: publicAnswerSchema.nullable().describe('答复: the office\'s answer once the case closed') })
  .meta({ id: 'PublicComplaint' });

export const officeComplaintSchema = complaintFields
  .extend({
    contact: z
      .object({ name: z.string().optional(), phone: z.string().optional(), email: z.string().optional(), language: z.enum(languages).optional() })
      .nullable(),
    channel: z.string(),
    serviceCode: z.string().nullable(),
    evidence: z.array(z.object({ url: z.string(), note: z.string().optional() })),
  })
  .meta({ id: 'OfficeComplaint' });

export const caseIdParams = z.object({ caseId: caseIdSchema });
export const personParams = z.object({ personId: personIdSchema });
export const taskParams = z.object({ caseId: caseIdSchema, taskId: taskIdSchema });
