/**
 * The public JSON of a bulletin (domain/bulletin.types.ts `BulletinDocument`) as a zod schema:
 * the response schema of the bulletin routes and its part of the OpenAPI document. Its one
 * instant (`publishedAt`) is declared with `instantSchema`, so the API shows it in the office's
 * zone; dates of periods are plain calendar dates and stay as they are.
 */
import { z } from 'zod';
import { localDateSchema } from './calendar';
import { instantSchema } from './time';

// The indicators' parts carry no OpenAPI id here: the indicator and scorecard routes may declare
// their own (an id can be registered once), and these are the same shapes, inlined.
const count = z.number().int().min(0);
const rate = z.number().min(0).max(1);

export const periodSchema = z
  .object({
    from: localDateSchema.describe('first day, in the office zone (YYYY-MM-DD)'),
    to: localDateSchema.describe('last day, included (YYYY-MM-DD)'),
  })
  .describe('office-zone calendar dates, both ends included');

export const ratioSchema = z
  .object({
    numerator: count,
    denominator: count,
    value: rate.nullable().describe('numerator / denominator in [0, 1]; null when the denominator is 0 (nothing to rate)'),
  })
  .describe('a rate with what it is made of');

const rungCountsSchema = z.object({ 1: count, 2: count, 3: count, 4: count }).describe('tasks per escalation rung: 1 催办, 2 督办, 3 通报批评, 4 约谈');

export const indicatorCountsSchema = z
  .object({
    tasksAssigned: count,
    acknowledged: count,
    acknowledgedOnTime: count,
    closed: count,
    closedOnTime: count,
    submissions: count,
    rejections: count.describe('返工: rejections by the office'),
    extensionsGranted: count,
    rungsReached: rungCountsSchema,
    reopened: count.describe('重办: cases reopened after an upheld 不满意'),
  })
  .describe('the raw counts the rates are made of');

export const hotlineIndicatorsSchema = z
  .object({
    responseRate: ratioSchema.describe('响应率'),
    resolutionRate: ratioSchema.describe('解决率'),
    satisfactionRate: ratioSchema.describe('满意率'),
  })
  .describe("the hotline's rates, for tasks of cases from public complaints");

export const departmentIndicatorsSchema = z
  .object({
    departmentCode: z.string(),
    departmentName: z.string(),
    period: periodSchema,
    counts: indicatorCountsSchema,
    ackOnTimeRate: ratioSchema.describe('签收及时率'),
    closureRate: ratioSchema.describe('结案率'),
    onTimeClosureRate: ratioSchema.describe('按期结案率'),
    reworkRate: ratioSchema.describe('返工率'),
    extensionRate: ratioSchema.describe('延期率'),
    overdueByRung: z
      .object({ 0: count, 1: count, 2: count, 3: count, 4: count })
      .describe('live tasks overdue at the end of the period, by the highest rung reached (0: none yet)'),
    workingDaysToClose: z
      .object({ count, mean: z.number().min(0).nullable(), p90: z.number().min(0).nullable() })
      .describe('working days from assignment to acceptance of the tasks closed in the period'),
    hotline: hotlineIndicatorsSchema,
  })
  .describe("one department's indicators for one period");

export const rankingEntrySchema = z
  .object({
    rank: z.number().int().min(1),
    departmentCode: z.string(),
    departmentName: z.string(),
    score: z.number().describe('考核得分: the composite assessment score'),
    deductions: z.record(z.string(), z.number()).describe('points off by reason, e.g. { "overdue_rung_2": 4, "criticism": 2 }'),
    onTimeClosureRate: rate.nullable(),
  })
  .meta({ id: 'BulletinRankingEntry' });

export const bulletinItemKinds = ['criticism', 'exposure', 'notable_closure'] as const;

export const bulletinItemSchema = z
  .object({
    id: z.string(),
    kind: z.enum(bulletinItemKinds).describe('criticism 通报批评, exposure 曝光, notable_closure 典型办结'),
    caseId: z.string(),
    taskId: z.string().nullable(),
    departmentCode: z.string(),
    departmentName: z.string(),
    title: z.string().describe("the office's title of the case"),
    summary: z.string().describe('why it is listed'),
    origin: z.enum(['proposed', 'added']).describe('proposed by the draft, or added by the office'),
  })
  .meta({ id: 'BulletinItem' });

export const trendPointSchema = z
  .object({ period: periodSchema, label: z.string(), onTimeClosureRate: rate.nullable() })
  .meta({ id: 'BulletinTrendPoint' });

export const bulletinSummarySchema = z
  .object({
    casesOpened: count,
    casesClosed: count,
    tasksAssigned: count,
    tasksClosed: count,
    tasksClosedOnTime: count,
    overdueAtEnd: count,
    onTimeClosureRate: rate.nullable(),
  })
  .meta({ id: 'BulletinSummary' });

/** The public content of a bulletin (定期通报), exactly: no field beyond these is ever published. */
export const bulletinDocumentSchema = z
  .object({
    number: z.string().nullable().describe('e.g. 2026年第47期 once published; null while a draft'),
    sequence: z.number().int().min(1).nullable(),
    version: z.number().int().min(1).describe('1, then one more per correction'),
    title: z.string(),
    period: periodSchema,
    summary: bulletinSummarySchema,
    ranking: z.array(rankingEntrySchema).readonly(),
    indicators: z.array(departmentIndicatorsSchema).readonly(),
    items: z.array(bulletinItemSchema).readonly().describe('通报批评, 曝光 and notable closures, as decided by the office'),
    trend: z.array(trendPointSchema).readonly().describe('按期结案率 over the last periods, oldest first (the last is this period)'),
    publishedAt: instantSchema.nullable(),
    correctionReason: z.string().nullable().describe('set on a correction: why this version replaces the previous one'),
  })
  .meta({ id: 'BulletinDocument' });
