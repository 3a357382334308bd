/**
 * The indicators (domain/indicator.types.ts) as zod schemas: one declaration for every response
 * that carries them (scorecards, bulletins) and for the OpenAPI document.
 */
import { z } from 'zod';
import { localDateSchema } from './calendar';
import type { DepartmentIndicators } from './indicator.types';

const count = z.number().int().min(0);

export const periodSchema = z
  .object({
    from: localDateSchema.describe('first day, in the office zone (YYYY-MM-DD)'),
    to: localDateSchema.describe('last day, included (YYYY-MM-DD)'),
  })
  .meta({ id: 'Period', description: 'office-zone calendar dates, both ends included' });

export const ratioSchema = z
  .object({
    numerator: count,
    denominator: count,
    value: z.number().min(0).max(1).nullable().describe('numerator / denominator in [0, 1]; null when the denominator is 0 (nothing to rate)'),
  })
  .meta({ id: 'Ratio', description: 'a rate with what it is made of' });

const rungCountsSchema = z.object({ 1: count, 2: count, 3: count, 4: count }).describe('tasks per escalation rung: 1 催办, 2 督办, 3 通报批评, 4 约谈');

export const indicatorCountsSchema = z
  .object({
    tasksAssigned: count,
    tasksActive: count,
    acknowledged: count,
    acknowledgedOnTime: count,
    ackDue: count.describe('acknowledgements judged in the period (denominator of 签收及时率)'),
    closed: count,
    closedOnTime: count,
    closureDue: count.describe('rectifications judged in the period (denominator of 按期结案率)'),
    openAtEnd: count,
    submissions: count,
    rejections: count.describe('返工: rejections by the office'),
    extensionsGranted: count,
    tasksExtended: count,
    rungsReached: rungCountsSchema,
    reopened: count.describe('重办: cases reopened after an upheld 不满意'),
  })
  .meta({ id: 'IndicatorCounts', description: 'the raw counts the rates are made of (docs/indicators.md)' });

export const hotlineIndicatorsSchema = z
  .object({
    responseRate: ratioSchema.describe('响应率'),
    resolutionRate: ratioSchema.describe('解决率'),
    satisfactionRate: ratioSchema.describe('满意率'),
    followUps: z.object({ concluded: count, satisfied: count, basicallySatisfied: count, dissatisfied: count, dismissed: count, unrated: count }),
  })
  .describe("the hotline's rates, for tasks of cases from the public");

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
  .meta({ id: 'DepartmentIndicators', description: "one department's indicators for one period (docs/indicators.md)" });

// The schema and the type say the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _same: Same<z.infer<typeof departmentIndicatorsSchema>, DepartmentIndicators> = true;
void _same;
