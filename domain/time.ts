import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { DomainError } from './errors';

/** The calendar year of `instant` in `zone`. */
export function yearIn(instant: Date, zone: string): number {
  return DateTime.fromJSDate(instant, { zone }).year;
}

/** Per zone, its UTC offset in minutes by quarter hour (zones change offset only on quarter hours). */
const offsets = new Map<string, Map<number, number>>();
/** "+08:00" and the like, by offset in minutes. */
const offsetSuffixes = new Map<number, string>();

/** A zone's UTC offset in minutes at `ms`. */
function offsetAt(zone: string, ms: number): number {
  let byQuarter = offsets.get(zone);
  if (byQuarter === undefined) {
    byQuarter = new Map();
    offsets.set(zone, byQuarter);
  }
  const quarter = Math.floor(ms / 900_000);
  let offset = byQuarter.get(quarter);
  if (offset === undefined) {
    if (byQuarter.size > 50_000) byQuarter.clear();
    offset = IANAZone.create(zone).offset(ms);
    byQuarter.set(quarter, offset);
  }
  return offset;
}

function offsetSuffix(offset: number): string {
  let suffix = offsetSuffixes.get(offset);
  if (suffix === undefined) {
    const abs = Math.abs(offset);
    suffix = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    offsetSuffixes.set(offset, suffix);
  }
  return suffix;
}

/**
 * An ISO 8601 instant shown in `zone` with its offset, e.g. 2026-11-25T19:30:00.000+08:00. Total:
 * a value that is not an instant comes back unchanged, so presenting stored data never fails.
 */
export function formatInstant(iso: string, zone: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  // The zone's offset at that instant, then plain arithmetic: far cheaper than a zoned DateTime,
  // and lists format thousands of instants.
  const offset = offsetAt(zone, ms);
  return new Date(ms + offset * 60_000).toISOString().slice(0, -1) + offsetSuffix(offset);
}

/**
 * The instant a due date means: a plain date is the end of that day in `zone`; a date-time
 * keeps its own offset. Returned as an ISO 8601 UTC instant.
 */
export function dueInstant(dueDate: string, zone: string): string {
  const dt = /^\d{4}-\d{2}-\d{2}$/.test(dueDate)
    ? DateTime.fromISO(dueDate, { zone }).endOf('day')
    : DateTime.fromISO(dueDate, { setZone: true });
  if (!dt.isValid) {
    throw new DomainError('invalid_input', `dueDate: 无效日期 / not a valid date: ${dueDate}`, [
      { path: 'dueDate', message: 'not a valid date' },
    ]);
  }
  return dt.toUTC().toISO() ?? dueDate;
}

/** An instant as schemas declare it: ISO 8601 with a zone (Z or an offset). */
export const instantSchema = z.iso.datetime({ offset: true }).describe('ISO 8601 date-time with zone offset');

type AnyDef = { type: string; [key: string]: unknown };
const defOf = (schema: z.core.$ZodType): AnyDef => schema._zod.def as unknown as AnyDef;

/** Whether a schema's definition declares an instant: a string with the ISO date-time format. */
export function declaresInstant(def: { type: string; format?: unknown }): boolean {
  return def.type === 'string' && def.format === 'datetime';
}

/**
 * A copy of `value` with the instants that `schema` declares (string fields of ISO date-time
 * format, at any depth) shown in `zone`. Only declared fields change: free text that looks like a
 * time is never rewritten, and a value that does not fit the schema passes through as it is.
 */
export function presentInstants<T>(schema: z.core.$ZodType, value: T, zone: string): T {
  return present(schema, value, zone) as T;
}

/** Which schemas hold an instant somewhere inside them (computed once per schema). */
const holding = new WeakMap<z.core.$ZodType, boolean>();

