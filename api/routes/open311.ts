import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { caseIdSchema } from '../../domain/case-id';
import { phoneSchema } from '../../domain/case.schema';
import { emailSchema, httpUrlSchema, leadingCharacters, text } from '../../domain/text';
import { instantSchema, presentInstants } from '../../domain/time';
import type { ComplaintService, PublicComplaint, PublishedRequest } from '../../services/complaint.service';
import { coarseCoordinate, trackingCodePattern } from '../../services/complaint.service';
import { answerFor, HttpError, httpErrorStatus } from '../errors';
import { xmlDocument } from '../xml';

/** The kinds of problem the public can report, as Open311 services. */
export const open311Services = [
  { code: 'city-order', name: '市容秩序', description: '占道经营、乱堆乱放、乱贴乱画 / street vending, clutter, fly-posting' },
  { code: 'sanitation', name: '环境卫生', description: '垃圾清运、公厕、污水 / refuse, public toilets, sewage' },
  { code: 'municipal-facilities', name: '市政设施', description: '道路、井盖、路灯 / roads, manhole covers, street lights' },
  { code: 'greening', name: '园林绿化', description: '绿地、树木 / green space, trees' },
  { code: 'traffic-order', name: '交通秩序', description: '乱停车、非机动车 / parking, bicycles' },
  { code: 'noise', name: '噪声扰民', description: '施工、商业噪声 / construction and business noise' },
  { code: 'illegal-construction', name: '违法建设', description: '违章搭建 / unauthorised building' },
  { code: 'other', name: '其他', description: '其他问题 / anything else' },
] as const;

const serviceCodes = open311Services.map((s) => s.code) as [string, ...string[]];

/** GeoReport v2 answers in JSON or in XML (its default), chosen by the path's suffix. */
const formats = ['json', 'xml'] as const;
type Format = (typeof formats)[number];
const xmlType = 'text/xml; charset=utf-8';

const formatOf = (url: string): Format => ((url.split('?')[0] ?? '').endsWith('.xml') ? 'xml' : 'json');

/** The GeoReport v2 error shape: a list of {code, description}. */
const open311ErrorSchema = z.array(z.object({ code: z.number().int(), description: z.string() })).meta({ id: 'Open311Errors' });

/** A GeoReport route's documented error response, in the format of its suffix. */
export function open311ErrorResponse(url: string, description: string): unknown {
  return formatOf(url) === 'xml'
    ? { description, content: { 'text/xml': { schema: z.string().describe('<errors><error><code/><description/></error></errors>') } } }
    : open311ErrorSchema.describe(description);
}

/** Sends a GeoReport error list, in XML or JSON after the path's suffix. */
export function sendOpen311Error(request: FastifyRequest, reply: FastifyReply, status: number, description: string): FastifyReply {
  const errors = [{ code: status, description }];
  if (formatOf(request.url) === 'xml') {
    return reply.code(status).type(xmlType).send(xmlDocument('errors', { error: errors }));
  }
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(errors));
}

const serviceSchema = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string(),
  metadata: z.boolean(),
  type: z.literal('realtime'),
  keywords: z.string(),
  group: z.string(),
});

const serviceDefinitionSchema = z.object({ service_code: z.string(), attributes: z.array(z.object({ code: z.string() })) });

const requestSchema = z
  .object({
    service_request_id: z.string(),
    status: z.enum(['open', 'closed']),
    status_notes: z.string().nullable(),
    service_name: z.string().nullable(),
    service_code: z.string().nullable(),
    description: z.string(),
    agency_responsible: z.string().nullable(),
    service_notice: z.string().nullable(),
    requested_datetime: instantSchema,
    updated_datetime: instantSchema,
    expected_datetime: instantSchema.nullable(),
    address: z.string().nullable(),
    address_id: z.string().nullable(),
    zipcode: z.string().nullable(),
    lat: z.number().nullable(),
    long: z.number().nullable(),
    media_url: z.string().nullable(),
  })
  .meta({ id: 'Open311Request' });

