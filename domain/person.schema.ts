import { z } from 'zod';
import { phoneSchema } from './case.schema';
import { emailSchema, text } from './text';

/**
 * Who holds which role in a department: 主要负责人 its head, 分管领导 the deputy in charge, 联络员 the
 * liaison who receives assignments. The office's own staff: 督查办负责人 its lead (督办 and 约谈
 * notices) and its clerks (the office's alerts). A role may be held by several people, and a
 * person may hold several roles.
 */
export const departmentRoles = ['head', 'deputy', 'liaison'] as const;
export type DepartmentRole = (typeof departmentRoles)[number];
export const officeRoles = ['lead', 'clerk'] as const;
export type OfficeRole = (typeof officeRoles)[number];
export const personRoles = [...departmentRoles, ...officeRoles] as const;
export type PersonRole = (typeof personRoles)[number];

/** 中文 (the default) or English: the language of the notices a person receives. */
export const languages = ['zh-CN', 'en'] as const;
export type Language = (typeof languages)[number];

/** Ways to reach a person; each needs its address (e-mail: the person's `email`). */
export const channels = ['email'] as const;
export type Channel = (typeof channels)[number];

/** Whether `role` is one that people of a department (or of the office, for `office`) hold. */
export function roleFits(role: PersonRole, office: boolean): boolean {
  return (office ? (officeRoles as readonly string[]) : (departmentRoles as readonly string[])).includes(role);
}

/** A list of distinct values of `item`, as JSON Schema states it too (uniqueItems). */
const distinct = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((values) => new Set(values).size === values.length, { error: '有重复项 / an item is listed twice' })
    .meta({ uniqueItems: true });

const channelList = distinct(z.enum(channels), channels.length).describe(
  'how to reach the person, in order of preference; default: email when an e-mail address is given',
);

const lists = (channelsOf: unknown): string[] => (Array.isArray(channelsOf) ? (channelsOf as string[]) : []);
const needsAddress = '选择电子邮件渠道须填写电子邮件地址 / the email channel needs an e-mail address';

const personFields = {
  name: text(100),
  /** 岗位, e.g. 科长, 副局长, 办公室主任. */
  post: text(100),
  phone: phoneSchema.optional(),
  email: emailSchema.optional(),
  language: z.enum(languages).default('zh-CN'),
  channels: channelList.optional(),
};

/** A person listing the email channel has an e-mail address: the rule, and the same rule as JSON Schema states it. */
const emailChannelRule = {
  check: (p: { channels?: readonly string[] | undefined; email?: string | null | undefined }) =>
    !lists(p.channels).includes('email') || typeof p.email === 'string',
  schema: {
    if: { properties: { channels: { contains: { const: 'email' } } }, required: ['channels'] },
    then: { required: ['email'] },
  },
};

/** A person of a department, as the office adds them. */
export const departmentPersonInputSchema = z
  .object({ ...personFields, roles: distinct(z.enum(departmentRoles), departmentRoles.length).default([]) })
  .strict()
  .refine(emailChannelRule.check, { error: needsAddress, path: ['email'] })
  .meta(emailChannelRule.schema);
export type DepartmentPersonInput = z.infer<typeof departmentPersonInputSchema>;

/** One of the office's own staff, as the office adds them. */
export const officePersonInputSchema = z
  .object({ ...personFields, roles: distinct(z.enum(officeRoles), officeRoles.length).default([]) })
  .strict()
  .refine(emailChannelRule.check, { error: needsAddress, path: ['email'] })
  .meta(emailChannelRule.schema);
export type OfficePersonInput = z.infer<typeof officePersonInputSchema>;

/**
 * A change to a person: the fields given replace the stored ones, `null` clears a phone or an
 * e-mail address. A person stays in their department (someone who moves is added there anew).
 */
export const personChangeSchema = z
  .object({
    name: text(100).optional(),
    post: text(100).optional(),
    phone: phoneSchema.nullable().optional(),
    email: emailSchema.nullable().optional(),
    language: z.enum(languages).optional(),
    channels: channelList.optional(),
  })
  .strict()
  .refine((change) => Object.keys(change).length > 0, { error: '至少修改一项 / change at least one field' })
  .refine((change) => !lists(change.channels).includes('email') || change.email !== null, {
    error: needsAddress,
    path: ['email'],
  })
  .meta({
    minProperties: 1,
    if: emailChannelRule.schema.if,
    then: { properties: { email: { type: 'string' } } },
  });
export type PersonChange = z.infer<typeof personChangeSchema>;

/** Every role a person holds, replacing those held before (none: an empty list). */
export const personRolesInputSchema = z.object({ roles: distinct(z.enum(personRoles), personRoles.length) }).strict();
export type PersonRolesInput = z.infer<typeof personRolesInputSchema>;
