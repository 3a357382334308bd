import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { DateTime } from 'luxon';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../api/server';
import { coverageWarnings } from '../domain/calendar-coverage';
import type { Db } from '../db/database';
import { createCalendarService } from '../services/calendar.service';
import { createTokenService } from '../services/token.service';
import { type ApiStack, startApiStack } from './support/api';
import { tempDatabase } from './support/database';
import { freePort } from './support/processes';

const builtInYears = Array.from({ length: 23 }, (_, i) => 2004 + i);

describe('/readyz when everything answers', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack();
  });
  afterAll(() => api?.close());

  it('tells the public and departments only whether each check passed', async () => {
    for (const token of [undefined, api.tokens.CG]) {
      const response = await api.call('GET', '/readyz', { token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } });
    }
  });

  it('shows the office the calendar’s coverage, with a warning while this year or the next lacks official data', async () => {
    const currentYear = DateTime.now().setZone('Asia/Shanghai').year;
    const before = await api.call('GET', '/readyz', { token: api.tokens.office });
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, temporal: { ok: true } },
      calendar: { officialYears: builtInYears, importedYears: [], warnings: coverageWarnings(builtInYears, currentYear) },
    });

    const calendar = createCalendarService({ db: api.db, timeZone: 'Asia/Shanghai' });
    for (const year of [currentYear, currentYear + 1]) {
      await calendar.importYear({ year, holidays: [{ name: '元旦', dates: [`${year}-01-01`] }] }, 'tester', new Date().toISOString());
    }
    const after = await api.call('GET', '/readyz', { token: api.tokens.office });
    expect(after.body.calendar.warnings).toEqual([]);
    expect(after.body.calendar.importedYears).toEqual([currentYear, currentYear + 1]);
  });

  it('documents both shapes in the OpenAPI document', async () => {
    const document = (await api.call('GET', '/openapi.json')).body;
    const schema = document.paths['/readyz'].get.responses['200'].content['application/json'].schema;
    const shapes = (schema.anyOf ?? schema.oneOf) as { properties: Record<string, unknown> }[];
    expect(shapes.map((s) => Object.keys(s.properties).sort())).toEqual([
      ['calendar', 'checks', 'status'],
      ['checks', 'status'],
    ]);
  });
});

describe('/readyz when Temporal does not answer', () => {
  let db: Db;
  let dir: string;
  let app: FastifyInstance;
  let connection: Connection;
  let office: string;
  let address: string;

  beforeAll(async () => {
    ({ db, dir } = await tempDatabase());
    // Nothing listens there: the Temporal check fails with an internal message (an address).
    address = `127.0.0.1:${await freePort()}`;
    connection = Connection.lazy({ address, connectTimeout: 500 });
    app = await buildApi({
      db,
      client: new Client({ connection }),
      taskQueue: 'readyz',
      timeZone: 'Asia/Shanghai',
      dataDir: dir,
      logger: pino({ level: 'silent' }),
      complaintsPerMinute: 10,
    });
    office = (await createTokenService({ db }).create({ role: 'office', name: 'office' })).token;
  });
  afterAll(async () => {
    await app?.close();
    await connection?.close().catch(() => undefined);
    await db?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 to the public with booleans only, and tells the office why', async () => {
    const open = await app.inject({ method: 'GET', url: '/readyz' });
    expect(open.statusCode).toBe(503);
    expect(open.json()).toEqual({ status: 'unavailable', checks: { database: { ok: true }, temporal: { ok: false } } });

    const detailed = await app.inject({ method: 'GET', url: '/readyz', headers: { authorization: `Bearer ${office}` } });
    expect(detailed.statusCode).toBe(503);
    const body = detailed.json<{ checks: { temporal: { ok: boolean; error: string } }; calendar: { officialYears: number[] } }>();
    expect(body.checks.temporal.ok).toBe(false);
    expect(body.checks.temporal.error.length).toBeGreaterThan(0);
    expect(body.calendar.officialYears).toEqual(builtInYears);
  });
});
