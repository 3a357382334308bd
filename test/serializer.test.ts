import { Client, Connection } from '@temporalio/client';
import { serializerCompiler } from 'fastify-type-provider-zod';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApi } from '../api/server';
import { casePageSchema, caseRecordSchema, caseSchema } from '../api/schemas';
import { compileResponseWriter, SerializationMismatch } from '../api/serializer';
import { seedReadModel } from '../bench/api';
import type { Db } from '../db/database';
import { instantSchema, presentInstants } from '../domain/time';
import { createCaseService } from '../services/case.service';
import { createTokenService } from '../services/token.service';
import { tempDatabase } from './support/database';

const zone = 'Asia/Shanghai';

/** What every response was before the compiled writer: instants presented, then zod's encode and JSON.stringify. */
function zodPath(schema: z.ZodType): (data: unknown) => string {
  const inner = serializerCompiler({ schema, method: 'GET', url: '/test', httpStatus: '200' });
  return (data) => inner(presentInstants(schema, data, zone));
}

function writerOf(schema: z.ZodType): (data: unknown) => string {
  const write = compileResponseWriter(schema, zone);
  if (!write) throw new Error('schema not compiled');
  return write;
}

/** Both paths agree: the same JSON text, or both refuse the value. */
function expectSameAsZod(schema: z.ZodType, data: unknown): string {
  let expected: string | Error;
  try {
    expected = zodPath(schema)(data);
  } catch (error) {
    expected = error as Error;
  }
  if (expected instanceof Error) {
    expect(() => writerOf(schema)(data)).toThrow(SerializationMismatch);
    return '';
  }
  expect(writerOf(schema)(data)).toBe(expected);
  return expected;
}

describe('the compiled response writer', () => {
  const schema = z.object({
    at: instantSchema,
    due: instantSchema.nullable().optional(),
    note: z.string(),
    count: z.number().int(),
    ratio: z.number(),
    done: z.boolean(),
    level: z.enum(['low', 'high']),
    tags: z.array(z.string()),
    history: z.array(z.object({ when: instantSchema, what: z.string() })).readonly(),
    byKey: z.record(z.string(), instantSchema),
    extra: z.looseObject({ kind: z.string() }),
    anything: z.unknown(),
    event: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('moved'), to: instantSchema }),
      z.object({ kind: z.literal('noted'), text: z.string() }),
    ]),
    either: z.union([z.iso.date(), instantSchema]).optional(),
  });
  const value = {
    at: '2026-11-25T04:00:00.000Z',
    due: null,
    note: '2026-01-01T00:00:00Z',
    count: 3,
    ratio: 0.25,
    done: false,
    level: 'high',
    tags: ['2026-01-01T00:00:00Z'],
    history: [{ when: '2026-11-25T16:30:00.000Z', what: '2026-02-01T00:00:00Z', dropped: 'not declared' }],
    byKey: { a: '2026-11-25T04:00:00.000Z' },
    extra: { kind: 'k', kept: 1 },
    anything: { deep: ['x', 1, null] },
    event: { kind: 'moved', to: '2026-12-31T15:59:59.999Z' },
    either: '2026-12-01',
    undeclared: 'left out',
  };

  it('writes what zod wrote: declared fields only, declared instants in the office zone, text that looks like one alone', () => {
    const written = JSON.parse(expectSameAsZod(schema, value)) as Record<string, unknown>;
    expect(written).toEqual({
      at: '2026-11-25T12:00:00.000+08:00',
      due: null,
      note: '2026-01-01T00:00:00Z',
      count: 3,
      ratio: 0.25,
      done: false,
      level: 'high',
      tags: ['2026-01-01T00:00:00Z'],
      history: [{ when: '2026-11-26T00:30:00.000+08:00', what: '2026-02-01T00:00:00Z' }],
      byKey: { a: '2026-11-25T12:00:00.000+08:00' },
      extra: { kind: 'k', kept: 1 },
      anything: { deep: ['x', 1, null] },
      event: { kind: 'moved', to: '2026-12-31T23:59:59.999+08:00' },
      // A plain union: the option zod accepts decides; a date is not an instant and stays a date.
      either: '2026-12-01',
    });
    expectSameAsZod(schema, { ...value, event: { kind: 'noted', text: '2026-12-31T15:59:59.999Z' }, either: '2026-12-01T00:00:00Z' });
    expectSameAsZod(schema, { ...value, due: '2026-12-01T00:00:00.000Z', either: undefined });
  });

  it('refuses a response that drops or mistypes a field, as zod did (the route answers 500)', () => {
    const { note: _dropped, ...withoutNote } = value;
    const cases: [string, unknown][] = [
      ['a required field missing', withoutNote],
      ['a string as a number', { ...value, count: '3' }],
      ['a fraction as an integer', { ...value, count: 1.5 }],
      ['NaN', { ...value, ratio: Number.NaN }],
      ['a number as a string', { ...value, note: 3 }],
      ['a value outside the enum', { ...value, level: 'medium' }],
      ['null where none is allowed', { ...value, at: null }],
      ['an instant that is no time', { ...value, at: 'yesterday' }],
      ['an unknown tag of a discriminated union', { ...value, event: { kind: 'lost' } }],
      ['a wrong field inside an option', { ...value, event: { kind: 'moved', to: 5 } }],
      ['an object as an array', { ...value, tags: {} }],
      ['a missing field deep inside', { ...value, history: [{ when: '2026-11-25T16:30:00.000Z' }] }],
    ];
    for (const [what, data] of cases) {
      expect(() => zodPath(schema)(data), what).toThrow();
      expect(() => writerOf(schema)(data), what).toThrow(SerializationMismatch);
    }
    expect(() => writerOf(schema)({ ...value, history: [{ when: '2026-11-25T16:30:00.000Z' }] })).toThrow(/history\.0\.what/);
    // A strict object refuses fields it does not declare, as zod does.
    const strict = z.strictObject({ a: z.string() });
    expect(() => writerOf(strict)({ a: 'x', b: 'y' })).toThrow(SerializationMismatch);
    expect(writerOf(strict)({ a: 'x' })).toBe('{"a":"x"}');
  });

  it('follows a schema that refers to itself', () => {
    type Node = { name: string; at: string; children: Node[] };
    const node: z.ZodType<Node> = z.lazy(() => z.object({ name: z.string(), at: instantSchema, children: z.array(node) }));
    expectSameAsZod(node, { name: 'a', at: '2026-11-25T04:00:00.000Z', children: [{ name: 'b', at: '2026-11-25T05:00:00.000Z', children: [] }] });
  });

  it('leaves kinds it does not know (defaults, transforms) to zod', () => {
    expect(compileResponseWriter(z.object({ a: z.string().default('x') }), zone)).toBeUndefined();
    expect(compileResponseWriter(z.object({ a: z.string().transform((s) => s.length) }), zone)).toBeUndefined();
  });
});

