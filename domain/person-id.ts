import { z } from 'zod';
import { text } from './text';

/** People in the directory are named by ids like p_3f9a0c1b2d4e (48 random bits, hex). */
export const personIdSchema = z
  .string()
  .regex(/^p_[0-9a-f]{12}$/, '人员编号形如 p_3f9a0c1b2d4e / a person id looks like p_3f9a0c1b2d4e');

/**
 * The responsible person (责任人) of a task as the task records them: who, and their post, as of
 * the assignment. Workflows cannot read the directory, so they keep this snapshot; contact data is
 * read from the directory when someone looks.
 */
export const responsiblePersonSchema = z
  .object({ id: personIdSchema, name: text(100), post: text(100) })
  .strict();
export type ResponsiblePerson = z.infer<typeof responsiblePersonSchema>;