const postedSchema = z.object({ service_request_id: z.string(), service_notice: z.string(), account_id: z.string().nullable() });
const tokenSchema = z.object({ service_request_id: z.string(), token: z.string() });

const discoverySchema = z.object({
  changeset: instantSchema,
  contact: z.string(),
  key_service: z.string(),
  endpoints: z.array(
    z.object({ specification: z.string(), url: z.string(), changeset: instantSchema, type: z.string(), formats: z.array(z.string()) }),
  ),
});

const postRequestSchema = z
  .object({
    api_key: z.string().max(200).optional(),
    service_code: z.enum(serviceCodes),
    lat: z.number().min(-90).max(90).optional(),
    long: z.number().min(-180).max(180).optional(),
    address_string: text(500).optional(),
    address_id: z.string().max(100).optional(),
    email: emailSchema.optional(),
    device_id: z.string().max(200).optional(),
    account_id: z.string().max(200).optional(),
    first_name: text(50).optional(),
    last_name: text(50).optional(),
    phone: phoneSchema.optional(),
    description: text(4000),
    media_url: httpUrlSchema.optional(),
  })
  .catchall(z.string())
  // GeoReport needs a location: a point (lat and long together), an address, or an address id.
  .refine((b) => (b.lat === undefined) === (b.long === undefined), { message: '纬度与经度须同时给出 / lat and long go together', path: ['lat'] })
  .refine((b) => b.lat !== undefined || b.address_string !== undefined || b.address_id !== undefined, {
    message: '须给出位置：lat 与 long，或 address_string / a location is required: lat and long, or address_string',
  })
  // The same two rules, as JSON Schema states them for clients.
  .meta({
    dependentRequired: { lat: ['long'], long: ['lat'] },
    anyOf: [{ required: ['lat', 'long'] }, { required: ['address_string'] }, { required: ['address_id'] }],
  });

/**
 * A form carries text only: the fields its schema declares as numbers are read as numbers before
 * the body is checked (what is not a number stays text, and is refused as such). JSON bodies carry
 * numbers themselves and are left alone.
 */
function numbersFromForm(schema: z.ZodObject) {
  const numeric = Object.entries(schema.shape)
    .filter(([, field]) => {
      let def = (field as z.core.$ZodType)._zod.def as { type: string; innerType?: z.core.$ZodType };
      while (def.type === 'optional' && def.innerType) def = def.innerType._zod.def;
      return def.type === 'number';
    })
    .map(([key]) => key);
  return async (request: FastifyRequest): Promise<void> => {
    if (!request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) return;
    const body = request.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return;
    for (const key of numeric) {
      const value = body[key];
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) body[key] = Number(value);
    }
  };
}

const jurisdictionQuery = z.object({ jurisdiction_id: z.string().max(100).optional() }).catchall(z.string());

const commaList = (item: string) => new RegExp(`^${item}(,${item})*$`);
const caseIdItem = 'DB-\\d{4}-\\d{6,}';
const requestIdPattern = new RegExp(`^(${trackingCodePattern.source.slice(1, -1)}|${caseIdItem})$`);

/** Most requests in one page of `requests.json`. */
export const maxOpen311PageSize = 100;

const requestsQuery = z
  .object({
    jurisdiction_id: z.string().max(100).optional(),
    service_request_id: z
      .string()
      .regex(commaList(caseIdItem))
      .max(2000)
      .optional()
      .describe('case ids of published requests, comma separated'),
    service_code: z.string().regex(commaList('[a-z-]+')).max(2000).optional(),
    start_date: instantSchema.optional().describe('received at or after (default: 90 days before end_date)'),
    end_date: instantSchema.optional().describe('received at or before (default: now)'),
    status: z.string().regex(commaList('(open|closed)')).optional(),
    page: z.coerce.number().int().min(1).max(1000).default(1),
    page_size: z.coerce.number().int().min(1).max(maxOpen311PageSize).default(50),
  })
  .catchall(z.string());

