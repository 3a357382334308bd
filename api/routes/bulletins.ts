import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bulletinAdditionSchema, bulletinRemovalSchema, periodSchema } from '../../domain/bulletin';
import { bulletinDocumentSchema, bulletinItemSchema } from '../../domain/bulletin.schema';
import { instantSchema } from '../../domain/time';
import { renderBulletinFeed } from '../../render/bulletin.atom';
import { renderBulletinHtml, renderBulletinIndexHtml } from '../../render/bulletin.html';
import { type BulletinLanguage, bulletinLanguages } from '../../render/text';
import {
  type BulletinService,
  type BulletinView,
  correctionInputSchema,
  discardInputSchema,
  type PublishedBulletin,
} from '../../services/bulletin.service';
import type { BulletinDraftInput, bulletinDraftWorkflow } from '../../workflows/bulletin.workflow';
import { actorOf, requireOffice } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import type { DraftBulletinResult } from '../../activities/bulletin.activities';

const bulletinIdParams = z.object({ id: z.string().regex(/^bl_[0-9a-f]{12}$/, '通报编号如 bl_0123456789ab / a bulletin id such as bl_0123456789ab') });

const decisionSchema = z
  .object({ action: z.enum(['remove', 'add']), itemId: z.string(), reason: z.string(), by: z.string(), at: instantSchema })
  .meta({ id: 'BulletinDecision' });

/** A bulletin as the office sees it: draft or published, with the proposals and its decisions. */
const bulletinRecordSchema = z
  .object({
    id: z.string(),
    status: z.enum(['draft', 'published', 'superseded', 'discarded']),
    origin: z.enum(['schedule', 'office', 'correction']),
    revision: z.number().int(),
    period: z.object({ from: z.iso.date(), to: z.iso.date() }),
    number: z.string().nullable(),
    version: z.number().int(),
    correctsId: z.string().nullable(),
    rulesVersion: z.number().int().nullable(),
    document: bulletinDocumentSchema,
    proposedItems: z.array(bulletinItemSchema).readonly(),
    decisions: z.array(decisionSchema).readonly(),
    createdBy: z.string(),
    createdAt: instantSchema,
    publishedBy: z.string().nullable(),
    publishedAt: instantSchema.nullable(),
  })
  .meta({ id: 'BulletinRecord' });

/** A published version as anyone reads it. */
const publishedBulletinSchema = z
  .object({
    id: z.string(),
    number: z.string(),
    version: z.number().int(),
    /** superseded: a correction replaced it (it stays readable). */
    status: z.enum(['published', 'superseded']),
    publishedAt: instantSchema,
    htmlUrl: z.string(),
    document: bulletinDocumentSchema,
  })
  .meta({ id: 'PublishedBulletin' });

const publishedSummarySchema = publishedBulletinSchema.omit({ document: true }).extend({
  title: z.string(),
  period: z.object({ from: z.iso.date(), to: z.iso.date() }),
});

const langQuery = z.object({ lang: z.enum(bulletinLanguages).default('zh-CN') }).strict();

/** A list page cursor: `<published instant>_<id>` of the last row. */
const cursorPattern = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_(bl_[0-9a-f]{12})$/;
const cursorSchema = z.string().regex(cursorPattern, '分页游标 / a page cursor from the previous page');
const decodeCursor = (cursor: string | undefined) => {
  const m = cursor ? cursorPattern.exec(cursor) : null;
  return m ? { key: m[1]!, id: m[2]! } : undefined;
};

export interface BulletinRouteDeps {
  readonly bulletins: BulletinService;
  readonly client: Client;
  readonly taskQueue: string;
  readonly timeZone: string;
  readonly officeName: string;
  readonly periodKind: 'week' | 'month';
  /** Where the public reaches the API, for absolute links in the feed; unset: the request's own. */
  readonly publicUrl?: string | undefined;
}

/**
 * Bulletins (定期通报): the office drafts, decides and approves (JSON under /api/v1); anyone reads
 * what is published, as JSON, as an HTML page (/bulletins) and as an Atom feed.
 */
