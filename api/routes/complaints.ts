import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { complaintConversionSchema, complaintDismissalSchema, complaintInputSchema } from '../../domain/complaint.schema';
import { rateInputSchema } from '../../domain/follow-up';
import type { EvidenceService } from '../../services/evidence.service';
import { answerPhotoName, type ComplaintService, trackingCodePattern } from '../../services/complaint.service';
import { actorOf, requireOffice } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import { sendStoredFile, storedFileContent } from './evidence';
import { officeComplaintSchema, publicComplaintSchema } from '../schemas';

export const trackingCodeSchema = z.string().regex(trackingCodePattern).describe('tracking code, e.g. TS-7K3MQ-9Q2PX');
const trackingCodeParams = z.object({ trackingCode: trackingCodeSchema });

/**
 * Complaints (投诉/举报): the public files them and follows them by tracking code; the office
 * triages them into cases or dismisses them.
 */
export function complaintRoutes(deps: { complaints: ComplaintService; evidence: EvidenceService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/api/v1/complaints',
      {
        config: { publicLimit: 'filing' },
        schema: {
          operationId: 'fileComplaint',
          tags: ['complaints'],
          summary: '投诉/举报: file a complaint (public; rate limited per client)',
          body: complaintInputSchema,
          response: { 201: publicComplaintSchema },
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
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'trackComplaint',
          tags: ['complaints'],
          summary: 'where a complaint stands, by its tracking code (public; no personal data)',
          params: trackingCodeParams,
          response: { 200: publicComplaintSchema },
        },
      },
      async (request) => deps.complaints.publicView(request.params.trackingCode),
    );
    app.post(
      '/api/v1/complaints/:trackingCode/rating',
      {
        // The filing budget: rating is writing, and the tracking code is the only credential.
        config: { publicLimit: 'filing', answers: [409, 503] },
        schema: {
          operationId: 'rateComplaint',
          tags: ['complaints'],
          summary: '回访: rate the answer to the complaint, once, within its window (public; the tracking code is the credential)',
          params: trackingCodeParams,
          body: rateInputSchema,
          response: { 200: publicComplaintSchema },
        },
      },
      async (request) => deps.complaints.rate(request.params.trackingCode, request.body),
    );
    app.get(
      '/api/v1/complaints/:trackingCode/photos/:sha256',
      {
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'downloadAnswerPhoto',
          tags: ['complaints'],
          summary: 'an after-photo the answer to the complaint shows (public; only the files that answer chose)',
          params: trackingCodeParams.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
          response: {
            200: {
              description: 'the photo, in the media type sniffed at upload',
              content: storedFileContent,
            },
          },
        },
      },
      async (request, reply) => {
        const shown = await deps.complaints.answerPhotos(request.params.trackingCode);
        const { file, bytes } = await deps.evidence.downloadShown(request.params.sha256, shown);
        return sendStoredFile(reply, file, bytes, {
          disposition: `inline; filename="${answerPhotoName(shown.indexOf(file.sha256), file.mediaType)}"`,
          cacheControl: 'private, max-age=3600',
        });
      },
    );
    app.get(
      '/api/v1/complaints',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'listComplaints',
          tags: ['complaints'],
          summary: 'complaints to triage, newest first (office)',
          querystring: z
            .object({
              status: z.enum(['received', 'converted', 'dismissed']).optional(),
              trackingCode: trackingCodeSchema.optional(),
              limit: z.coerce.number().int().min(1).max(200).default(50),
              before: z.coerce.number().int().min(1).optional().describe('page on: the id after the last of the previous page'),
            })
            .strict(),
          response: { 200: z.array(officeComplaintSchema) },
        },
      },
      async (request) => {
        const { status, trackingCode, limit, before } = request.query;
        return deps.complaints.listForOffice({
          limit,
          ...(status ? { states: [status] } : {}),
          ...(before !== undefined ? { before } : {}),
          ...(trackingCode ? { codes: [trackingCode] } : {}),
        });
      },
    );
    app.post(
      '/api/v1/complaints/:trackingCode/convert',
      {
        config: { access: 'office', answers: [409, 422, 503] },
        schema: {
          operationId: 'convertComplaint',
          tags: ['complaints'],
          summary: '受理: open a case from the complaint (office); retried, it opens one case',
          headers: idempotencyHeaders,
          params: trackingCodeParams,
          body: complaintConversionSchema,
          response: { 200: officeComplaintSchema },
        },
      },
      async (request) => deps.complaints.convert(request.params.trackingCode, request.body, actorOf(requireOffice(request))),
    );
    app.post(
      '/api/v1/complaints/:trackingCode/dismiss',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'dismissComplaint',
          tags: ['complaints'],
          summary: '不予受理: dismiss the complaint with a reason the public sees (office)',
          headers: idempotencyHeaders,
          params: trackingCodeParams,
          body: complaintDismissalSchema,
          response: { 200: officeComplaintSchema },
        },
      },
      async (request) => deps.complaints.dismiss(request.params.trackingCode, request.body),
    );
  };
}
