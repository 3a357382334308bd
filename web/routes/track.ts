import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../domain/errors';
import { ratings } from '../../domain/follow-up';
import { type PublicAnswer, type PublicComplaint, trackingCodePattern } from '../../services/complaint.service';
import { inLanguage } from '../i18n';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';

type TrackedComplaint = PublicComplaint & { answer: PublicAnswer | null };

/** The steps a complaint went through, oldest first, each with its instant. */
export function progressSteps(view: TrackedComplaint): { key: string; at: string }[] {
  const steps = [{ key: 'received', at: view.receivedAt }];
  if (view.case) steps.push({ key: 'accepted', at: view.case.openedAt });
  if (view.case?.closedAt) steps.push({ key: 'closed', at: view.case.closedAt });
  if (view.answer) steps.push({ key: 'answered', at: view.answer.answeredAt });
  if (view.answer?.rating) steps.push({ key: 'rated', at: view.answer.rating.at });
  return steps;
}

/** A tracking code as people type it: spaces dropped, upper case. */
const normalisedCode = (value: string) => value.replace(/\s+/g, '').toUpperCase();

/**
 * The tracking page: where a complaint stands by its code (the same view as GET
 * /api/v1/complaints/{code}), the office's answer with its after-photos, and the rating form
 * while the follow-up awaits it (the same service as POST /api/v1/complaints/{code}/rating).
 */
export function trackRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const showTrack = (
      request: FastifyRequest,
      reply: FastifyReply,
      view: TrackedComplaint,
      state: { values?: Record<string, string>; errors?: Record<string, string>; status?: number } = {},
    ) =>
      sendPage(
        reply,
        pageContext(kit.site, request),
        'track',
        {
          view,
          steps: progressSteps(view),
          canRate: view.answer?.followUpStatus === 'awaiting_rating' && !view.answer.rating,
          ratings,
          csrf: reply.generateCsrf(),
          values: state.values ?? {},
          errors: state.errors ?? {},
        },
        state.status,
      );
    const showLookup = (request: FastifyRequest, reply: FastifyReply, code: string, error: string | undefined, status = 200) =>
      sendPage(reply, pageContext(kit.site, request), 'track-form', { code, error }, status);

    app.get<{ Querystring: { code?: string } }>('/track', { schema: { hide: true } }, async (request, reply) => {
      const given = request.query.code;
      if (given === undefined) return showLookup(request, reply, '', undefined);
      const code = normalisedCode(given);
      if (!trackingCodePattern.test(code)) return showLookup(request, reply, given, pageContext(kit.site, request).t('track.badCode'), 400);
      return reply.redirect(`/track/${code}`, 303);
    });

    app.get<{ Params: { code: string } }>('/track/:code', { schema: { hide: true }, config: { publicLimit: 'reading' } }, async (request, reply) => {
      const code = request.params.code;
      try {
        return showTrack(request, reply, await deps.complaints.publicView(code));
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') {
          return showLookup(request, reply, code, pageContext(kit.site, request).t('track.notFound'), 404);
        }
        throw error;
      }
    });

    app.post<{ Params: { code: string } }>(
      '/track/:code/rating',
      // The filing budget, as the API's rating: the tracking code is the only credential.
      { schema: { hide: true }, config: { publicLimit: 'filing' } },
      async (request, reply) => {
        const context = pageContext(kit.site, request);
        const code = request.params.code;
        if (!(await kit.csrfValid(request))) {
          return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: `/track/${code}` }, 403);
        }
        const body = (request.body ?? {}) as Record<string, unknown>;
        const values = {
          rating: typeof body.rating === 'string' ? body.rating : '',
          reason: typeof body.reason === 'string' ? body.reason : '',
        };
        const reason = values.reason.trim();
        try {
          await deps.complaints.rate(code, { rating: values.rating, ...(reason ? { reason } : {}) });
          return reply.redirect(`/track/${code}#answer`, 303);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (error.code === 'not_found') return showLookup(request, reply, code, context.t('track.notFound'), 404);
          const errors: Record<string, string> = {};
          for (const issue of error.details) {
            const field = issue.path === 'reason' ? 'reason' : issue.path === 'rating' || issue.path === '' ? 'rating' : 'form';
            errors[field] ??= inLanguage(issue.message, context.lang);
          }
          if (Object.keys(errors).length === 0) errors.form = inLanguage(error.message, context.lang);
          const view = await deps.complaints.publicView(code);
          return showTrack(request, reply, view, { values, errors, status: error.code === 'invalid_input' ? 422 : 409 });
        }
      },
    );
  };
}
