import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../../db/database';

const checkSchema = z.object({ ok: z.boolean(), error: z.string().optional() });
const readySchema = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.object({ database: checkSchema, temporal: checkSchema }) });

async function check(probe: () => Promise<unknown>, timeoutMs: number): Promise<z.infer<typeof checkSchema>> {
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

/** /healthz: the process answers. /readyz: the database and Temporal answer too. */
export function healthRoutes(deps: { db: Db; client: Client }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/healthz',
      { schema: { tags: ['health'], summary: 'liveness', response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      { schema: { tags: ['health'], summary: 'readiness: database and Temporal reachable', response: { 200: readySchema, 503: readySchema } } },
      async (_request, reply) => {
        const [database, temporal] = await Promise.all([
          check(() => sql`SELECT 1`.execute(deps.db), 2000),
          check(() => deps.client.workflowService.getSystemInfo({}), 2000),
        ]);
        const ready = database.ok && temporal.ok;
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: { database, temporal } });
      },
    );
  };
}
