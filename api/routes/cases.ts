import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { caseStatuses } from '../../domain/case.machine';
import {
  acknowledgeInputSchema,
  caseSources,
  departmentCodeSchema,
  evidenceRequestSchema,
  extensionDecisionInputSchema,
  extensionRequestInputSchema,
  openCaseRequestSchema,
  reassignInputSchema,
  resumeInputSchema,
  severities,
  suspendInputSchema,
  transferRejectionInputSchema,
  transferRequestInputSchema,
  verifyInputSchema,
  withdrawInputSchema,
} from '../../domain/case.schema';
import { caseSorts } from '../../db/case.repository';
import type { CaseService, TaskTarget } from '../../services/case.service';
import { decodeCursor } from '../../services/case.service';
import type { FileResolver } from '../../services/evidence.store';
import { actorOf, requireOffice, requireToken } from '../auth';
import { errorResponses } from '../errors';
import { idempotencyHeaders, requestKeyOf } from '../idempotency';
import { caseIdParams, casePageSchema, caseRecordSchema, caseStateSchema, taskParams, taskStateSchema } from '../schemas';

const instantOrDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const caseListQuerySchema = z
  .object({
    status: z.enum(caseStatuses).optional(),
    department: departmentCodeSchema.optional(),
    category: z.string().min(1).max(64).optional(),
    severity: z.enum(severities).optional(),
    source: z.enum(caseSources).optional(),
    overdue: z.enum(['true', 'false']).optional().describe('only cases whose owed work is past its deadline (true), or none (false)'),
    escalationLevel: z.coerce.number().int().min(0).max(4).optional().describe('cases whose tasks reached at least this rung'),
    openedFrom: instantOrDate.optional().describe('opened at or after (a date: its start, office time)'),
    openedTo: instantOrDate.optional().describe('opened before (a date: its start, office time)'),
    q: z.string().trim().min(1).max(200).optional().describe('free text in title, description and address'),
    sort: z.enum(caseSorts).default('-openedAt'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(500).optional().describe('nextCursor of the previous page'),
  })
  .strict();

/** Evidence in API bodies: links, or files uploaded first to POST /api/v1/evidence. */
const apiEvidence = z.array(evidenceRequestSchema).max(50);

export interface CaseRouteDeps {
  readonly cases: CaseService;
  readonly timeZone: string;
  /** Resolves `{"file": "sha256:<hex>"}` to an uploaded file. */
  readonly uploadedFiles: FileResolver;
}

/** Cases: open, list, export, read, and every command on a case or one of its tasks. */
export function caseRoutes(deps: CaseRouteDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const toInstant = (value: string | undefined) =>
      value === undefined
        ? undefined
        : /^\d{4}-\d{2}-\d{2}$/.test(value)
          ? DateTime.fromISO(value, { zone: deps.timeZone }).toUTC().toISO()!
          : DateTime.fromISO(value, { setZone: true }).toUTC().toISO()!;
    const filterOf = (query: Omit<z.infer<typeof caseListQuerySchema>, 'limit' | 'cursor'>) => ({
      status: query.status,
      department: query.department,
      category: query.category,
      severity: query.severity,
      source: query.source,
      overdue: query.overdue === undefined ? undefined : query.overdue === 'true',
      escalationLevel: query.escalationLevel,
      openedFrom: toInstant(query.openedFrom),
      openedTo: toInstant(query.openedTo),
      q: query.q,
      sort: query.sort,
    });

    app.post(
      '/api/v1/cases',
      {
        schema: {
          tags: ['cases'],
          summary: '交办: open a case (office)',
          security: [{ bearer: [] }],
          headers: idempotencyHeaders,
          body: openCaseRequestSchema,
          response: { 201: caseStateSchema, ...errorResponses(400, 401, 403, 409, 422, 429) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(requireOffice(request));
        const opened = await deps.cases.openCase(request.body, actor, {
          requestKey: requestKeyOf(request),
          resolveFile: deps.uploadedFiles,
        });
        return reply.code(201).header('location', `/api/v1/cases/${opened.caseId}`).send(opened);
      },
    );

    app.get(
      '/api/v1/cases',
      {
        schema: {
          tags: ['cases'],
          summary: 'list cases (a department: its own), newest first by default, a page at a time',
          security: [{ bearer: [] }],
          querystring: caseListQuerySchema,
          response: { 200: casePageSchema, ...errorResponses(400, 401, 422) },
        },
      },
      async (request) => {
        const actor = actorOf(requireToken(request));
        const { cursor, limit } = request.query;
        const after = cursor === undefined ? undefined : decodeCursor(cursor, request.query.sort);
        return deps.cases.listCases({ ...filterOf(request.query), limit, after }, actor);
      },
    );

    app.get(
      '/api/v1/cases/export.csv',
      {
        schema: {
          tags: ['cases'],
          summary: 'export the cases matching the filters as CSV (office)',
          security: [{ bearer: [] }],
          querystring: caseListQuerySchema.omit({ cursor: true, limit: true }),
          produces: ['text/csv'],
          response: { 200: z.string().describe('CSV, UTF-8 with BOM'), ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(requireOffice(request));
        const header = [
          'id', 'title', 'category', 'severity', 'source', 'status', 'leadDepartment', 'cooperatingDepartments',
          'address', 'openedAt', 'dueAt', 'closedAt', 'overdue', 'escalationLevel',
        ];
        const chunks = ['\uFEFF', stringify([header])];
        let after: { key: string | null; id: string } | undefined;
        for (;;) {
          const page = await deps.cases.listCases({ ...filterOf(request.query), limit: 1000, after }, actor);
          chunks.push(
            stringify(
              page.items.map((c) => [
                c.id, c.title, c.category, c.severity, c.source, c.status, c.leadDepartment,
                c.cooperatingDepartments.join(' '), c.location?.address ?? '', c.openedAt, c.dueAt ?? '',
                c.closedAt ?? '', c.overdue ? 'yes' : 'no', c.escalationLevel,
              ]),
            ),
          );
          if (!page.nextCursor) break;
          after = decodeCursor(page.nextCursor, request.query.sort);
        }
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="cases-${DateTime.now().toFormat('yyyyMMdd-HHmmss')}.csv"`)
          .send(chunks.join(''));
      },
    );

    app.get(
      '/api/v1/cases/:caseId',
      {
        schema: {
          tags: ['cases'],
          summary: 'a case with its tasks and timeline',
          security: [{ bearer: [] }],
          params: caseIdParams,
          response: { 200: caseRecordSchema, ...errorResponses(401, 404) },
        },
      },
      async (request) => deps.cases.getCase(request.params.caseId, actorOf(requireToken(request))),
    );

    const caseCommands = [
      { path: 'withdraw', command: 'withdrawCase', summary: '撤销: withdraw a case (office)', body: withdrawInputSchema },
      {
        path: 'reassign',
        command: 'reassignTask',
        summary: '改派: move a live task to another department (office)',
        body: reassignInputSchema,
      },
    ] as const;
    for (const { path, command, summary, body } of caseCommands) {
      app.post(
        `/api/v1/cases/:caseId/${path}`,
        {
          schema: {
            tags: ['cases'],
            summary,
            security: [{ bearer: [] }],
            headers: idempotencyHeaders,
            params: caseIdParams,
            body: body as z.ZodType,
            response: { 200: caseStateSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
          },
        },
        async (request) =>
          deps.cases[command](request.params.caseId, actorOf(requireToken(request)), request.body, {
            requestKey: requestKeyOf(request),
          }),
      );
    }

    type TaskCommand = 'acknowledgeTask' | 'reportProgress' | 'submitRectification' | 'verifyRectification' | 'requestExtension' | 'decideExtension' | 'requestTransfer' | 'rejectTransfer' | 'suspendTask' | 'resumeTask';
    const taskCommands: { path: string; command: TaskCommand; summary: string; body: z.ZodType }[] = [
      { path: 'acknowledge', command: 'acknowledgeTask', summary: '签收: acknowledge (the department)', body: acknowledgeInputSchema },
      {
        path: 'progress',
        command: 'reportProgress',
        summary: '报告进展: report progress (the department)',
        body: z.object({ note: z.string(), evidence: apiEvidence.default([]) }).strict(),
      },
      {
        path: 'submit',
        command: 'submitRectification',
        summary: '提交整改: submit the rectification with evidence (the department)',
        body: z.object({ report: z.string(), evidence: apiEvidence }).strict(),
      },
      { path: 'verify', command: 'verifyRectification', summary: '核查: accept or send back (office)', body: verifyInputSchema },
      { path: 'extension-request', command: 'requestExtension', summary: '申请延期 (the department)', body: extensionRequestInputSchema },
      { path: 'extension-decision', command: 'decideExtension', summary: '审批延期 (office)', body: extensionDecisionInputSchema },
      { path: 'transfer-request', command: 'requestTransfer', summary: '申请转办 (the department)', body: transferRequestInputSchema },
      { path: 'transfer-rejection', command: 'rejectTransfer', summary: '驳回转办 (office)', body: transferRejectionInputSchema },
      { path: 'suspend', command: 'suspendTask', summary: '挂起: stop the task’s clock (office)', body: suspendInputSchema },
      { path: 'resume', command: 'resumeTask', summary: '恢复: restart the task’s clock (office)', body: resumeInputSchema },
    ];
    for (const { path, command, summary, body } of taskCommands) {
      app.post(
        `/api/v1/cases/:caseId/tasks/:taskId/${path}`,
        {
          schema: {
            tags: ['tasks'],
            summary,
            security: [{ bearer: [] }],
          headers: idempotencyHeaders,
            params: taskParams,
            body,
            response: { 200: taskStateSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
          },
        },
        async (request) => {
          const actor = actorOf(requireToken(request));
          const target: TaskTarget = { taskId: request.params.taskId };
          const options = { requestKey: requestKeyOf(request), resolveFile: deps.uploadedFiles };
          return deps.cases[command](request.params.caseId, actor, request.body, target, options);
        },
      );
    }
  };
}
