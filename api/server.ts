import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config/config';
import type { Db } from '../db/database';
import { createCaseService } from '../services/case.service';
import { createComplaintService } from '../services/complaint.service';
import { createDepartmentService } from '../services/department.service';
import { createEvidenceService } from '../services/evidence.service';
import { createNoticeService } from '../services/notice.service';
import { noticeWaker } from '../services/notice.wake';
import { loadSecretKey } from '../services/secret-key';
import { createPeopleService } from '../services/people.service';
import { createCalendarSource } from '../services/calendar.source';
import { createIndicatorService } from '../services/indicator.service';
import { createScorecardService } from '../services/scorecard.service';
import { createBulletinService } from '../services/bulletin.service';
import { createEscalationService } from '../services/escalation.service';
import { DirectoryEvidenceStore, maxEvidenceBytes } from '../services/evidence.store';
import { createTokenService } from '../services/token.service';
import { createFormTokenService } from '../services/form-token.service';
import { createWorkbenchService } from '../services/workbench.service';
import { webPages } from '../web/plugin';
import { createSessions } from '../web/session';
import { installAuthentication } from './auth';
import { installContract } from './contract';
import { errorResponse, frameworkErrorBody, installErrorHandling, pathOf } from './errors';
import { installIdempotency } from './idempotency';
import { caseRoutes } from './routes/cases';
import { installPublicLimits, type PublicLimits } from './rate-limits';
import { complaintRoutes } from './routes/complaints';
import { departmentRoutes } from './routes/departments';
import { evidenceRoutes, fileViewerOf, maxFilesPerUpload } from './routes/evidence';
import { healthRoutes } from './routes/health';
import { notificationRoutes } from './routes/notifications';
import { open311ErrorResponse, open311Routes, sendOpen311Error } from './routes/open311';
import { peopleRoutes } from './routes/people';
import { scorecardRoutes } from './routes/scorecards';
import { bulletinRoutes } from './routes/bulletins';
import { escalationRoutes } from './routes/escalations';
import { completeDocument } from './openapi';
import { zonedSerializerCompiler } from './serializer';

export interface ApiOptions {
  readonly db: Db;
  readonly client: Client;
  readonly taskQueue: string;
  readonly timeZone: string;
  readonly dataDir: string;
  readonly logger: FastifyBaseLogger;
  /** Complaints one client may file per rate window. */
  readonly complaintsPerMinute: number;
  /** Public reads (tracking, Open311 lists) one client may make per rate window. Default 120. */
  readonly publicReadsPerMinute?: number;
  /** The rate limits' window in milliseconds. Default one minute. */
  readonly rateWindowMs?: number;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses, CIDRs, or loopback / linklocal /
   * uniquelocal); without them, the client is the connection's peer.
   */
  readonly trustedProxies?: readonly string[];
  /** How long an Idempotency-Key and its response are kept. Default 24 hours. */
  readonly idempotencyRetentionMs?: number;
  /** Bytes one token may upload per rolling 24 hours. Default 500 MiB. */
  readonly uploadQuotaBytes?: number;
  /** How long an upload no case refers to is kept. Default 72 hours. */
  readonly evidenceGraceMs?: number;
  /** Where the public reaches this API (e.g. https://duban.example.gov.cn), for the links it gives out. */
  readonly publicUrl?: string | undefined;
  /** The installation's secret key (webhook signing); default: DUBAN_SECRET_KEY's file in the data directory. */
  readonly secretKey?: string | undefined;
  /** The office's name at the top of its public pages. */
  readonly officeName?: string;
  /** The period a drafted bulletin covers by default. */
  readonly bulletinPeriod?: 'week' | 'month';
  /** The largest JSON body accepted, in bytes. */
  readonly bodyLimit?: number;
  /** The working calendar's overrides file (as the worker reads it), for the indicators' working days. */
  readonly calendarFile?: string | undefined;
  /** Where evidence is stored (a directory every API process shares); default: `evidence` in the data directory. */
  readonly evidenceDir?: string | undefined;
  /** Told of every response (operations metrics): method, route pattern, status and seconds taken. */
  readonly onResponse?: ((sample: ResponseSample) => void) | undefined;
  /**
   * Whether this API removes the uploads no case refers to (hourly). Default true; of several API
   * processes, one does it.
   */
  readonly collectEvidence?: boolean;
  /**
   * How many processes share the public's rate limits (default 1): each counts on its own and
   * allows its share, so that no client exceeds a limit in all of them together.
   */
  readonly limitShares?: number;
}