const closedNotes: Partial<Record<PublicComplaint['status'], (c: PublicComplaint) => string>> = {
  received: () => '已收到，待受理 / received, awaiting triage',
  dismissed: (c) => `不予受理：${c.dismissReason} / dismissed: ${c.dismissReason}`,
  in_progress: (c) => `已交办，案件 ${c.case?.id} 整改中 / assigned as case ${c.case?.id}, being rectified`,
  closed: (c) => `已整改销号 / rectified and closed (${c.case?.id})`,
  withdrawn: (c) => `案件已撤销 / case withdrawn (${c.case?.id})`,
};

function serviceOf(code: string | null, category: string | null) {
  return open311Services.find((s) => s.code === code || s.name === category);
}

/** The complainant's own request, by tracking code: their words, their photo, no contact data. */
function trackedRequest(c: PublicComplaint & { serviceCode?: string | null }): z.infer<typeof requestSchema> {
  const service = serviceOf(c.serviceCode ?? null, c.category);
  return {
    service_request_id: c.trackingCode,
    status: c.status === 'received' || c.status === 'in_progress' ? 'open' : 'closed',
    status_notes: closedNotes[c.status]?.(c) ?? null,
    service_name: service?.name ?? c.category,
    service_code: service?.code ?? null,
    description: c.description,
    agency_responsible: c.case?.agencyResponsible ?? null,
    service_notice: null,
    requested_datetime: c.receivedAt,
    updated_datetime: c.updatedAt,
    expected_datetime: c.case?.expectedAt ?? null,
    address: c.address,
    address_id: null,
    zipcode: null,
    lat: c.lat,
    long: c.lng,
    media_url: c.mediaUrl,
  };
}

/** An accepted complaint as anyone sees it: named by its case, in the office's words. */
function publishedRequest(r: PublishedRequest): z.infer<typeof requestSchema> {
  const service = serviceOf(r.serviceCode, r.category);
  return {
    service_request_id: r.caseId,
    status: r.status === 'closed' ? 'closed' : 'open',
    status_notes:
      r.status === 'closed' ? '已整改销号 / rectified and closed' : `已交办，整改中 / assigned, being rectified`,
    service_name: service?.name ?? r.category,
    service_code: service?.code ?? null,
    description: r.title,
    agency_responsible: r.case.agencyResponsible,
    service_notice: null,
    requested_datetime: r.receivedAt,
    updated_datetime: r.updatedAt,
    expected_datetime: r.case.expectedAt,
    address: r.address,
    address_id: null,
    zipcode: null,
    lat: r.lat,
    long: r.lng,
    media_url: null,
  };
}

/** Root and item element names of each answer in XML. */
const xmlShape = {
  services: ['services', 'service'],
  requests: ['service_requests', 'request'],
} as const;

/**
 * Open311 GeoReport v2, in JSON and XML, so that existing Open311 apps can file and follow
 * complaints: services are the kinds of problem; requests are complaints. The public list shows
 * only complaints the office accepted, named by their case, in pages of at most 100; the
 * complainant follows their own by its tracking code.
 */
