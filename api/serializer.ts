import type { FastifySerializerCompiler } from 'fastify/types/schema';
import { ResponseSerializationError, serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { declaresInstant, formatInstant, presentInstants } from '../domain/time';

/**
 * The JSON serializer of every route with a zod response schema: the instants the schema declares
 * are shown in the office's `zone`, only the declared fields are written, and each value's type is
 * checked on the way. What is formatted follows the declaration, never the look of a value.
 *
 * The writer is compiled once per route from its schema (compileResponseWriter) instead of
 * validating every response with zod: shapes, types, enums, literals and nullability are still
 * checked (a response that drops a required field or carries a wrong type is a 500, as before);
 * only the refinements of a string's content (patterns, lengths, formats) are not re-checked on
 * the way out. A schema holding a kind the writer does not know keeps the zod path.
 */
export function zonedSerializerCompiler(
  zone: string,
  onZodPath?: (route: { method: string; url: string }) => void,
): FastifySerializerCompiler<z.ZodType | { properties: z.ZodType }> {
  return (route) => {
    const schema = route.schema instanceof z.ZodType ? route.schema : route.schema.properties;
    const fail = (cause: unknown) => new ResponseSerializationError(route.method, route.url, { cause: cause as z.ZodError });
    const compiled = compileResponseWriter(schema, zone, fail);
    if (compiled) return compiled;
    onZodPath?.(route);
    return zodWriter(serializerCompiler(route), schema, zone);
  };
}

/** zod's own path: validate the whole response, then JSON.stringify. */
function zodWriter(inner: (data: unknown) => string, schema: z.ZodType, zone: string): (data: unknown) => string {
  return (data) => inner(presentInstants(schema, data, zone));
}

/** Turns a value into what its schema says is written; throws a SerializationMismatch if it does not fit. */
type Present = (value: unknown, path: PathPart) => unknown;

/** Where a value sits in the response, built only when something does not fit. */
type PathPart = { readonly parent: PathPart; readonly key: string | number } | null;

/** Why a response does not fit its schema: the route answers 500, as with zod's validation. */
export class SerializationMismatch extends Error {
  /** As zod's issues, for the error log (api/errors.ts). */
  readonly issues: { path: (string | number)[]; message: string }[];
  constructor(path: (string | number)[], expected: string) {
    super(`response ${path.length ? path.join('.') : '(root)'}: expected ${expected}`);
    this.name = 'SerializationMismatch';
    this.issues = [{ path, message: `expected ${expected}` }];
  }
}

function mismatch(path: PathPart, expected: string): never {
  const parts: (string | number)[] = [];
  for (let at = path; at; at = at.parent) parts.unshift(at.key);
  throw new SerializationMismatch(parts, expected);
}

/** A kind of schema the writer does not handle: the route keeps zod's validation. */
class Unsupported extends Error {}

type AnyDef = { type: string; [key: string]: unknown };
const defOf = (schema: z.core.$ZodType): AnyDef => schema._zod.def as unknown as AnyDef;

/**
 * Compiles `schema` into a writer of JSON: instants shown in `zone`, undeclared fields left out,
 * types checked (a mismatch is thrown through `fail`). Undefined when the schema holds a kind it
 * does not know (transforms, defaults, intersections …): then zod's own path must be used.
 */
export function compileResponseWriter(
  schema: z.core.$ZodType,
  zone: string,
  fail: (cause: unknown) => Error = (cause) => cause as Error,
): ((data: unknown) => string) | undefined {
  let present: Present;
  try {
    present = compile(schema, zone, new Map());
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
  return (data) => {
    let shown: unknown;
    try {
      shown = present(data, null);
    } catch (error) {
      throw error instanceof SerializationMismatch ? fail(error) : error;
    }
    return JSON.stringify(shown);
  };
}

function compile(schema: z.core.$ZodType, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  const known = seen.get(schema);
  if (known) return known;
  // A schema that refers to itself (lazy) gets the writer being compiled, through this indirection.
  const self: { write?: Present } = {};
  seen.set(schema, (value, path) => self.write!(value, path));
  self.write = compileDef(schema, defOf(schema), zone, seen);
  seen.set(schema, self.write);
  return self.write;
}

function compileDef(schema: z.core.$ZodType, def: AnyDef, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  switch (def.type) {
    case 'string':
      if (declaresInstant(def)) {
        return (value, path) => {
          if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) mismatch(path, 'an instant');
          return formatInstant(value, zone);
        };
      }
      return (value, path) => (typeof value === 'string' ? value : mismatch(path, 'a string'));
    case 'number': {
      // z.int() carries its format (safeint, int32 …) itself; z.number().int() as a check.
      const formats = [def.format, ...((def.checks as z.core.$ZodType[] | undefined) ?? []).map((check) => defOf(check).format)];
      const integer = formats.some((format) => typeof format === 'string' && format.includes('int'));
      return integer
        ? (value, path) => (Number.isSafeInteger(value) ? value : mismatch(path, 'an integer'))
        : (value, path) => (typeof value === 'number' && Number.isFinite(value) ? value : mismatch(path, 'a number'));
    }
    case 'boolean':
      return (value, path) => (typeof value === 'boolean' ? value : mismatch(path, 'a boolean'));
    case 'null':
      return (value, path) => (value === null ? value : mismatch(path, 'null'));
    case 'unknown':
    case 'any':
      return (value) => value;
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (value, path) => (values.has(value) ? value : mismatch(path, `one of ${[...values].join(', ')}`));
    }
    case 'literal': {
      const values = new Set(def.values as unknown[]);
      return (value, path) => (values.has(value) ? value : mismatch(path, `${[...values].join(' or ')}`));
    }
    case 'nullable': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value, path) => (value === null ? null : inner(value, path));
    }
    case 'optional': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value, path) => (value === undefined ? undefined : inner(value, path));
    }
    case 'readonly':
      return compile(def.innerType as z.core.$ZodType, zone, seen);
    case 'nonoptional': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value, path) => (value === undefined ? mismatch(path, 'a value') : inner(value, path));
    }
    case 'lazy':
      return compile((def.getter as () => z.core.$ZodType)(), zone, seen);
    case 'array': {
      const element = compile(def.element as z.core.$ZodType, zone, seen);
      return (value, path) => {
        if (!Array.isArray(value)) mismatch(path, 'an array');
        const out = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) out[i] = element(value[i], { parent: path, key: i });
        return out;
      };
    }
    case 'record': {
      const key = compile(def.keyType as z.core.$ZodType, zone, seen);
      const item = compile(def.valueType as z.core.$ZodType, zone, seen);
      return (value, path) => {
        if (!isPlainObject(value)) mismatch(path, 'an object');
        const out: Record<string, unknown> = {};
        for (const name of Object.keys(value)) {
          key(name, { parent: path, key: name });
          out[name] = item(value[name], { parent: path, key: name });
        }
        return out;
      };
    }
    case 'object':
      return compileObject(def, zone, seen);
    case 'union':
      return compileUnion(def, zone, seen);
    default:
      // transform, pipe, default, catch, intersection, tuple, date …: zod knows what they mean.
      throw new Unsupported(def.type);
  }
}

