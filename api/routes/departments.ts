import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { departmentInputSchema } from '../../domain/case.schema';
import type { DepartmentService } from '../../services/department.service';
import { idempotencyHeaders } from '../idempotency';
import { departmentSchema } from '../schemas';

/** Departments (责任单位): everyone with a token reads them, the office adds them. */
export function departmentRoutes(deps: { departments: DepartmentService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/api/v1/departments',
      {
        config: { access: 'token' },
        schema: { operationId: 'listDepartments',
          tags: ['departments'], summary: 'list departments', response: { 200: z.array(departmentSchema) } },
      },
      async () => deps.departments.list(),
    );
    app.post(
      '/api/v1/departments',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'addDepartment',
          tags: ['departments'],
          summary: 'add a department (office)',
          headers: idempotencyHeaders,
          body: departmentInputSchema,
          response: { 201: departmentSchema },
        },
      },
      async (request, reply) => {
        const created = await deps.departments.add(request.body);
        return reply.code(201).header('location', `/api/v1/departments/${created.code}`).send(created);
      },
    );
  };
}
