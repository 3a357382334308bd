import { z } from 'zod';
import type { Severity } from './case.schema';

/** The rungs of the escalation ladder; each level has a fixed meaning, its timing is policy. */
export const escalationRungs = {
  1: { zh: '催办', en: 'reminder notice', notify: ['department'] },
  2: { zh: '督办', en: 'supervision notice', notify: ['department_head', 'office_lead'] },
  3: { zh: '通报批评', en: 'public criticism (listed in the next bulletin)', notify: ['department', 'office'] },
  4: { zh: '约谈', en: 'accountability interview', notify: ['department_head', 'office_lead'] },
} as const;
export type EscalationLevel = keyof typeof escalationRungs;
export type RecipientRole = (typeof escalationRungs)[EscalationLevel]['notify'][number];

const workingDays = (max: number) => z.number().int().min(1).max(max);

/** A time of day in the office's zone, HH:MM. */
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '须为 HH:MM / a time of day as HH:MM');

const windowsSchema = z
  .object({ general: workingDays(365), serious: workingDays(365), major: workingDays(365) })
  .strict();

const rungSchema = z
  .object({ level: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]), workingDaysOverdue: workingDays(365) })
  .strict();

const ladderSchema = z
  .array(rungSchema)
  .max(4)
  .superRefine((rungs, ctx) => {
    rungs.forEach((rung, i) => {
      const previous = rungs[i - 1];
      if (previous && (rung.level <= previous.level || rung.workingDaysOverdue < previous.workingDaysOverdue)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: '梯级须按级别递增、逾期天数不减 / rungs go up in level with non-decreasing days overdue',
        });
      }
    });
  });

const reminderSchema = z.union([
  z.object({ atFraction: z.number().gt(0).lt(1) }).strict(),
  z.object({ workingDaysLeft: workingDays(30) }).strict(),
]);
export type ReminderRule = z.infer<typeof reminderSchema>;

/**
 * The office's deadline and escalation policy. Deadlines are fixed when a task is assigned;
 * reminders and rungs are planned from the policy in force whenever a task wakes up, so a
 * changed policy reaches running tasks at their next wake-up.
 */
export const policySchema = z
  .object({
    acknowledgeWorkingDays: workingDays(30).default(1),
    rectificationWorkingDays: windowsSchema.default({ general: 15, serious: 7, major: 3 }),
    /** Windows per category (e.g. 市容秩序), replacing the severity defaults they name. */
    categories: z.record(z.string().min(1), windowsSchema.partial()).default({}),
    reminders: z.array(reminderSchema).max(10).default([{ atFraction: 0.5 }, { atFraction: 0.8 }, { workingDaysLeft: 1 }]),
    /** Reminders and rungs fire at this time of a working day (HH:MM, office time). */
    workdayStartTime: timeOfDay.default('09:00'),
    escalation: z
      .object({
        rectification: ladderSchema.default([
          { level: 1, workingDaysOverdue: 1 },
          { level: 2, workingDaysOverdue: 3 },
          { level: 3, workingDaysOverdue: 5 },
          { level: 4, workingDaysOverdue: 10 },
        ]),
        acknowledgement: ladderSchema.default([
          { level: 1, workingDaysOverdue: 1 },
          { level: 2, workingDaysOverdue: 2 },
        ]),
      })
      .strict()
      .default({
        rectification: [
          { level: 1, workingDaysOverdue: 1 },
          { level: 2, workingDaysOverdue: 3 },
          { level: 3, workingDaysOverdue: 5 },
          { level: 4, workingDaysOverdue: 10 },
        ],
        acknowledgement: [
          { level: 1, workingDaysOverdue: 1 },
          { level: 2, workingDaysOverdue: 2 },
        ],
      }),
    /** When notices go out: quiet hours (urgent rungs ignore them) and a daily digest per department. */
    notices: z
      .object({
        quietHours: z.object({ from: timeOfDay, to: timeOfDay }).strict().nullable().default(null),
        digestAt: timeOfDay.nullable().default(null),
      })
      .strict()
      .default({ quietHours: null, digestAt: null }),
    /**
     * 回访: how long the complainant may rate an answer (working days after it), and how often an
     * upheld 不满意 may reopen one case (重办).
     */
    followUp: z
      .object({
        windowWorkingDays: workingDays(60).default(5),
        maxReopens: z.number().int().min(0).max(10).default(2),
      })
      .strict()
      .default({ windowWorkingDays: 5, maxReopens: 2 }),
    maxExtensionsPerTask: z.number().int().min(0).max(10).default(2),
    maxExtensionWorkingDays: workingDays(365).default(30),
  })
  .strict();
export type Policy = z.infer<typeof policySchema>;

/** The policy with every default. */
export const defaultPolicy: Policy = policySchema.parse({});

/** Rectification window in working days for a case's category and severity. */
export function rectificationWindow(policy: Policy, category: string, severity: Severity): number {
  return policy.categories[category]?.[severity] ?? policy.rectificationWorkingDays[severity];
}
