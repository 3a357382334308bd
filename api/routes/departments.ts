import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { departmentInputSchema } from '../../domain/case.schema';
import { DomainError } from '../../domain/errors';
import { localiseInstants } from '../../domain/time';
import type { Db } from '../../db/database';
import { findDepartment, insertDepartment, listDepartments } from '../../db/department.repository';
import { requireOffice, requireToken } from '../auth';
import { errorResponses } from '../errors';
import { idempotencyHeaders } from '../idempotency';
import { departmentSchema } from '../schemas';

/** Departments (责任单位): everyone with a token reads them, the office adds them. */
export function departmentRoutes(deps: { db: Db; timeZone: string }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/departments',
      {
        schema: {
          tags: ['departments'],
          summary: 'list departments',
          security: [{ bearer: [] }],
          response: { 200: z.array(departmentSchema), ...errorResponses(401) },
        },
      },
      async (request) => {
        requireToken(request);
        return localiseInstants(await listDepartments(deps.db), deps.timeZone);
      },
    );
    app.post(
      '/api/v1/departments',
      {
        schema: {
          tags: ['departments'],
          summary: 'add a department (office)',
          security: [{ bearer: [] }],
          headers: idempotencyHeaders,
          body: departmentInputSchema,
          response: { 201: departmentSchema, ...errorResponses(400, 401, 403, 409, 422) },
        },
      },
      async (request, reply) => {
        requireOffice(request);
        if (!(await insertDepartment(deps.db, request.body, new Date().toISOString()))) {
          throw new DomainError('conflict', `部门代码 ${request.body.code} 已存在 / department ${request.body.code} already exists`, [
            { path: 'code', message: 'already exists' },
          ]);
        }
        const created = (await findDepartment(deps.db, request.body.code))!;
        return reply.code(201).header('location', `/api/v1/departments/${created.code}`).send(localiseInstants(created, deps.timeZone));
      },
    );
  };
}
