import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database';
import { calendarCoverage } from '../../services/calendar.service';

const status = z.enum(['ready', 'unavailable']);
const publicCheck = z.object({ ok: z.boolean() });
const officeCheck = z.object({ ok: z.boolean(), error: z.string().optional().describe('why the check failed') });

/** What anyone may see: whether the service is ready, and which check is not. */
const publicReadySchema = z
  .object({ status, checks: z.object({ database: publicCheck, temporal: publicCheck }) })
  .describe('without an office token');

/** What the office sees besides: the failures' messages and the holiday calendar's coverage. */
const officeReadySchema = z
  .object({
    status,
    checks: z.object({ database: officeCheck, temporal: officeCheck }),
    calendar: z
      .object({
        officialYears: z.array(z.number().int()).describe('years with an official holiday arrangement, built in or imported'),
        importedYears: z.array(z.number().int()).describe('years imported with `duban calendar import`'),
        warnings: z.array(z.string()).describe('this year or the next without official data: deadlines there count weekends only'),
      })
      .nullable()
      .describe('null while the database does not answer'),
  })
  .describe('with an office token');

// The office's shape first: serialisation takes the first that fits, and the public shape would
// fit an office answer too, silently dropping its detail.
const readySchema = z.union([officeReadySchema, publicReadySchema]);

type CheckResult = z.infer<typeof officeCheck>;

async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz: the process answers. /readyz: the database and Temporal answer too. Internal error
 * messages name files, addresses and versions: only the office sees them (and the calendar's
 * coverage); everyone else gets the booleans, and the messages go to the log.
 */
export function healthRoutes(deps: { db: Db; client: Client; timeZone?: string; now?: () => Date }) {
  const timeZone = deps.timeZone ?? 'Asia/Shanghai';
  const now = deps.now ?? (() => new Date());
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/healthz',
      { schema: { operationId: 'liveness', tags: ['health'], summary: 'liveness', response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          operationId: 'readiness',
          tags: ['health'],
          summary: 'readiness: database and Temporal reachable',
          description:
            'Everyone gets `status` and each check\'s `ok`. With an office token, also each failed check\'s `error` and `calendar`: the years with official holiday data and a warning when this year or the next has none.',
          response: { 200: readySchema, 503: readySchema },
        },
      },
      async (request, reply) => {
        const [database, temporal] = await Promise.all([
          check(() => sql`SELECT 1`.execute(deps.db), 2000),
          check(() => deps.client.workflowService.getSystemInfo({}), 2000),
        ]);
        for (const [name, result] of Object.entries({ database, temporal })) {
          if (!result.ok) request.log.warn({ check: name, error: result.error }, 'readiness check failed');
        }
        const ready = database.ok && temporal.ok;
        const code = ready ? 200 : 503;
        const statusText = ready ? ('ready' as const) : ('unavailable' as const);
        const principal = request.principal;
        if (principal.kind !== 'token' || principal.role !== 'office') {
          return reply.code(code).send({ status: statusText, checks: { database: { ok: database.ok }, temporal: { ok: temporal.ok } } });
        }
        const calendar = database.ok ? await calendarCoverage(deps.db, timeZone, now()).catch(() => null) : null;
        return reply.code(code).send({ status: statusText, checks: { database, temporal }, calendar });
      },
    );
  };
}