describe('list and case responses, from the read model', () => {
  let db: Db;
  beforeAll(async () => {
    ({ db } = await tempDatabase());
    await seedReadModel(db, 300);
  });
  afterAll(() => db?.destroy());

  it('writes every page of cases exactly as zod did, every field of the Case schema present', async () => {
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const cases = createCaseService({ db, client, taskQueue: 'unused', timeZone: zone });
    const page = await cases.listCases({ limit: 50, status: 'open', sort: 'dueAt' });
    expect(page.items).toHaveLength(50);
    const written = JSON.parse(expectSameAsZod(casePageSchema, page)) as { items: Record<string, unknown>[] };
    for (const item of written.items) {
      expect(Object.keys(item).sort()).toEqual(Object.keys(caseSchema.shape).sort());
      expect(item.openedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/);
      expect(item.dueAt).toMatch(/\+08:00$/);
    }
    const record = await cases.getCase(page.items[0]!.id);
    const shown = JSON.parse(expectSameAsZod(caseRecordSchema, record)) as { case: { openedAt: string }; tasks: { assignedAt: string }[] };
    expect(shown.case.openedAt).toMatch(/\+08:00$/);
    expect(shown.tasks[0]!.assignedAt).toMatch(/\+08:00$/);
  });

  it('answers GET /api/v1/cases through the compiled writer on every route, with the same fields', async () => {
    const logged: { msg: string; method?: string; url?: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const app = await buildApi({ db, client, taskQueue: 'unused', timeZone: zone, dataDir: '/tmp', logger, complaintsPerMinute: 10 });
    try {
      // Every route's serializer is compiled when the API is built; only the assessment rules
      // (whose schema fills in defaults) are still written by zod.
      const onZod = logged.filter((entry) => entry.msg.startsWith('response schema written through zod'));
      expect(new Set(onZod.map((entry) => entry.url))).toEqual(new Set(['/api/v1/assessment-rules']));
      const token = (await createTokenService({ db }).create({ role: 'office', name: 'tester' })).token;
      const response = await app.inject({ method: 'GET', url: '/api/v1/cases?limit=3&sort=-openedAt', headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(200);
      const body = response.json<{ items: Record<string, unknown>[]; nextCursor: string | null }>();
      expect(body.items).toHaveLength(3);
      expect(body.nextCursor).toEqual(expect.any(String));
      const stored = await db.selectFrom('cases').selectAll().orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(3).execute();
      expect(body.items.map((item) => item.id)).toEqual(stored.map((row) => row.id));
      const first = body.items[0]!;
      const row = stored[0]!;
      expect(first).toMatchObject({
        title: row.title,
        description: row.description,
        status: row.status,
        openedAt: presentInstants(instantSchema, row.opened_at, zone),
        openedBy: JSON.parse(row.opened_by) as unknown,
        location: { address: row.location_address, lat: row.location_lat, lng: row.location_lng },
        escalationLevel: row.escalation_level,
      });
      expect(first.openedAt).toMatch(/\+08:00$/);
    } finally {
      await app.close();
    }
  });
});