export function bulletinRoutes(deps: BulletinRouteDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const base = (request: FastifyRequest) => deps.publicUrl ?? `${request.protocol}://${request.host}`;
    const htmlUrl = (request: FastifyRequest, id: string) => `${base(request)}/bulletins/${id}`;
    const published = (request: FastifyRequest, b: PublishedBulletin) => ({
      id: b.id,
      number: b.document.number ?? '',
      version: b.version,
      status: b.status,
      publishedAt: b.publishedAt,
      htmlUrl: htmlUrl(request, b.id),
      document: b.document,
    });
    const office = (request: FastifyRequest) => actorOf(requireOffice(request));
    // The feed's entry ids never follow the request's Host: the configured public address's host,
    // or a fixed name, so a subscriber sees each version once however it reaches the feed.
    const tagEntity = `${deps.publicUrl ? new URL(deps.publicUrl).hostname : 'duban.localhost'},2026`;
    // Published versions never change; their pages (two charts drawn on the server) are kept,
    // the newest few hundred, keyed by what they show: the version, the language, and how many
    // versions of their number there are (a correction adds a link).
    const pages = new Map<string, string>();
    const keep = (key: string, page: string) => {
      if (pages.size >= 300) pages.delete(pages.keys().next().value!);
      pages.set(key, page);
    };

    app.get(
      '/api/v1/bulletins',
      {
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'listBulletins',
          tags: ['bulletins'],
          summary: 'published bulletins, newest first (anyone)',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(50).default(20), cursor: cursorSchema.optional() }).strict(),
          response: { 200: z.object({ items: z.array(publishedSummarySchema), next: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { limit, cursor } = request.query;
        const rows = await deps.bulletins.listPublished(limit + 1, decodeCursor(cursor));
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return {
          items: page.map((b) => {
            const { document, ...rest } = published(request, b);
            return { ...rest, title: document.title, period: document.period };
          }),
          next: rows.length > limit && last ? `${last.publishedAt}_${last.id}` : null,
        };
      },
    );

    app.get(
      '/api/v1/bulletins/:id',
      {
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'getBulletin',
          tags: ['bulletins'],
          summary: 'a published bulletin version (anyone); a draft is not found',
          params: bulletinIdParams,
          response: { 200: publishedBulletinSchema },
        },
      },
      async (request) => published(request, await deps.bulletins.getPublished(request.params.id)),
    );

    app.get(
      '/api/v1/bulletins/drafts',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'listBulletinDrafts',
          tags: ['bulletins'],
          summary: 'bulletins waiting for the office’s decision (office), newest first',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }).strict(),
          response: { 200: z.array(bulletinRecordSchema) },
        },
      },
      async (request) => deps.bulletins.list({ statuses: ['draft'], limit: request.query.limit }),
    );

    app.get(
      '/api/v1/bulletins/:id/record',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'getBulletinRecord',
          tags: ['bulletins'],
          summary: 'a bulletin in any state with what the draft proposed and the office’s decisions (office)',
          params: bulletinIdParams,
          response: { 200: bulletinRecordSchema },
        },
      },
      async (request) => deps.bulletins.get(request.params.id),
    );

    app.post(
      '/api/v1/bulletins',
      {
        config: { access: 'office', answers: [422, 503] },
        schema: {
          operationId: 'draftBulletin',
          tags: ['bulletins'],
          summary: 'draft a bulletin now for a period (office); the office then decides and approves',
          headers: idempotencyHeaders,
          body: periodSchema,
          response: { 201: bulletinRecordSchema },
        },
      },
      async (request, reply) => {
        const actor = office(request);
        const input: BulletinDraftInput = { periodKind: deps.periodKind, period: request.body, origin: 'office', actor };
        const result: DraftBulletinResult = await deps.client.workflow.execute<typeof bulletinDraftWorkflow>('bulletinDraftWorkflow', {
          taskQueue: deps.taskQueue,
          workflowId: `duban-bulletin-office-${crypto.randomUUID()}`,
          args: [input],
        });
        const draft = await deps.bulletins.get(result.bulletinId);
        return reply.code(201).header('location', `/api/v1/bulletins/${draft.id}/record`).send(draft);
      },
    );

    const command = (
      path: string,
      operationId: string,
      summary: string,
      body: z.ZodType | undefined,
      run: (id: string, body: unknown, request: FastifyRequest) => Promise<BulletinView>,
      created = false,
    ) =>
      app.post(
        `/api/v1/bulletins/:id/${path}`,
        {
          config: { access: 'office', answers: [409, 422] },
          schema: {
            operationId,
            tags: ['bulletins'],
            summary,
            headers: idempotencyHeaders,
            params: bulletinIdParams,
            ...(body ? { body } : {}),
            response: { [created ? 201 : 200]: bulletinRecordSchema },
          },
        },
        async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
          const view = await run(request.params.id, request.body, request);
          return reply.code(created ? 201 : 200).send(view);
        },
      );

    command('items', 'addBulletinItem', 'add a case to a draft as 通报批评, 曝光 or a notable closure, with the reason (office)', bulletinAdditionSchema, (id, body, r) =>
      deps.bulletins.addItem(id, body, office(r)),
    );
    command('removals', 'removeBulletinItem', 'take an item out of a draft, with the reason (office)', bulletinRemovalSchema, (id, body, r) =>
      deps.bulletins.removeItem(id, body, office(r)),
    );
    command('approval', 'approveBulletin', 'approve a draft: it is published, numbered and never changes again (office)', undefined, (id, _b, r) =>
      deps.bulletins.approve(id, office(r)),
    );
    command('discard', 'discardBulletin', 'drop a draft that will not be published, with the reason (office)', discardInputSchema, (id, body, r) =>
      deps.bulletins.discard(id, body, office(r)),
    );
    command(
      'corrections',
      'correctBulletin',
      'open a correction of a published bulletin: a draft of its next version, with the reason (office)',
      correctionInputSchema,
      (id, body, r) => deps.bulletins.correct(id, body, office(r)),
      true,
    );

    /* Public pages */

    const html = { description: 'an HTML page', content: { 'text/html': { schema: z.string() } } };

    app.get(
      '/bulletins',
      {
        config: { publicLimit: 'reading' },
        schema: { operationId: 'bulletinIndexPage', tags: ['bulletins'], summary: 'the published bulletins as a page (anyone)', querystring: langQuery, response: { 200: html } },
      },
      async (request, reply) => {
        const lang: BulletinLanguage = request.query.lang;
        const list = await deps.bulletins.listPublished(100);
        const page = renderBulletinIndexHtml(
          list.filter((b) => b.status === 'published').map((b) => ({ document: b.document, url: `/bulletins/${b.id}${lang === 'en' ? '?lang=en' : ''}` })),
          { lang, zone: deps.timeZone, officeName: deps.officeName, feedUrl: '/bulletins/feed.atom' },
        );
        return reply.type('text/html; charset=utf-8').send(page);
      },
    );

    app.get(
      '/bulletins/feed.atom',
      {
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'bulletinFeed',
          tags: ['bulletins'],
          summary: 'the published bulletins as an Atom feed, one entry per version (anyone)',
          querystring: langQuery,
          response: { 200: { description: 'Atom 1.0', content: { 'application/atom+xml': { schema: z.string() } } } },
        },
      },
      async (request, reply) => {
        const root = base(request);
        const list = await deps.bulletins.listPublished(50);
        const feed = renderBulletinFeed(
          list.map((b) => ({ document: b.document, url: `${root}/bulletins/${b.id}` })),
          {
            lang: request.query.lang,
            zone: deps.timeZone,
            officeName: deps.officeName,
            selfUrl: `${root}/bulletins/feed.atom`,
            indexUrl: `${root}/bulletins`,
            tagEntity,
          },
        );
        return reply.type('application/atom+xml; charset=utf-8').send(feed);
      },
    );

    app.get(
      '/bulletins/:id',
      {
        config: { publicLimit: 'reading' },
        schema: {
          operationId: 'bulletinPage',
          tags: ['bulletins'],
          summary: 'a published bulletin as a print-friendly page (anyone)',
          params: bulletinIdParams,
          querystring: langQuery,
          response: { 200: html },
        },
      },
      async (request, reply) => {
        const lang: BulletinLanguage = request.query.lang;
        const b = await deps.bulletins.getPublished(request.params.id);
        const versions = await deps.bulletins.versions(b.year, b.sequence);
        const key = `${b.id}|${lang}|${versions.length}`;
        const page =
          pages.get(key) ??
          renderBulletinHtml(b.document, {
            lang,
            zone: deps.timeZone,
            officeName: deps.officeName,
            jsonUrl: `/api/v1/bulletins/${b.id}`,
            feedUrl: '/bulletins/feed.atom',
            indexUrl: '/bulletins',
            versions: versions.map((v) => ({
              version: v.version,
              publishedAt: v.publishedAt,
              correctionReason: v.document.correctionReason,
              url: `/bulletins/${v.id}`,
            })),
          });
        if (!pages.has(key)) keep(key, page);
        return reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=300').send(page);
      },
    );
  };
}
