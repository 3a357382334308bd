import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { localDateSchema } from '../../domain/calendar';
import { departmentIndicatorsSchema, periodSchema } from '../../domain/indicator.schema';
import { departmentCodeSchema } from '../../domain/case.schema';
import { scorecardCsv, scorecardXlsx } from '../../services/scorecard.export';
import {
  maxScorecardBuckets,
  maxScorecardDays,
  scorecardBuckets,
  type ScorecardQuery,
  type ScorecardService,
  type ScorecardViewer,
} from '../../services/scorecard.service';
import { requireToken } from '../auth';

const scorecardEntrySchema = departmentIndicatorsSchema
  .extend({
    assessment: z
      .object({ score: z.number(), deductions: z.record(z.string(), z.number()) })
      .nullable()
      .describe('考核: the assessment score by the rules in force on the period’s first day'),
  })
  .meta({ id: 'ScorecardEntry' });

const scorecardSchema = z
  .object({
    from: localDateSchema,
    to: localDateSchema,
    by: z.enum(scorecardBuckets),
    periods: z.array(periodSchema),
    departments: z.array(
      z.object({ departmentCode: z.string(), departmentName: z.string(), total: scorecardEntrySchema, trend: z.array(scorecardEntrySchema) }),
    ),
  })
  .meta({ id: 'Scorecard' });

export const scorecardQuerySchema = z
  .object({
    from: localDateSchema.describe('first day, office time (YYYY-MM-DD)'),
    to: localDateSchema.describe('last day, included'),
    by: z.enum(scorecardBuckets).default('month').describe('the trend by calendar week (Monday–Sunday) or month'),
    department: departmentCodeSchema.optional().describe('one department (a department token: only its own, the default)'),
  })
  .strict();

const rangeNote =
  `At most ${maxScorecardDays} days and ${maxScorecardBuckets} periods (422 otherwise, naming the field). ` +
  'The office sees every department; a department token only its own (403 for another). Indicators are computed from the audit trail: see docs/indicators.md.';
const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const viewerOf = (principal: ReturnType<typeof requireToken>): ScorecardViewer =>
  principal.role === 'office' ? { role: 'office' } : { role: 'department', department: principal.department! };
const queryOf = (q: z.infer<typeof scorecardQuerySchema>): ScorecardQuery => ({ from: q.from, to: q.to, by: q.by, department: q.department });
const fileName = (q: ScorecardQuery, ext: string) => `scorecard-${q.department ?? 'all'}-${q.from}-${q.to}-${q.by}.${ext}`;

/** Scorecards (考核记分卡): indicators per department and period with their trend, as JSON, CSV and XLSX. */
export function scorecardRoutes(deps: { scorecards: ScorecardService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/scorecards',
      {
        config: { access: 'token', answers: [403, 404, 422] },
        schema: {
          operationId: 'getScorecards',
          tags: ['scorecards'],
          summary: 'indicators per department for a range and each week or month of it (the trend)',
          description: rangeNote,
          querystring: scorecardQuerySchema,
          response: { 200: scorecardSchema },
        },
      },
      async (request) => deps.scorecards.scorecard(queryOf(request.query), viewerOf(requireToken(request))),
    );
    app.get(
      '/api/v1/scorecards/export.csv',
      {
        config: { access: 'token', answers: [403, 404, 422] },
        schema: {
          operationId: 'exportScorecardsCsv',
          tags: ['scorecards'],
          summary: 'the scorecards as CSV: one row per department and period, then its whole range',
          description: rangeNote,
          querystring: scorecardQuerySchema,
          response: { 200: { description: 'CSV, UTF-8 with a BOM (for Excel)', content: { 'text/csv': { schema: z.string() } } } },
        },
      },
      async (request, reply) => {
        const query = queryOf(request.query);
        const card = await deps.scorecards.scorecard(query, viewerOf(requireToken(request)));
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${fileName(query, 'csv')}"`)
          .send(scorecardCsv(card));
      },
    );
    app.get(
      '/api/v1/scorecards/export.xlsx',
      {
        config: { access: 'token', answers: [403, 404, 422] },
        schema: {
          operationId: 'exportScorecardsXlsx',
          tags: ['scorecards'],
          summary: 'the scorecards as an Excel workbook, rows as in the CSV',
          description: rangeNote,
          querystring: scorecardQuerySchema,
          response: { 200: { description: 'an XLSX workbook', content: { [xlsxType]: { schema: z.string().describe('the workbook') } } } },
        },
      },
      async (request, reply) => {
        const query = queryOf(request.query);
        const card = await deps.scorecards.scorecard(query, viewerOf(requireToken(request)));
        return reply
          .type(xlsxType)
          .header('content-disposition', `attachment; filename="${fileName(query, 'xlsx')}"`)
          // Bytes, sent as they are (the declared string is the document's way to say "a file").
          .send((await scorecardXlsx(card)) as unknown as string);
      },
    );
  };
}
