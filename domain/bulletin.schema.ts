/**
 * The public JSON of a bulletin (domain/bulletin.types.ts `BulletinDocument`) as a zod schema:
 * the response schema of the bulletin routes and its part of the OpenAPI document. Its one
 * instant (`publishedAt`) is declared with `instantSchema`, so the API shows it in the office's
 * zone; dates of periods are plain calendar dates and stay as they are.
 */
import { z } from 'zod';
import { instantSchema } from './time';

import { departmentIndicatorsSchema, periodSchema } from './indicator.schema';

const count = z.number().int().min(0);
const rate = z.number().min(0).max(1);

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
