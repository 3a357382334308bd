import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { caseStatuses } from '../../domain/case.machine';
import { text } from '../../domain/text';
import { presentInstants } from '../../domain/time';
import type { CaseView } from '../../db/case.mapper';
import {
  acknowledgeRequestSchema,
  assignResponsiblePersonRequestSchema,
  caseSources,
  departmentCodeSchema,
  extensionDecisionInputSchema,
  extensionRequestInputSchema,
  openCaseRequestSchema,
  progressRequestSchema,
  submitRequestSchema,
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
import { answerInputSchema, followUpDecisionInputSchema } from '../../domain/follow-up';
import type { CaseService, TaskTarget } from '../../services/case.service';
import { cursorPattern, decodeCursor } from '../../services/case.service';
import type { FileResolver } from '../../services/evidence.store';
import { actorOf, requireOffice, requireToken, type TokenPrincipal } from '../auth';
import type { Access } from '../contract';
import { type CsvColumn, csvHeader, csvLines } from '../csv';
import { idempotencyHeaders, requestKeyOf } from '../idempotency';
import { caseIdParams, casePageSchema, caseSchema, caseRecordSchema, caseStateSchema, taskParams, taskStateSchema } from '../schemas';

const instantOrDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const caseListQuerySchema = z
  .object({
    status: z.enum(caseStatuses).optional(),
    department: departmentCodeSchema.optional(),
    category: text(64).optional(),
    severity: z.enum(severities).optional(),
    source: z.enum(caseSources).optional(),
    overdue: z.enum(['true', 'false']).optional().describe('only cases whose owed work is past its deadline (true), or none (false)'),
    escalationLevel: z.coerce.number().int().min(0).max(4).optional().describe('cases whose tasks reached at least this rung'),
    openedFrom: instantOrDate.optional().describe('opened at or after (a date: its start, office time)'),
    openedTo: instantOrDate.optional().describe('opened before (a date: its start, office time)'),
    q: text(200).optional().describe('free text in title, description and address'),
    sort: z.enum(caseSorts).default('-openedAt'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().regex(cursorPattern).optional().describe('nextCursor of the previous page'),
  })
  .strict();

/** The columns of `cases/export.csv`, times in the office's zone. */
const caseCsvColumns: readonly CsvColumn<CaseView>[] = [
  { header: 'id', cell: (c) => c.id },
  { header: 'title', cell: (c) => c.title },
  { header: 'category', cell: (c) => c.category },
  { header: 'severity', cell: (c) => c.severity },
  { header: 'source', cell: (c) => c.source },
  { header: 'status', cell: (c) => c.status },
  { header: 'leadDepartment', cell: (c) => c.leadDepartment },
  { header: 'cooperatingDepartments', cell: (c) => c.cooperatingDepartments.join(' ') },
  { header: 'address', cell: (c) => c.location?.address ?? '' },
  { header: 'openedAt', cell: (c) => c.openedAt },
  { header: 'dueAt', cell: (c) => c.dueAt },
  { header: 'closedAt', cell: (c) => c.closedAt },
  { header: 'overdue', cell: (c) => (c.overdue ? 'yes' : 'no') },
  { header: 'escalationLevel', cell: (c) => c.escalationLevel },
];

export interface CaseRouteDeps {
  readonly cases: CaseService;
  readonly timeZone: string;
  /** Resolves `{"file": "sha256:<hex>"}` in a command of a token holder to a file they may attach. */
  readonly filesFor: (principal: TokenPrincipal) => FileResolver;
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
        config: { access: 'office', answers: [409, 422, 503] },
        schema: {
          operationId: 'openCase',
          tags: ['cases'],
          summary: '交办: open a case (office)',
          headers: idempotencyHeaders,
          body: openCaseRequestSchema,
          response: { 201: caseStateSchema },
        },
      },
      async (request, reply) => {
        const principal = requireOffice(request);
        const opened = await deps.cases.openCase(request.body, actorOf(principal), {
          requestKey: requestKeyOf(request),
          resolveFile: deps.filesFor(principal),
        });
        return reply.code(201).header('location', `/api/v1/cases/${opened.caseId}`).send(opened);
      },
    );

    app.get(
      '/api/v1/cases',
      {
        config: { access: 'token' },
        schema: {
          operationId: 'listCases',
          tags: ['cases'],
          summary: 'list cases (a department: its own), newest first by default, a page at a time',
          querystring: caseListQuerySchema,
          response: { 200: casePageSchema },
        },
      },
      async (request) => {
        const actor = actorOf(requireToken(request));
        const { cursor, limit } = request.query;
        const after = cursor === undefined ? undefined : decodeCursor(cursor);
        return deps.cases.listCases({ ...filterOf(request.query), limit, after }, actor);
      },
    );

    app.get(
      '/api/v1/cases/export.csv',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'exportCases',
          tags: ['cases'],
          summary: 'export the cases matching the filters as CSV (office)',
          querystring: caseListQuerySchema.omit({ cursor: true, limit: true }),
          response: { 200: { description: 'CSV, UTF-8 with a BOM (for Excel)', content: { 'text/csv': { schema: z.string() } } } },
        },
      },
      async (request, reply) => {
        const actor = actorOf(requireOffice(request));
        const chunks = ['\uFEFF', csvHeader(caseCsvColumns)];
        let after: { key: string | null; id: string } | undefined;
        for (;;) {
          // Read whole, past the cache of views that the lists use.
          const page = await deps.cases.listCases({ ...filterOf(request.query), limit: 1000, after }, actor, { cached: false });
          chunks.push(csvLines(caseCsvColumns, presentInstants(z.array(caseSchema), page.items, deps.timeZone)));
          if (!page.nextCursor) break;
          after = decodeCursor(page.nextCursor);
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
        config: { access: 'token' },
        schema: {
          operationId: 'getCase',
          tags: ['cases'],
          summary: 'a case with its tasks and timeline',
          params: caseIdParams,
          response: { 200: caseRecordSchema },
        },
      },
      async (request) => deps.cases.getCase(request.params.caseId, actorOf(requireToken(request))),
    );

    const caseCommands = [
      { path: 'withdraw', command: 'withdrawCase', summary: '撤销: withdraw a case (office)', body: withdrawInputSchema, answers: [409, 503] },
      {
        path: 'reassign',
        command: 'reassignTask',
        summary: '改派: move a live task to another department (office)',
        body: reassignInputSchema,
        answers: [409, 503],
      },
      {
        path: 'answer',
        command: 'answerCase',
        summary: '答复: answer the complainant of a closed complaint case, choosing the after-photos shown (office)',
        body: answerInputSchema,
        answers: [409, 422, 503],
      },
      {
        path: 'follow-up-decision',
        command: 'decideFollowUp',
        summary: '不满意: uphold it (重办: a new task, the case open again) or dismiss it (office)',
        body: followUpDecisionInputSchema,
        answers: [409, 503],
      },
    ] as const;
    for (const { path, command, summary, body, answers } of caseCommands) {
      app.post(
        `/api/v1/cases/:caseId/${path}`,
        {
          config: { access: 'office', answers },
          schema: {
            operationId: command,
          tags: ['cases'],
            summary,
            headers: idempotencyHeaders,
            params: caseIdParams,
            body: body as z.ZodType,
            response: { 200: caseStateSchema },
          },
        },
        async (request) =>
          deps.cases[command](request.params.caseId, actorOf(requireToken(request)), request.body, {
            requestKey: requestKeyOf(request),
          }),
      );
    }

    type TaskCommand = 'acknowledgeTask' | 'assignResponsiblePerson' | 'reportProgress' | 'submitRectification' | 'verifyRectification' | 'requestExtension' | 'decideExtension' | 'requestTransfer' | 'rejectTransfer' | 'suspendTask' | 'resumeTask';
    /** A task command and who may send it. */
    const taskCommands: { path: string; command: TaskCommand; summary: string; body: z.ZodType; access: Access }[] = [
      {
        path: 'acknowledge',
        command: 'acknowledgeTask',
        summary: '签收: acknowledge, naming the responsible person (责任人) if wished (the department)',
        body: acknowledgeRequestSchema,
        access: 'department',
      },
      {
        path: 'responsible-person',
        command: 'assignResponsiblePerson',
        summary: "指定责任人: name the person of the task's department who owns it (office, or the department)",
        body: assignResponsiblePersonRequestSchema,
        access: 'token',
      },
      {
        path: 'progress',
        command: 'reportProgress',
        summary: '报告进展: report progress (the department)',
        body: progressRequestSchema,
        access: 'department',
      },
      {
        path: 'submit',
        command: 'submitRectification',
        summary: '提交整改: submit the rectification with evidence (the department)',
        body: submitRequestSchema,
        access: 'department',
      },
      { path: 'verify', command: 'verifyRectification', summary: '核查: accept or send back (office)', body: verifyInputSchema, access: 'office' },
      {
        path: 'extension-request',
        command: 'requestExtension',
        summary: '申请延期 (the department)',
        body: extensionRequestInputSchema,
        access: 'department',
      },
      {
        path: 'extension-decision',
        command: 'decideExtension',
        summary: '审批延期 (office)',
        body: extensionDecisionInputSchema,
        access: 'office',
      },
      {
        path: 'transfer-request',
        command: 'requestTransfer',
        summary: '申请转办 (the department)',
        body: transferRequestInputSchema,
        access: 'department',
      },
      { path: 'transfer-rejection', command: 'rejectTransfer', summary: '驳回转办 (office)', body: transferRejectionInputSchema, access: 'office' },
      { path: 'suspend', command: 'suspendTask', summary: '挂起: stop the task’s clock (office)', body: suspendInputSchema, access: 'office' },
      { path: 'resume', command: 'resumeTask', summary: '恢复: restart the task’s clock (office)', body: resumeInputSchema, access: 'office' },
    ];
    for (const { path, command, summary, body, access } of taskCommands) {
      app.post(
        `/api/v1/cases/:caseId/tasks/:taskId/${path}`,
        {
          config: { access, answers: [409, 503] },
          schema: {
            operationId: command,
          tags: ['tasks'],
            summary,
            headers: idempotencyHeaders,
            params: taskParams,
            body,
            response: { 200: taskStateSchema },
          },
        },
        async (request) => {
          const principal = requireToken(request);
          const target: TaskTarget = { taskId: request.params.taskId };
          const options = { requestKey: requestKeyOf(request), resolveFile: deps.filesFor(principal) };
          return deps.cases[command](request.params.caseId, actorOf(principal), request.body, target, options);
        },
      );
    }
  };
}
