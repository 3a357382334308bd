import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { departmentCodeSchema } from '../../domain/case.schema';
import {
  departmentPersonInputSchema,
  officePersonInputSchema,
  personChangeSchema,
  personRolesInputSchema,
} from '../../domain/person.schema';
import type { PeopleService } from '../../services/people.service';
import { actorOf, requireToken } from '../auth';
import { idempotencyHeaders } from '../idempotency';
import { personParams, personSchema } from '../schemas';

const listQuery = z
  .object({
    includeInactive: z.enum(['true', 'false']).optional().describe('also the people removed from the directory'),
  })
  .strict();
const departmentParams = z.object({ code: departmentCodeSchema });

/**
 * The directory of people and posts (人员与岗位). Every token holder sees who is who (name, post,
 * roles); contact data (phone, e-mail, language, channels) only the office and the person's own
 * department. The office manages it.
 */
export function peopleRoutes(deps: { people: PeopleService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const created = (id: string) => `/api/v1/people/${id}`;

    app.get(
      '/api/v1/departments/:code/people',
      {
        config: { access: 'token' },
        schema: {
          operationId: 'listDepartmentPeople',
          tags: ['people'],
          summary: "a department's people, by name (contact data: the office and the department itself)",
          params: departmentParams,
          querystring: listQuery,
          response: { 200: z.array(personSchema) },
        },
      },
      async (request) =>
        deps.people.listDepartmentPeople(request.params.code, actorOf(requireToken(request)), {
          includeInactive: request.query.includeInactive === 'true',
        }),
    );

    app.post(
      '/api/v1/departments/:code/people',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'addDepartmentPerson',
          tags: ['people'],
          summary: 'add a person to a department, with the roles they hold (office)',
          headers: idempotencyHeaders,
          params: departmentParams,
          body: departmentPersonInputSchema,
          response: { 201: personSchema },
        },
      },
      async (request, reply) => {
        const person = await deps.people.addPerson({ department: request.params.code }, request.body);
        return reply.code(201).header('location', created(person.id)).send(person);
      },
    );

    app.get(
      '/api/v1/office/people',
      {
        config: { access: 'token' },
        schema: {
          operationId: 'listOfficePeople',
          tags: ['people'],
          summary: "the office's own staff, by name (contact data: the office)",
          querystring: listQuery,
          response: { 200: z.array(personSchema) },
        },
      },
      async (request) =>
        deps.people.listOfficePeople(actorOf(requireToken(request)), { includeInactive: request.query.includeInactive === 'true' }),
    );

    app.post(
      '/api/v1/office/people',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'addOfficePerson',
          tags: ['people'],
          summary: "add one of the office's own staff: its lead (督查办负责人) or a clerk (office)",
          headers: idempotencyHeaders,
          body: officePersonInputSchema,
          response: { 201: personSchema },
        },
      },
      async (request, reply) => {
        const person = await deps.people.addPerson({ office: true }, request.body);
        return reply.code(201).header('location', created(person.id)).send(person);
      },
    );

    app.get(
      '/api/v1/people/:personId',
      {
        config: { access: 'token' },
        schema: {
          operationId: 'getPerson',
          tags: ['people'],
          summary: "a person (contact data: the office and the person's own department)",
          params: personParams,
          response: { 200: personSchema },
        },
      },
      async (request) => deps.people.getPerson(request.params.personId, actorOf(requireToken(request))),
    );

    app.patch(
      '/api/v1/people/:personId',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'changePerson',
          tags: ['people'],
          summary: "change a person's name, post, contact data, language or channels; null clears a phone or e-mail (office)",
          params: personParams,
          body: personChangeSchema,
          response: { 200: personSchema },
        },
      },
      async (request) => deps.people.changePerson(request.params.personId, request.body),
    );

    app.post(
      '/api/v1/people/:personId/deactivate',
      {
        config: { access: 'office' },
        schema: {
          operationId: 'deactivatePerson',
          tags: ['people'],
          summary: 'remove a person from the directory: they hold no role and cannot be named; records keep their name (office)',
          headers: idempotencyHeaders,
          params: personParams,
          response: { 200: personSchema },
        },
      },
      async (request) => deps.people.deactivatePerson(request.params.personId),
    );

    app.put(
      '/api/v1/people/:personId/roles',
      {
        config: { access: 'office', answers: [409] },
        schema: {
          operationId: 'setPersonRoles',
          tags: ['people'],
          summary: 'the roles a person holds, replacing those held before (office)',
          params: personParams,
          body: personRolesInputSchema,
          response: { 200: personSchema },
        },
      },
      async (request) => deps.people.setRoles(request.params.personId, request.body),
    );
  };
}
