import type { FastifySerializerCompiler } from 'fastify/types/schema';
import { ResponseSerializationError, serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { declaresInstant, formatInstant, presentInstants } from '../domain/time';
import { isSettled } from '../services/settled';

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

/**
 * Writes a value as its schema says, as JSON text (undefined: nothing to write, as JSON.stringify
 * leaves out an undefined field); throws a SerializationMismatch if it does not fit.
 */
type Present = (value: unknown) => string | undefined;

/** Why a response does not fit its schema: the route answers 500, as with zod's validation. */
export class SerializationMismatch extends Error {
  /** Where in the response, outermost first (filled in as the error passes up through the writers). */
  readonly path: (string | number)[] = [];
  constructor(readonly expected: string) {
    super(`response (root): expected ${expected}`);
    this.name = 'SerializationMismatch';
  }

  /** As zod's issues, for the error log (api/errors.ts). */
  get issues(): { path: (string | number)[]; message: string }[] {
    return [{ path: this.path, message: `expected ${this.expected}` }];
  }
}

function mismatch(expected: string): never {
  throw new SerializationMismatch(expected);
}

/** Adds `key` to the path of a mismatch found inside it (no path is built while everything fits). */
function within(error: unknown, key: string | number): unknown {
  if (error instanceof SerializationMismatch) {
    error.path.unshift(key);
    error.message = `response ${error.path.join('.')}: expected ${error.expected}`;
  }
  return error;
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
    try {
      // (JSON.stringify's answer for a root with nothing to write, such as undefined.)
      return present(data) as string;
    } catch (error) {
      throw error instanceof SerializationMismatch ? fail(error) : error;
    }
  };
}

function compile(schema: z.core.$ZodType, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  const known = seen.get(schema);
  if (known) return known;
  // A schema that refers to itself (lazy) gets the writer being compiled, through this indirection.
  const self: { write?: Present } = {};
  seen.set(schema, (value) => self.write!(value));
  self.write = compileDef(schema, defOf(schema), zone, seen);
  seen.set(schema, self.write);
  return self.write;
}

