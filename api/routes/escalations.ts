import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assessmentRulesSchema } from '../../domain/assessment';
import { departmentCodeSchema } from '../../domain/case.schema';
import { instantSchema } from '../../domain/time';
import { assessmentRulesInputSchema, type BulletinService } from '../../services/bulletin.service';
import {
  escalationCursorPattern,
  type EscalationService,
  interviewRecordSchema,
  type Viewer,
} from '../../services/escalation.service';
import { actorOf, requireOffice, requireToken } from '../auth';
import { idempotencyHeaders } from '../idempotency';

const escalationSchema = z
  .object({
    id: z.number().int(),
    caseId: z.string(),
    taskId: z.string(),
    department: z.string(),
    departmentName: z.string(),
    title: z.string(),
    deadline: z.string().describe('acknowledgement | rectification'),
    level: z.number().int().min(1).max(4),
    rung: z.string().describe('催办 | 督办 | 通报批评 | 约谈'),
    dueAt: instantSchema.describe('the deadline that was missed'),
    at: instantSchema.describe('when the rung was reached'),
    bulletinId: z.string().nullable().describe('the bulletin that published it, if any'),
  })
  .meta({ id: 'Escalation' });

const interviewSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    taskId: z.string(),
    department: z.string(),
    status: z.enum(['pending', 'completed']),
    calledAt: instantSchema,
    interviewees: z.string().nullable(),
    interviewers: z.string().nullable(),
    heldAt: instantSchema.nullable(),
    outcome: z.string().nullable(),
    completedBy: z.string().nullable(),
    completedAt: instantSchema.nullable(),
  })
  .meta({ id: 'Interview' });

const rulesVersionSchema = z
  .object({
    version: z.number().int(),
    effectiveFrom: z.iso.date(),
    rules: assessmentRulesSchema,
    note: z.string().nullable(),
    createdBy: z.string(),
    createdAt: instantSchema,
  })
  .meta({ id: 'AssessmentRulesVersion' });

const interviewIdParams = z.object({ id: z.string().regex(/^iv_[0-9a-f]{12}$/, '约谈编号如 iv_0123456789ab / an interview id such as iv_0123456789ab') });

/** The office sees every department; a department its own. */
function viewerOf(request: FastifyRequest): Viewer {
  const principal = requireToken(request);
  return principal.role === 'office' ? { role: 'office' } : { role: 'department', department: principal.department! };
}

/** Rungs reached (escalations), the interviews rung 4 calls for, and the assessment rules. */
export function escalationRoutes(deps: { escalations: EscalationService; bulletins: BulletinService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/escalations',
      {
        config: { access: 'token', answers: [403] },
        schema: {
          operationId: 'listEscalations',
          tags: ['escalations'],
          summary: 'rungs reached (催办, 督办, 通报批评, 约谈), oldest first; a department sees its own',
          querystring: z
            .object({
              department: departmentCodeSchema.optional(),
              level: z.coerce.number().int().min(1).max(4).optional().describe('1 催办, 2 督办, 3 通报批评, 4 约谈'),
              from: z.iso.date().optional().describe('reached on or after this date (office zone)'),
              to: z.iso.date().optional().describe('reached on or before this date (office zone)'),
              limit: z.coerce.number().int().min(1).max(500).default(100),
              cursor: z.string().regex(escalationCursorPattern, '分页游标 / a page cursor from the previous page').optional(),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(escalationSchema), next: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { department, level, from, to, limit, cursor } = request.query;
        return deps.escalations.list(viewerOf(request), {
          limit,
          ...(department ? { department } : {}),
          ...(level ? { level } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/api/v1/interviews',
      {
        config: { access: 'token', answers: [403] },
        schema: {
          operationId: 'listInterviews',
          tags: ['escalations'],
          summary: 'accountability interviews (约谈) called by rung 4; a department sees its own',
          querystring: z
            .object({
              department: departmentCodeSchema.optional(),
              status: z.enum(['pending', 'completed']).optional(),
              limit: z.coerce.number().int().min(1).max(500).default(100),
              after: z.string().regex(/^iv_[0-9a-f]{12}$/).optional().describe('the last id of the previous page'),
            })
            .strict(),
          response: { 200: z.array(interviewSchema) },
        },
      },
      async (request) => {
        const { department, status, limit, after } = request.query;
        return deps.escalations.listInterviews(viewerOf(request), {
          limit,
          ...(department ? { department } : {}),
          ...(status ? { status } : {}),
          ...(after ? { after } : {}),
        });
      },
    );

    app.get(
      '/api/v1/interviews/:id',
      {
        config: { access: 'token' },
        schema: { operationId: 'getInterview', tags: ['escalations'], summary: 'an interview record', params: interviewIdParams, response: { 200: interviewSchema } },
      },
      async (request) => deps.escalations.getInterview(viewerOf(request), request.params.id),
    );

    app.post(
      '/api/v1/interviews/:id/record',
      {
        config: { access: 'office', answers: [409, 422] },
        schema: {
          operationId: 'recordInterview',
          tags: ['escalations'],
          summary: 'record how an interview went: who, when, the outcome (office; once)',
          headers: idempotencyHeaders,
          params: interviewIdParams,
          body: interviewRecordSchema,
          response: { 200: interviewSchema },
        },
      },
      async (request) => deps.escalations.completeInterview(request.params.id, request.body, actorOf(requireOffice(request))),
    );

    app.get(
      '/api/v1/assessment-rules',
      {
        config: { access: 'token' },
        schema: {
          operationId: 'listAssessmentRules',
          tags: ['assessment'],
          summary: 'every version of the assessment rules (考核扣分), oldest first; a period is scored by the version in force on its first day',
          response: { 200: z.array(rulesVersionSchema) },
        },
      },
      async () => deps.bulletins.listRules(),
    );

    app.post(
      '/api/v1/assessment-rules',
      {
        config: { access: 'office', answers: [422] },
        schema: {
          operationId: 'addAssessmentRules',
          tags: ['assessment'],
          summary: 'add a version of the assessment rules, in force from a date not before today (office)',
          headers: idempotencyHeaders,
          body: assessmentRulesInputSchema,
          response: { 201: rulesVersionSchema },
        },
      },
      async (request, reply) => {
        const created = await deps.bulletins.addRules(request.body, actorOf(requireOffice(request)));
        return reply.code(201).send(created);
      },
    );
  };
}