function compileObject(def: AnyDef, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  const shape = def.shape as Record<string, z.core.$ZodType>;
  const fields = Object.entries(shape).map(([name, field]) => ({
    name,
    write: compile(field, zone, seen),
    // An optional field may be missing; any other must be there (undefined is not JSON).
    optional: field._zod.optout === 'optional',
  }));
  const catchall = def.catchall as z.core.$ZodType | undefined;
  const rest: Present | 'strip' | 'strict' =
    catchall === undefined ? 'strip' : defOf(catchall).type === 'never' ? 'strict' : compile(catchall, zone, seen);
  return (value, path) => {
    if (!isPlainObject(value)) mismatch(path, 'an object');
    const out: Record<string, unknown> = {};
    for (const field of fields) {
      const item = value[field.name];
      if (item === undefined) {
        if (!field.optional) mismatch({ parent: path, key: field.name }, 'a value');
        continue;
      }
      out[field.name] = field.write(item, { parent: path, key: field.name });
    }
    if (rest !== 'strip') {
      for (const name of Object.keys(value)) {
        if (Object.hasOwn(shape, name)) continue;
        if (rest === 'strict') mismatch({ parent: path, key: name }, 'no such field');
        out[name] = rest(value[name], { parent: path, key: name });
      }
    }
    return out;
  };
}

function compileUnion(def: AnyDef, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  const options = def.options as z.core.$ZodType[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator !== undefined) {
    const byTag = new Map<unknown, Present>();
    for (const option of options) {
      const tag = (defOf(option).shape as Record<string, z.core.$ZodType> | undefined)?.[discriminator];
      const values = tag?._zod.values;
      if (!values) throw new Unsupported('discriminated union without literal tags');
      const write = compile(option, zone, seen);
      for (const value of values) byTag.set(value, write);
    }
    return (value, path) => {
      if (!isPlainObject(value)) mismatch(path, 'an object');
      const write = byTag.get(value[discriminator]);
      return write ? write(value, path) : mismatch({ parent: path, key: discriminator }, `one of ${[...byTag.keys()].join(', ')}`);
    };
  }
  // A plain union: the first option that zod accepts, as zod itself decides (rare in responses).
  const written = options.map((option) => ({ option, write: compile(option, zone, seen) }));
  return (value, path) => {
    const chosen = written.find(({ option }) => z.safeParse(option, value).success);
    return chosen ? chosen.write(value, path) : mismatch(path, 'one of the union’s options');
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
