import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DraftBulletinResult } from '../../activities/bulletin.activities';
import { periodSchema } from '../../domain/bulletin';
import { bulletinItemKinds } from '../../domain/bulletin.schema';
import { DomainError } from '../../domain/errors';
import { parseInput } from '../../domain/validation';
import type { BulletinView } from '../../services/bulletin.service';
import type { BulletinDraftInput, bulletinDraftWorkflow } from '../../workflows/bulletin.workflow';
import type { PageKit, WebDeps } from '../plugin';
import { pageContext, sendPage } from '../render';
import { actorOfUser, type WebUser } from '../session';
import { type FailedForm, formOf, notFoundPage, officeCommand, requireOffice } from '../staff';

/** What the office does on a bulletin from its page, and the fields of each form. */
const bulletinActions = {
  remove: ['itemId', 'reason'],
  add: ['kind', 'caseId', 'taskId', 'summary', 'reason'],
  approve: [],
  discard: ['reason'],
  correct: ['reason'],
} as const;
type BulletinAction = keyof typeof bulletinActions;
const isBulletinAction = (value: string): value is BulletinAction => Object.hasOwn(bulletinActions, value);

const bulletinIdPattern = /^bl_[0-9a-f]{12}$/;

/**
 * 定期通报: the office's drafts and their approval, through the bulletin service as the API's
 * /api/v1/bulletins routes do. "Draft now" runs the bulletinDraftWorkflow through the Temporal
 * client like POST /api/v1/bulletins (the period checked first, at its fields). A draft's page
 * shows its ranking and items; the office removes or adds items with a reason, approves
 * (publishes) or discards it; a published one may be corrected (a draft of its next version).
 */
export function bulletinRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const token = (user: WebUser) => () => deps.formTokens.issue(formOf(user));

    const showList = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, failed?: FailedForm, status = 200) => {
      const [drafts, published] = await Promise.all([
        deps.bulletins.list({ statuses: ['draft'], limit: 50 }),
        deps.bulletins.list({ statuses: ['published'], limit: 20 }),
      ]);
      return sendPage(reply, pageContext(kit.site, request), 'bulletins-office', { drafts, published, csrf: reply.generateCsrf(), token: token(user), failed }, status);
    };

    const find = async (id: string): Promise<BulletinView | undefined> => {
      if (!bulletinIdPattern.test(id)) return undefined;
      try {
        return await deps.bulletins.get(id);
      } catch (error) {
        if (error instanceof DomainError && error.code === 'not_found') return undefined;
        throw error;
      }
    };

    const showOne = async (request: FastifyRequest, reply: FastifyReply, user: WebUser, bulletin: BulletinView, failed?: FailedForm, status = 200) =>
      sendPage(
        reply,
        pageContext(kit.site, request),
        'bulletin-office',
        { bulletin, kinds: bulletinItemKinds, csrf: reply.generateCsrf(), token: token(user), failed },
        status,
      );

    app.get('/office/bulletins', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      return user ? showList(request, reply, user) : reply;
    });

    app.post('/office/bulletins', { schema: { hide: true } }, async (request, reply) =>
      officeCommand(kit, deps, request, reply, {
        formId: 'draft',
        known: ['from', 'to'],
        back: '/office/bulletins',
        act: async (form, user) => {
          const period = parseInput(periodSchema, { from: form.values.from ?? '', to: form.values.to ?? '' }, 'period');
          const input: BulletinDraftInput = { periodKind: deps.bulletinDrafts.periodKind, period, origin: 'office', actor: actorOfUser(user) };
          const result: DraftBulletinResult = await deps.bulletinDrafts.client.workflow.execute<typeof bulletinDraftWorkflow>('bulletinDraftWorkflow', {
            taskQueue: deps.bulletinDrafts.taskQueue,
            workflowId: `duban-bulletin-office-${crypto.randomUUID()}`,
            args: [input],
          });
          return `/office/bulletins/${result.bulletinId}`;
        },
        show: (user, failed, status) => showList(request, reply, user, failed, status),
      }),
    );

    app.get<{ Params: { id: string } }>('/office/bulletins/:id', { schema: { hide: true } }, async (request, reply) => {
      const user = await requireOffice(kit, deps, request, reply);
      if (!user) return reply;
      const bulletin = await find(request.params.id);
      return bulletin ? showOne(request, reply, user, bulletin) : notFoundPage(kit, request, reply);
    });

    app.post<{ Params: { id: string; action: string } }>('/office/bulletins/:id/:action', { schema: { hide: true } }, async (request, reply) => {
      const { id, action } = request.params;
      const bulletin = isBulletinAction(action) ? await find(id) : undefined;
      if (!bulletin || !isBulletinAction(action)) {
        const user = await requireOffice(kit, deps, request, reply);
        return user ? notFoundPage(kit, request, reply) : reply;
      }
      const page = `/office/bulletins/${id}`;
      const body = request.body as Record<string, unknown> | undefined;
      const itemId = typeof body?.itemId === 'string' ? body.itemId : '';
      return officeCommand(kit, deps, request, reply, {
        formId: action === 'remove' ? `remove-${itemId}` : action,
        known: bulletinActions[action],
        back: page,
        act: async (form, user) => {
          const v = form.values;
          const actor = actorOfUser(user);
          switch (action) {
            case 'remove':
              await deps.bulletins.removeItem(id, { itemId: v.itemId ?? '', reason: v.reason ?? '' }, actor);
              return page;
            case 'add':
              await deps.bulletins.addItem(
                id,
                { kind: v.kind ?? '', caseId: v.caseId?.trim().toUpperCase() ?? '', taskId: v.taskId?.trim() || null, summary: v.summary ?? '', reason: v.reason ?? '' },
                actor,
              );
              return page;
            case 'approve':
              await deps.bulletins.approve(id, actor);
              return page;
            case 'discard':
              await deps.bulletins.discard(id, { reason: v.reason ?? '' }, actor);
              return '/office/bulletins';
            case 'correct':
              return `/office/bulletins/${(await deps.bulletins.correct(id, { reason: v.reason ?? '' }, actor)).id}`;
          }
        },
        show: async (user, failed, status) => showOne(request, reply, user, (await find(id)) ?? bulletin, failed, status),
      });
    });
  };
}