function compileDef(schema: z.core.$ZodType, def: AnyDef, zone: string, seen: Map<z.core.$ZodType, Present>): Present {
  switch (def.type) {
    case 'string':
      if (declaresInstant(def)) {
        return (value) => {
          if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) mismatch('an instant');
          return JSON.stringify(formatInstant(value, zone));
        };
      }
      return (value) => (typeof value === 'string' ? JSON.stringify(value) : mismatch('a string'));
    case 'number': {
      // z.int() carries its format (safeint, int32 …) itself; z.number().int() as a check.
      const formats = [def.format, ...((def.checks as z.core.$ZodType[] | undefined) ?? []).map((check) => defOf(check).format)];
      const integer = formats.some((format) => typeof format === 'string' && format.includes('int'));
      return integer
        ? (value) => (Number.isSafeInteger(value) ? JSON.stringify(value) : mismatch('an integer'))
        : (value) => (typeof value === 'number' && Number.isFinite(value) ? JSON.stringify(value) : mismatch('a number'));
    }
    case 'boolean':
      return (value) => (value === true ? 'true' : value === false ? 'false' : mismatch('a boolean'));
    case 'null':
      return (value) => (value === null ? 'null' : mismatch('null'));
    case 'unknown':
    case 'any':
      return (value) => JSON.stringify(value);
    case 'enum': {
      const values = new Set(Object.values(def.entries as Record<string, unknown>));
      return (value) => (values.has(value) ? JSON.stringify(value) : mismatch(`one of ${[...values].join(', ')}`));
    }
    case 'literal': {
      const values = new Set(def.values as unknown[]);
      return (value) => (values.has(value) ? JSON.stringify(value) : mismatch(`${[...values].join(' or ')}`));
    }
    case 'nullable': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value) => (value === null ? 'null' : inner(value));
    }
    case 'optional': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value) => (value === undefined ? undefined : inner(value));
    }
    case 'readonly':
      return compile(def.innerType as z.core.$ZodType, zone, seen);
    case 'nonoptional': {
      const inner = compile(def.innerType as z.core.$ZodType, zone, seen);
      return (value) => (value === undefined ? mismatch('a value') : inner(value));
    }
    case 'lazy':
      return compile((def.getter as () => z.core.$ZodType)(), zone, seen);
    case 'array': {
      const element = compile(def.element as z.core.$ZodType, zone, seen);
      return (value) => {
        if (!Array.isArray(value)) mismatch('an array');
        let out = '[';
        let i = 0;
        try {
          for (; i < value.length; i++) out += `${i > 0 ? ',' : ''}${element(value[i]) ?? 'null'}`;
        } catch (error) {
          throw within(error, i);
        }
        return `${out}]`;
      };
    }
    case 'record': {
      const key = compile(def.keyType as z.core.$ZodType, zone, seen);
      const item = compile(def.valueType as z.core.$ZodType, zone, seen);
      return (value) => {
        if (!isPlainObject(value)) mismatch('an object');
        let out = '';
        for (const name of Object.keys(value)) {
          try {
            key(name);
            out = withMember(out, `${JSON.stringify(name)}:`, item(value[name]));
          } catch (error) {
            throw within(error, name);
          }
        }
        return `{${out}}`;
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
    /** The field's name as JSON, with its colon. */
    label: `${JSON.stringify(name)}:`,
    write: compile(field, zone, seen),
    // An optional field may be missing; any other must be there (undefined is not JSON).
    optional: field._zod.optout === 'optional',
  }));
  const catchall = def.catchall as z.core.$ZodType | undefined;
  const rest: Present | 'strip' | 'strict' =
    catchall === undefined ? 'strip' : defOf(catchall).type === 'never' ? 'strict' : compile(catchall, zone, seen);
  const write = (value: Record<string, unknown>): string => {
    let out = '';
    let name = '';
    try {
      for (const field of fields) {
        name = field.name;
        const item = value[name];
        if (item === undefined) {
          if (!field.optional) mismatch('a value');
          continue;
        }
        out = withMember(out, field.label, field.write(item));
      }
      if (rest !== 'strip') {
        for (const key of Object.keys(value)) {
          if (Object.hasOwn(shape, key)) continue;
          name = key;
          if (rest === 'strict') mismatch('no such field');
          out = withMember(out, `${JSON.stringify(key)}:`, rest(value[key]));
        }
      }
    } catch (error) {
      throw within(error, name);
    }
    return `{${out}}`;
  };
  // A settled object (services/settled.ts) cannot change: its JSON, once written, is kept with it.
  const kept = new WeakMap<object, string>();
  return (value) => {
    if (!isPlainObject(value)) mismatch('an object');
    if (!isSettled(value)) return write(value);
    let text = kept.get(value);
    if (text === undefined) kept.set(value, (text = write(value)));
    return text;
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
    return (value) => {
      if (!isPlainObject(value)) mismatch('an object');
      const write = byTag.get(value[discriminator]);
      if (write) return write(value);
      throw within(new SerializationMismatch(`one of ${[...byTag.keys()].join(', ')}`), discriminator);
    };
  }
  // A plain union: the first option that zod accepts, as zod itself decides (rare in responses).
  const written = options.map((option) => ({ option, write: compile(option, zone, seen) }));
  return (value) => {
    const chosen = written.find(({ option }) => z.safeParse(option, value).success);
    return chosen ? chosen.write(value) : mismatch('one of the union’s options');
  };
}

/** An object's members so far with one more (`label` is its name as JSON and a colon); nothing to write leaves it out, as JSON.stringify does. */
function withMember(out: string, label: string, written: string | undefined): string {
  if (written === undefined) return out;
  return out ? `${out},${label}${written}` : `${label}${written}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
