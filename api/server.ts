import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Db } from '../db/database';
import { createCaseService } from '../services/case.service';
import { createComplaintService } from '../services/complaint.service';
import { EvidenceStore, maxEvidenceBytes } from '../services/evidence.store';
import { createTokenService } from '../services/token.service';
import { installAuthentication } from './auth';
import { HttpError, installErrorHandling } from './errors';
import { installIdempotency } from './idempotency';
import { caseRoutes } from './routes/cases';
import { complaintRoutes } from './routes/complaints';
import { departmentRoutes } from './routes/departments';
import { evidenceRoutes, maxFilesPerUpload, uploadedFiles } from './routes/evidence';
import { healthRoutes } from './routes/health';
import { open311Routes } from './routes/open311';

export interface ApiOptions {
  readonly db: Db;
  readonly client: Client;
  readonly taskQueue: string;
  readonly timeZone: string;
  readonly dataDir: string;
  readonly logger: FastifyBaseLogger;
  /** Complaints one client address may file per minute. */
  readonly complaintsPerMinute: number;
  /** The largest JSON body accepted, in bytes. */
  readonly bodyLimit?: number;
}

/**
 * The HTTP API: REST with JSON under /api/v1, Open311 GeoReport v2 under /open311/v2, the
 * OpenAPI 3.1 document at /openapi.json and readable docs at /docs, health at /healthz and
 * /readyz. Requests and responses are validated by the same zod schemas the document shows.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'api' }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Behind a reverse proxy, set this to the proxy's address so that rate limits see clients.
    trustProxy: false,
  });
  // JSON (and, for Open311 and uploads, forms and multipart) only: anything else is a 415.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);

  const tokens = createTokenService({ db: options.db });
  const cases = createCaseService({ client: options.client, db: options.db, taskQueue: options.taskQueue, timeZone: options.timeZone });
  const complaints = createComplaintService({ db: options.db, cases, timeZone: options.timeZone });
  const store = EvidenceStore.inDataDir(options.dataDir);
  const complaintLimit = { max: options.complaintsPerMinute, timeWindow: '1 minute' };

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
          'Every POST accepts an Idempotency-Key header.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    // Schemas with an id (Error, Case, Task, …) become components that the operations refer to.
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(formbody);
  await app.register(multipart, {
    limits: { fileSize: maxEvidenceBytes, files: maxFilesPerUpload, fields: 10, parts: maxFilesPerUpload + 10 },
    throwFileSizeLimit: true,
  });
  await app.register(rateLimit, {
    global: false,
    keyGenerator: (request) => request.ip,
    // The plugin throws what this returns; the error handler answers with the one error shape.
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.ceil(context.ttl / 1000);
      return Object.assign(
        new HttpError('rate_limited', `请求过于频繁，请 ${seconds} 秒后再试 / too many requests: retry in ${seconds} s`, [], {
          'retry-after': String(seconds),
        }),
        { statusCode: 429 },
      );
    },
  });
  installAuthentication(app, tokens);
  installIdempotency(app, options.db);

  await app.register(healthRoutes({ db: options.db, client: options.client }));
  await app.register(departmentRoutes({ db: options.db, timeZone: options.timeZone }));
  await app.register(caseRoutes({ cases, timeZone: options.timeZone, uploadedFiles: uploadedFiles(options.db) }));
  await app.register(evidenceRoutes({ db: options.db, store }));
  await app.register(complaintRoutes({ complaints, rateLimit: complaintLimit }));
  await app.register(open311Routes({ complaints, timeZone: options.timeZone, rateLimit: complaintLimit }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
