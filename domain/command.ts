import type { z } from 'zod';
import { type Actor, actorSchema } from './case.schema';
import { DomainError } from './errors';
import { parseInput } from './validation';

/**
 * Validates a command `{ actor, ...input }`: the actor against the actor schema and the rest
 * against `schema`. Throws one `invalid_input` DomainError naming every field at fault.
 */
export function parseCommand<S extends z.ZodType>(
  schema: S,
  command: unknown,
  what: string,
): { actor: Actor } & z.output<S> {
  if (typeof command !== 'object' || command === null) {
    throw new DomainError('invalid_input', `${what} 须为对象 / ${what} must be an object`);
  }
  const { actor, ...input } = command as Record<string, unknown>;
  const issues: DomainError[] = [];
  let parsedActor: Actor | undefined;
  let parsedInput: z.output<S> | undefined;
  try {
    parsedActor = parseInput(actorSchema, actor, 'actor');
  } catch (error) {
    issues.push(error as DomainError);
  }
  try {
    parsedInput = parseInput(schema, input, what);
  } catch (error) {
    issues.push(error as DomainError);
  }
  if (issues.length > 0) {
    const details = issues.flatMap((e, i) =>
      e.details.map((d) =>
        i === 0 && parsedActor === undefined ? { ...d, path: d.path ? `actor.${d.path}` : 'actor' } : d,
      ),
    );
    throw new DomainError('invalid_input', issues.map((e) => e.message).join('; '), details);
  }
  return { ...(parsedInput as object), actor: parsedActor } as { actor: Actor } & z.output<S>;
}