export function open311Routes(deps: { complaints: ComplaintService; timeZone: string; startedAt: string; publicUrl?: string | undefined }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const answer = answerFor(error, request);
      const description =
        answer.details.length > 0 ? answer.details.map((d) => `${d.path}: ${d.message}`).join('; ') : answer.message;
      void reply.headers(answer.headers);
      return sendOpen311Error(request, reply, httpErrorStatus[answer.code], description);
    });

    /** Answers `items` in `format`: JSON through the route's schema, XML as GeoReport writes it. */
    const answer = <T>(reply: FastifyReply, format: Format, schema: z.ZodType<T>, shape: readonly [string, string], data: T, status = 200) => {
      if (format === 'json') return reply.code(status).send(data);
      const shown = presentInstants(schema, data, deps.timeZone);
      const [root, item] = shape;
      return reply.code(status).type(xmlType).send(xmlDocument(root, { [item]: shown }));
    };
    /** The 200 response of a route in `format`. */
    const ok = (format: Format, schema: z.ZodType, what: string) =>
      format === 'json' ? schema : { description: what, content: { 'text/xml': { schema: z.string().describe(what) } } };

    for (const format of formats) {
      const suffix = format === 'json' ? 'Json' : 'Xml';
      app.get(
        `/open311/discovery.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311Discovery${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2 discovery: where the endpoint is and what it speaks (${format})`,
            response: { 200: ok(format, discoverySchema, 'the discovery document') },
          },
        },
        async (request, reply) => {
          const discovery = {
            changeset: deps.startedAt,
            contact: '创建办 / the supervision office',
            key_service: '无需 api_key / no api_key needed',
            endpoints: [
              {
                specification: 'http://wiki.open311.org/GeoReport_v2',
                // The configured public address; without one, the address the request came to.
                url: `${deps.publicUrl ?? `${request.protocol}://${request.host}`}/open311/v2`,
                changeset: deps.startedAt,
                type: 'production',
                formats: ['text/xml', 'application/json'],
              },
            ],
          };
          if (format === 'json') return reply.send(discovery);
          const shown = presentInstants(discoverySchema, discovery, deps.timeZone);
          return reply.type(xmlType).send(
            xmlDocument('discovery', { ...shown, endpoints: { endpoint: shown.endpoints.map((e) => ({ ...e, formats: { format: e.formats } })) } }),
          );
        },
      );

      app.get(
        `/open311/v2/services.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311Services${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2: the kinds of problem that can be reported (${format})`,
            querystring: jurisdictionQuery,
            response: { 200: ok(format, z.array(serviceSchema), 'the services') },
          },
        },
        async (_request, reply) =>
          answer(
            reply,
            format,
            z.array(serviceSchema),
            xmlShape.services,
            open311Services.map((s) => ({
              service_code: s.code,
              service_name: s.name,
              description: s.description,
              metadata: false,
              type: 'realtime' as const,
              keywords: s.name,
              group: '城市管理 / city management',
            })),
          ),
      );

      app.get(
        `/open311/v2/services/:service_code.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311ServiceDefinition${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2: a service's definition (no extra attributes are asked) (${format})`,
            params: z.object({ service_code: z.string().regex(/^[a-z-]{1,40}$/) }),
            querystring: jurisdictionQuery,
            response: { 200: ok(format, serviceDefinitionSchema, 'the service definition') },
          },
        },
        async (request, reply) => {
          const service = open311Services.find((s) => s.code === request.params.service_code);
          if (!service) throw new HttpError('not_found', `没有服务 ${request.params.service_code} / no service ${request.params.service_code}`);
          const definition = { service_code: service.code, attributes: [] };
          if (format === 'json') return reply.send(definition);
          return reply.type(xmlType).send(xmlDocument('service_definition', { service_code: definition.service_code, attributes: '' }));
        },
      );

      app.post(
        `/open311/v2/requests.${format}`,
        {
          config: { publicLimit: 'filing' },
          preValidation: numbersFromForm(postRequestSchema),
          schema: {
            operationId: `open311PostRequest${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2: report a problem (a complaint); form-encoded or JSON (${format})`,
            consumes: ['application/x-www-form-urlencoded', 'application/json'],
            body: postRequestSchema,
            response: { 201: ok(format, z.array(postedSchema), 'the new request: its id is the tracking code, for the reporter only') },
          },
        },
        async (request, reply) => {
          const body = request.body;
          const hasPoint = body.lat !== undefined && body.long !== undefined;
          const service = open311Services.find((s) => s.code === body.service_code)!;
          const name = [body.last_name, body.first_name].filter(Boolean).join('');
          const filed = await deps.complaints.file(
            {
              title: `${service.name}：${leadingCharacters(body.description, 40)}`,
              description: body.description,
              category: service.name,
              location: {
                // Without an address, the point stands in for one, coarsened as the public sees
                // points: the exact one stays in lat and lng, for the office.
                address: body.address_string ?? body.address_id ?? `${coarseCoordinate(body.lat ?? null)},${coarseCoordinate(body.long ?? null)}`,
                ...(hasPoint ? { lat: body.lat, lng: body.long } : {}),
              },
              contact: {
                ...(name ? { name } : {}),
                ...(body.phone ? { phone: body.phone } : {}),
                ...(body.email ? { email: body.email } : {}),
              },
              evidence: body.media_url ? [{ url: body.media_url }] : [],
            },
            'open311',
            service.code,
          );
          const posted = [
            {
              service_request_id: filed.trackingCode,
              service_notice: `已收到，查询码 ${filed.trackingCode} / received; follow it with this code`,
              account_id: body.account_id ?? null,
            },
          ];
          return answer(reply, format, z.array(postedSchema), xmlShape.requests, posted, 201);
        },
      );

      app.get(
        `/open311/v2/requests.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311Requests${suffix}`,
          tags: ['open311'],
            summary:
              `GeoReport v2: the requests the office accepted, newest first, ${maxOpen311PageSize} at most per page ` +
              `(default: received in the last 90 days) (${format})`,
            querystring: requestsQuery,
            response: { 200: ok(format, z.array(requestSchema), 'the requests') },
          },
        },
        async (request, reply) => {
          const q = request.query;
          const end = q.end_date ? DateTime.fromISO(q.end_date, { setZone: true }) : DateTime.now();
          const start = q.start_date ? DateTime.fromISO(q.start_date, { setZone: true }) : end.minus({ days: 90 });
          const codes = q.service_code?.split(',');
          const items = await deps.complaints.listPublished({
            since: start.toUTC().toISO()!,
            until: end.toUTC().toISO()!,
            limit: q.page_size,
            offset: (q.page - 1) * q.page_size,
            caseIds: q.service_request_id?.split(','),
            services: codes && {
              codes,
              names: open311Services.filter((s) => codes.includes(s.code)).map((s) => s.name),
            },
            statuses: q.status?.split(',') as ('open' | 'closed')[] | undefined,
          });
          return answer(reply, format, z.array(requestSchema), xmlShape.requests, items.map(publishedRequest));
        },
      );

      app.get(
        `/open311/v2/requests/:id.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311Request${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2: one request, by its case id, or by its tracking code for the reporter (${format})`,
            params: z.object({ id: z.string().regex(requestIdPattern) }),
            querystring: jurisdictionQuery,
            response: { 200: ok(format, z.array(requestSchema), 'the request') },
          },
        },
        async (request, reply) => {
          const { id } = request.params;
          const found = caseIdSchema.safeParse(id).success
            ? publishedRequest(await deps.complaints.publishedView(id))
            : trackedRequest(await deps.complaints.publicView(id));
          return answer(reply, format, z.array(requestSchema), xmlShape.requests, [found]);
        },
      );

      app.get(
        `/open311/v2/tokens/:token.${format}`,
        {
          config: { publicLimit: 'reading' },
          schema: {
            operationId: `open311Token${suffix}`,
          tags: ['open311'],
            summary: `GeoReport v2: the request a token stands for (tokens are the tracking codes here) (${format})`,
            params: z.object({ token: z.string().regex(trackingCodePattern) }),
            querystring: jurisdictionQuery,
            response: { 200: ok(format, z.array(tokenSchema), 'the request id') },
          },
        },
        async (request, reply) => {
          const c = await deps.complaints.publicView(request.params.token);
          return answer(reply, format, z.array(tokenSchema), xmlShape.requests, [{ service_request_id: c.trackingCode, token: c.trackingCode }]);
        },
      );
    }
  };
}