/** One answered request, as the metrics count it. */
export interface ResponseSample {
  readonly method: string;
  /** The route's pattern (`/cases/:id`), or null for a request no route matched. */
  readonly route: string | null;
  readonly status: number;
  readonly seconds: number;
}

const hour = 3_600_000;

/** The API's limits and retention as configured. */
export function apiLimits(config: Readonly<Config>) {
  return {
    complaintsPerMinute: config.complaintsPerMinute,
    publicReadsPerMinute: config.publicReadsPerMinute,
    trustedProxies: config.trustedProxies,
    idempotencyRetentionMs: config.idempotencyRetentionHours * hour,
    uploadQuotaBytes: config.uploadQuotaMb * 1024 * 1024,
    evidenceGraceMs: config.evidenceGraceHours * hour,
    publicUrl: config.publicUrl,
    secretKey: config.secretKey,
    calendarFile: config.calendarFile,
  } satisfies Partial<ApiOptions>;
}

/**
 * The HTTP API: REST with JSON under /api/v1, Open311 GeoReport v2 under /open311, the OpenAPI 3.1
 * document at /openapi.json and readable docs at /docs, health at /healthz and /readyz. Requests
 * and responses are validated by the same zod schemas the document shows, and every route answers
 * only the statuses the document lists.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const trusted = options.trustedProxies ?? [];
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'api' }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Only the proxies named are believed about who the client is; nobody else can pretend.
    trustProxy: trusted.length > 0 ? [...trusted] : false,
    // Path parameters longer than any id are refused by their schemas (400), not by the router.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors: (error, request, reply) => {
      const body = frameworkErrorBody(error);
      if (pathOf(request.url).startsWith('/open311/')) {
        void sendOpen311Error(request, reply, 400, body.error.message);
        return;
      }
      void (reply as FastifyReply).code(400).type('application/json; charset=utf-8').send(JSON.stringify(body));
    },
  });
  // JSON (and, for Open311 and uploads, forms and multipart) only: anything else is a 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  const { onResponse } = options;
  if (onResponse) {
    app.addHook('onResponse', async (request, reply) => {
      onResponse({ method: request.method, route: request.routeOptions.url ?? null, status: reply.statusCode, seconds: reply.elapsedTime / 1000 });
    });
  }
  app.setSerializerCompiler(
    zonedSerializerCompiler(options.timeZone, (route) =>
      app.log.debug({ method: route.method, url: route.url }, 'response schema written through zod (a kind the compiled writer does not know)'),
    ),
  );

  const tokens = createTokenService({ db: options.db });
  const cases = createCaseService({ client: options.client, db: options.db, taskQueue: options.taskQueue, timeZone: options.timeZone });
  const complaints = createComplaintService({ db: options.db, cases });
  const departments = createDepartmentService({ db: options.db });
  const wakeNotices = noticeWaker(options.client, options.taskQueue);
  // A person added or given a role may be the one a notice missed: the dispatcher looks again.
  const people = createPeopleService({ db: options.db, onDirectoryChange: wakeNotices });
  const evidence = createEvidenceService({
    db: options.db,
    store: options.evidenceDir ? new DirectoryEvidenceStore(options.evidenceDir) : DirectoryEvidenceStore.inDataDir(options.dataDir),
    quotaBytes: options.uploadQuotaBytes ?? 500 * 1024 * 1024,
    graceMs: options.evidenceGraceMs ?? 72 * hour,
  });
  let secretKey: string | undefined;
  const installationKey = () => (secretKey ??= loadSecretKey({ configured: options.secretKey, dataDir: options.dataDir }));
  const notices = createNoticeService({
    db: options.db,
    secretKey: installationKey,
    wake: wakeNotices,
  });
  const indicators = createIndicatorService({
    db: options.db,
    calendar: createCalendarSource({ db: options.db, timeZone: options.timeZone, overridesFile: options.calendarFile, logger: options.logger }),
  });
  const bulletins = createBulletinService({ db: options.db, zone: options.timeZone, indicators });
  const scorecards = createScorecardService({ db: options.db, indicators, rules: bulletins.listRules });
  const escalations = createEscalationService({ db: options.db, zone: options.timeZone });
  const window = options.rateWindowMs ?? 60_000;
  const share = (max: number) => Math.max(1, Math.floor(max / (options.limitShares ?? 1)));
  const limits: PublicLimits = {
    filing: { max: share(options.complaintsPerMinute), timeWindow: window },
    reading: { max: share(options.publicReadsPerMinute ?? 120), timeWindow: window },
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'duban 督办 API',
        version: '1',
        description:
          '督办: supervision and rectification cases. Office and department tokens act on cases and tasks; ' +
          'the public files complaints (also through Open311 GeoReport v2). Errors: ' +
          '{"error": {"code", "message", "details": [{"path", "message"}]}}. Times are ISO 8601 with zone offset. ' +
          'Every POST of a token holder accepts an Idempotency-Key header.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    // Schemas with an id (Error, Case, Task, …) become components that the operations refer to.
    transformObject: (document) => completeDocument(jsonSchemaTransformObject(document)),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: maxEvidenceBytes, files: maxFilesPerUpload, fields: 10, parts: maxFilesPerUpload + 10 },
    throwFileSizeLimit: true,
  });
  // The public's limits count across routes (see api/rate-limits.ts); they answer in each route's format.
  await app.register(rateLimit, { global: false });
  installPublicLimits(app, limits);
  installAuthentication(app, tokens);
  // After authentication: who may call a route is checked before its input is read.
  const contract = installContract(app, {
    errorResponse: (url, _status, description) =>
      url.startsWith('/open311/') ? open311ErrorResponse(url, description) : errorResponse(description),
  });
  installErrorHandling(app, { allowedMethods: contract.allowedMethods, open311: sendOpen311Error });
  installIdempotency(app, options.db, { retentionMs: options.idempotencyRetentionMs ?? 24 * hour });

  await app.register(healthRoutes({ db: options.db, client: options.client, timeZone: options.timeZone }));
  await app.register(departmentRoutes({ departments }));
  await app.register(peopleRoutes({ people }));
  await app.register(caseRoutes({ cases, timeZone: options.timeZone, filesFor: (principal) => evidence.resolverFor(fileViewerOf(principal)) }));
  await app.register(evidenceRoutes({ evidence }));
  await app.register(notificationRoutes({ notices }));
  await app.register(complaintRoutes({ evidence, complaints }));
  await app.register(scorecardRoutes({ scorecards }));
  await app.register(escalationRoutes({ escalations, bulletins }));
  await app.register(
    bulletinRoutes({
      bulletins,
      client: options.client,
      taskQueue: options.taskQueue,
      timeZone: options.timeZone,
      officeName: options.officeName ?? '督查督办办公室',
      periodKind: options.bulletinPeriod ?? 'week',
      publicUrl: options.publicUrl,
    }),
  );
  await app.register(open311Routes({ complaints, timeZone: options.timeZone, startedAt: new Date().toISOString(), publicUrl: options.publicUrl }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // The web pages (web/): HTML for people, hidden from the OpenAPI document, over the same services.
  await app.register(
    webPages({
      complaints,
      evidence,
      formTokens: createFormTokenService({ db: options.db, secretKey: installationKey }),
      sessions: createSessions({ secretKey: installationKey, tokens }),
      cases,
      people,
      departments,
      workbench: createWorkbenchService({ db: options.db, notices }),
      tokens,
      bulletins,
      bulletinDrafts: { client: options.client, taskQueue: options.taskQueue, periodKind: options.bulletinPeriod ?? 'week' },
      timeZone: options.timeZone,
      officeName: options.officeName ?? '督查督办办公室',
      publicUrl: options.publicUrl,
    }),
  );

  // Uploads that no case came to refer to are removed after their grace period, in the background.
  const collect = async () => {
    try {
      const removed = await evidence.collectGarbage();
      if (removed > 0) app.log.info({ removed }, 'removed evidence files no case refers to');
    } catch (error) {
      app.log.error({ err: error }, 'evidence clean-up failed');
    }
  };
  if (options.collectEvidence ?? true) {
    const timer = setInterval(() => void collect(), hour);
    timer.unref();
    app.addHook('onReady', collect);
    app.addHook('onClose', () => clearInterval(timer));
  }

  await app.ready();
  return app;
}