function holdsInstants(schema: z.core.$ZodType): boolean {
  const known = holding.get(schema);
  if (known !== undefined) return known;
  // Provisionally no, so that a schema that refers to itself (lazy) ends the search.
  holding.set(schema, false);
  const def = defOf(schema);
  let holds: boolean;
  switch (def.type) {
    case 'string':
      holds = declaresInstant(def);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      holds = holdsInstants(def.innerType as z.core.$ZodType);
      break;
    case 'lazy':
      holds = holdsInstants((def.getter as () => z.core.$ZodType)());
      break;
    case 'pipe':
      holds = holdsInstants(def.out as z.core.$ZodType);
      break;
    case 'array':
      holds = holdsInstants(def.element as z.core.$ZodType);
      break;
    case 'record':
      holds = holdsInstants(def.valueType as z.core.$ZodType);
      break;
    case 'object':
      holds =
        Object.values(def.shape as Record<string, z.core.$ZodType>).some(holdsInstants) ||
        (def.catchall !== undefined && holdsInstants(def.catchall as z.core.$ZodType));
      break;
    case 'union':
      holds = (def.options as z.core.$ZodType[]).some(holdsInstants);
      break;
    case 'intersection':
      holds = holdsInstants(def.left as z.core.$ZodType) || holdsInstants(def.right as z.core.$ZodType);
      break;
    default:
      holds = false;
  }
  holding.set(schema, holds);
  return holds;
}

/** The fields of an object schema that hold instants (computed once per schema). */
const instantFields = new WeakMap<z.core.$ZodType, [string, z.core.$ZodType][]>();

function fieldsWithInstants(schema: z.core.$ZodType, shape: Record<string, z.core.$ZodType>): [string, z.core.$ZodType][] {
  let fields = instantFields.get(schema);
  if (!fields) {
    fields = Object.entries(shape).filter(([, field]) => holdsInstants(field));
    instantFields.set(schema, fields);
  }
  return fields;
}

function present(schema: z.core.$ZodType, value: unknown, zone: string): unknown {
  // Most of a response holds no instant at all: it passes through untouched and uncopied.
  if (value === null || value === undefined || !holdsInstants(schema)) return value;
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return typeof value === 'string' ? formatInstant(value, zone) : value;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return present(def.innerType as z.core.$ZodType, value, zone);
    case 'lazy':
      return present((def.getter as () => z.core.$ZodType)(), value, zone);
    case 'pipe':
      // A response is encoded from the pipe's output side.
      return present(def.out as z.core.$ZodType, value, zone);
    case 'array':
      return Array.isArray(value) ? value.map((item: unknown) => present(def.element as z.core.$ZodType, item, zone)) : value;
    case 'record':
      return isPlainObject(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, present(def.valueType as z.core.$ZodType, v, zone)]))
        : value;
    case 'object': {
      if (!isPlainObject(value)) return value;
      const shape = def.shape as Record<string, z.core.$ZodType>;
      const catchall = def.catchall as z.core.$ZodType | undefined;
      const out: Record<string, unknown> = { ...value };
      for (const [key, field] of fieldsWithInstants(schema, shape)) {
        if (Object.hasOwn(value, key)) out[key] = present(field, value[key], zone);
      }
      if (catchall && holdsInstants(catchall)) {
        for (const key of Object.keys(value)) if (!Object.hasOwn(shape, key)) out[key] = present(catchall, value[key], zone);
      }
      return out;
    }
    case 'union': {
      const option = unionOption(def, value);
      return option ? present(option, value, zone) : value;
    }
    case 'intersection':
      return present(def.right as z.core.$ZodType, present(def.left as z.core.$ZodType, value, zone), zone);
    default:
      return value;
  }
}

/** The option of a union that `value` belongs to: by its discriminator, else the first that fits. */
function unionOption(def: AnyDef, value: unknown): z.core.$ZodType | undefined {
  const options = def.options as z.core.$ZodType[];
  const discriminator = def.discriminator as string | undefined;
  if (discriminator !== undefined && isPlainObject(value)) {
    const tag = value[discriminator];
    return options.find((option) => {
      const field = (defOf(option).shape as Record<string, z.core.$ZodType> | undefined)?.[discriminator];
      return field?._zod.values?.has(tag as never) ?? false;
    });
  }
  return options.find((option) => z.safeParse(option, value).success);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
