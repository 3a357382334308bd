import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { caseIdSchema } from '../../domain/case-id';
import { noticeKinds } from '../../domain/notice';
import { instantSchema } from '../../domain/time';
import { deliveryStatuses, type NoticeService, webhookInputSchema } from '../../services/notice.service';
import { actorOf, requireOffice } from '../auth';
import { idempotencyHeaders } from '../idempotency';

const deliverySchema = z
  .object({
    id: z.string(),
    caseId: z.string().nullable(),
    taskId: z.string().nullable(),
    department: z.string().nullable(),
    kind: z.enum(noticeKinds),
    urgent: z.boolean(),
    channel: z.enum(['email', 'webhook']),
    recipient: z.string(),
    role: z.string().nullable(),
    address: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    nextAttemptAt: instantSchema.nullable(),
    sentAt: instantSchema.nullable(),
    createdAt: instantSchema,
  })
  .meta({ id: 'Delivery' });

const webhookSchema = z
  .object({ id: z.string(), name: z.string(), url: z.string(), department: z.string().nullable(), active: z.boolean(), createdAt: instantSchema })
  .meta({ id: 'WebhookSubscriber' });

const deliveryIdParams = z.object({ id: z.string().regex(/^dl_[A-Za-z0-9_-]{16}$/) });
const webhookIdParams = z.object({ id: z.string().regex(/^wh_[A-Za-z0-9_-]{8}$/) });

/** Notices as the office follows them: deliveries (failed ones to retry), and webhook subscribers. */
export function notificationRoutes(deps: { notices: NoticeService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/notifications',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'listDeliveries',
          tags: ['notifications'],
          summary: 'deliveries of notices, newest first (office): who was told what, how, and whether it arrived',
          querystring: z
            .object({
              status: z.enum(deliveryStatuses).optional(),
              caseId: caseIdSchema.optional(),
              limit: z.coerce.number().int().min(1).max(500).default(100),
            })
            .strict(),
          response: { 200: z.array(deliverySchema) },
        },
      },
      async (request) => {
        const { status, caseId, limit } = request.query;
        return deps.notices.listDeliveries({ limit, ...(status ? { status } : {}), ...(caseId ? { caseId } : {}) });
      },
    );
    app.post(
      '/api/v1/notifications/:id/retry',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'retryDelivery',
          tags: ['notifications'],
          summary: 'send a failed delivery again (office)',
          headers: idempotencyHeaders,
          params: deliveryIdParams,
          response: { 202: z.object({ id: z.string(), status: z.literal('pending') }) },
        },
      },
      async (request, reply) => {
        await deps.notices.retry(request.params.id, actorOf(requireOffice(request)));
        return reply.code(202).send({ id: request.params.id, status: 'pending' as const });
      },
    );
    app.get(
      '/api/v1/webhooks',
      {
        config: { access: 'office' },
        schema: { operationId: 'listWebhooks', tags: ['notifications'], summary: 'webhook subscribers (office)', response: { 200: z.array(webhookSchema) } },
      },
      async () => deps.notices.listWebhooks(),
    );
    app.post(
      '/api/v1/webhooks',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'addWebhook',
          tags: ['notifications'],
          summary: 'add a system that receives notices as signed webhooks (office); answers its signing secret',
          description:
            'Takes no Idempotency-Key: the answer holds the signing secret, which is never stored. Adding the same URL for the same notices again is refused (409), so a retried request cannot subscribe twice.',
          body: webhookInputSchema,
          response: { 201: webhookSchema.omit({ active: true, createdAt: true }).extend({ secret: z.string() }) },
        },
      },
      async (request, reply) => reply.code(201).send(await deps.notices.addWebhook(request.body)),
    );
    app.post(
      '/api/v1/webhooks/:id/deactivate',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'deactivateWebhook',
          tags: ['notifications'],
          summary: 'stop sending to a webhook subscriber (office)',
          headers: idempotencyHeaders,
          params: webhookIdParams,
          response: { 200: z.object({ id: z.string(), active: z.literal(false) }) },
        },
      },
      async (request) => {
        await deps.notices.removeWebhook(request.params.id);
        return { id: request.params.id, active: false as const };
      },
    );
  };
}
