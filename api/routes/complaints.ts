import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { complaintConversionSchema, complaintDismissalSchema, complaintInputSchema } from '../../domain/complaint.schema';
import type { ComplaintService } from '../../services/complaint.service';
import { actorOf, requireOffice } from '../auth';
import { errorResponses } from '../errors';
import { idempotencyHeaders } from '../idempotency';
import { officeComplaintSchema, publicComplaintSchema } from '../schemas';

const trackingCodeParams = z.object({ trackingCode: z.string().max(32) });

/** The per-client limit on filing complaints, applied by @fastify/rate-limit. */
export interface ComplaintRateLimit {
  readonly max: number;
  readonly timeWindow: string;
}

/**
 * Complaints (投诉/举报): the public files them and follows them by tracking code; the office
 * triages them into cases or dismisses them.
 */
export function complaintRoutes(deps: { complaints: ComplaintService; rateLimit: ComplaintRateLimit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/api/v1/complaints',
      {
        config: { rateLimit: deps.rateLimit },
        schema: {
          tags: ['complaints'],
          headers: idempotencyHeaders,
          summary: '投诉/举报: file a complaint (public; rate limited per client)',
          body: complaintInputSchema,
          response: { 201: publicComplaintSchema, ...errorResponses(400, 401, 422, 429) },
        },
      },
      async (request, reply) => {
        const filed = await deps.complaints.file(request.body, 'web');
        return reply.code(201).header('location', `/api/v1/complaints/${filed.trackingCode}`).send(filed);
      },
    );
    app.get(
      '/api/v1/complaints/:trackingCode',
      {
        schema: {
          tags: ['complaints'],
          summary: 'where a complaint stands, by its tracking code (public; no personal data)',
          params: trackingCodeParams,
          response: { 200: publicComplaintSchema, ...errorResponses(401, 404) },
        },
      },
      async (request) => deps.complaints.publicView(request.params.trackingCode),
    );
    app.get(
      '/api/v1/complaints',
      {
        schema: {
          tags: ['complaints'],
          summary: 'complaints to triage, newest first (office)',
          security: [{ bearer: [] }],
          querystring: z
            .object({
              status: z.enum(['received', 'converted', 'dismissed']).optional(),
              trackingCode: z.string().max(32).optional(),
              limit: z.coerce.number().int().min(1).max(200).default(50),
              before: z.coerce.number().int().min(1).optional().describe('page on: the id after the last of the previous page'),
            })
            .strict(),
          response: { 200: z.array(officeComplaintSchema), ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => {
        requireOffice(request);
        const { status, trackingCode, limit, before } = request.query;
        return deps.complaints.list({ status, limit, before, codes: trackingCode ? [trackingCode] : undefined }, 'office') as Promise<
          z.infer<typeof officeComplaintSchema>[]
        >;
      },
    );
    app.post(
      '/api/v1/complaints/:trackingCode/convert',
      {
        schema: {
          tags: ['complaints'],
          summary: '受理: open a case from the complaint (office); retried, it opens one case',
          security: [{ bearer: [] }],
          headers: idempotencyHeaders,
          params: trackingCodeParams,
          body: complaintConversionSchema,
          response: { 200: officeComplaintSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (request) =>
        deps.complaints.convert(request.params.trackingCode, request.body, actorOf(requireOffice(request))),
    );
    app.post(
      '/api/v1/complaints/:trackingCode/dismiss',
      {
        schema: {
          tags: ['complaints'],
          summary: '不予受理: dismiss the complaint with a reason the public sees (office)',
          security: [{ bearer: [] }],
          headers: idempotencyHeaders,
          params: trackingCodeParams,
          body: complaintDismissalSchema,
          response: { 200: officeComplaintSchema, ...errorResponses(400, 401, 403, 404, 409, 422) },
        },
      },
      async (request) => {
        requireOffice(request);
        return deps.complaints.dismiss(request.params.trackingCode, request.body);
      },
    );
  };
}
