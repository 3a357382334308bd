import { z } from 'zod';
import { departmentCodeSchema, departmentListSchema, dueDateSchema, locationSchema, phoneSchema, severities } from './case.schema';
import { languages } from './person.schema';
import { emailSchema, httpUrlSchema, text } from './text';

const trimmed = (_min: 1, max: number) => text(max);

/** A complaint (投诉/举报) as the public files it; contact details are kept from the public view. */
export const complaintInputSchema = z
  .object({
    title: trimmed(1, 200).optional(),
    description: trimmed(1, 5000),
    category: trimmed(1, 64).optional(),
    location: locationSchema.optional(),
    contact: z
      .object({
        name: trimmed(1, 100).optional(),
        phone: phoneSchema.optional(),
        email: emailSchema.optional(),
        /** The language the complainant is written to in (the answer's notice); zh-CN when not given. */
        language: z.enum(languages).optional(),
      })
      .strict()
      .optional(),
    evidence: z
      .array(z.object({ url: httpUrlSchema, note: trimmed(1, 1000).optional() }).strict())
      .max(10)
      .default([]),
  })
  .strict();
export type ComplaintInput = z.infer<typeof complaintInputSchema>;

/** The office turns a complaint into a case: whose it is, how serious, and what to call it. */
export const complaintConversionSchema = z
  .object({
    /** The case's title, in the office's words: the public list shows it (never the complainant's own text). */
    title: trimmed(1, 200),
    category: trimmed(1, 64),
    severity: z.enum(severities),
    leadDepartment: departmentCodeSchema,
    cooperatingDepartments: departmentListSchema,
    dueDate: dueDateSchema.optional(),
  })
  .strict();
export type ComplaintConversion = z.infer<typeof complaintConversionSchema>;

export const complaintDismissalSchema = z.object({ reason: trimmed(1, 2000) }).strict();

/** Where a complaint stands, as anyone holding its tracking code sees it. */
export const complaintPublicStatuses = ['received', 'dismissed', 'in_progress', 'closed', 'withdrawn'] as const;
export type ComplaintPublicStatus = (typeof complaintPublicStatuses)[number];
