import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatInstant, instantSchema, presentInstants } from '../../domain/time';

const zone = 'Asia/Shanghai';

describe('instants shown in the office zone, by declaration only', () => {
  const schema = z.object({
    at: instantSchema,
    due: instantSchema.nullable().optional(),
    note: z.string(),
    tags: z.array(z.string()),
    history: z.array(z.object({ when: instantSchema, what: z.string() })),
    byKey: z.record(z.string(), instantSchema),
    event: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('moved'), to: instantSchema }),
      z.object({ kind: z.literal('noted'), text: z.string() }),
    ]),
  });

  it('formats exactly the declared instants, at any depth, and leaves text that looks like one alone', () => {
    const value = {
      at: '2026-11-25T04:00:00.000Z',
      due: null,
      note: '2026-01-01T00:00:00Z',
      tags: ['2026-01-01T00:00:00Z'],
      history: [{ when: '2026-11-25T16:30:00.000Z', what: '2026-02-01T00:00:00Z' }],
      byKey: { a: '2026-11-25T04:00:00.000Z' },
      event: { kind: 'moved', to: '2026-12-31T15:59:59.999Z' },
    } as const;
    expect(presentInstants(schema, value, zone)).toEqual({
      at: '2026-11-25T12:00:00.000+08:00',
      due: null,
      note: '2026-01-01T00:00:00Z',
      tags: ['2026-01-01T00:00:00Z'],
      history: [{ when: '2026-11-26T00:30:00.000+08:00', what: '2026-02-01T00:00:00Z' }],
      byKey: { a: '2026-11-25T12:00:00.000+08:00' },
      event: { kind: 'moved', to: '2026-12-31T23:59:59.999+08:00' },
    });
    // The discriminated option decides: text under another kind stays text.
    expect(presentInstants(schema, { ...value, event: { kind: 'noted', text: '2026-12-31T15:59:59.999Z' } }, zone).event).toEqual({
      kind: 'noted',
      text: '2026-12-31T15:59:59.999Z',
    });
  });

  it('never throws on stored data that is not an instant, and leaves parts without instants as they are', () => {
    expect(formatInstant('2026-13-01T00:00:00Z', zone)).toBe('2026-13-01T00:00:00Z');
    const tags = ['x'];
    const shown = presentInstants(schema, { at: 'not a time', note: 'n', tags, history: [], byKey: {}, event: { kind: 'noted', text: 't' } }, zone);
    expect(shown.at).toBe('not a time');
    // Nothing to format in it: the same array, not a copy.
    expect(shown.tags).toBe(tags);
  });

  it('follows the zone’s own offset, daylight saving included', () => {
    expect(presentInstants(instantSchema, '2026-07-01T12:00:00.000Z', 'Europe/Berlin')).toBe('2026-07-01T14:00:00.000+02:00');
    expect(presentInstants(instantSchema, '2026-01-01T12:00:00.000Z', 'Europe/Berlin')).toBe('2026-01-01T13:00:00.000+01:00');
  });
});
