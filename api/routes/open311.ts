import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { DomainError } from '../../domain/errors';
import type { ComplaintService, PublicComplaint } from '../../services/complaint.service';
import { trackingCodePattern } from '../../services/complaint.service';
import { HttpError, httpErrorStatus } from '../errors';
import type { ComplaintRateLimit } from './complaints';

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

/** The GeoReport v2 error shape: a list of {code, description}. */
const open311ErrorSchema = z.array(z.object({ code: z.number().int(), description: z.string() })).meta({ id: 'Open311Errors' });
const open311Errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, open311ErrorSchema]));

const serviceSchema = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string(),
  metadata: z.boolean(),
  type: z.literal('realtime'),
  keywords: z.string(),
  group: z.string(),
});

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
    requested_datetime: z.string(),
    updated_datetime: z.string(),
    expected_datetime: z.string().nullable(),
    address: z.string().nullable(),
    address_id: z.string().nullable(),
    zipcode: z.string().nullable(),
    lat: z.number().nullable(),
    long: z.number().nullable(),
    media_url: z.string().nullable(),
  })
  .meta({ id: 'Open311Request' });

const postRequestSchema = z
  .object({
    api_key: z.string().max(200).optional(),
    service_code: z.enum(serviceCodes),
    lat: z.coerce.number().min(-90).max(90).optional(),
    long: z.coerce.number().min(-180).max(180).optional(),
    address_string: z.string().trim().min(1).max(500).optional(),
    address_id: z.string().max(100).optional(),
    email: z.email().optional(),
    device_id: z.string().max(200).optional(),
    account_id: z.string().max(200).optional(),
    first_name: z.string().trim().min(1).max(50).optional(),
    last_name: z.string().trim().min(1).max(50).optional(),
    phone: z.string().trim().min(3).max(40).optional(),
    description: z.string().trim().min(1).max(4000),
    media_url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
  })
  .catchall(z.string());

function statusNotes(c: PublicComplaint): string | null {
  switch (c.status) {
    case 'received':
      return '已收到，待受理 / received, awaiting triage';
    case 'dismissed':
      return `不予受理：${c.dismissReason} / dismissed: ${c.dismissReason}`;
    case 'in_progress':
      return `已交办，案件 ${c.case?.id} 整改中 / assigned as case ${c.case?.id}, being rectified`;
    case 'closed':
      return `已整改销号 / rectified and closed (${c.case?.id})`;
    case 'withdrawn':
      return `案件已撤销 / case withdrawn (${c.case?.id})`;
  }
}

function toOpen311(c: PublicComplaint & { serviceCode?: string | null }): z.infer<typeof requestSchema> {
  const service = open311Services.find((s) => s.code === c.serviceCode || s.name === c.category);
  return {
    service_request_id: c.trackingCode,
    status: c.status === 'received' || c.status === 'in_progress' ? 'open' : 'closed',
    status_notes: statusNotes(c),
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

/**
 * Open311 GeoReport v2 (JSON), so that existing Open311 apps can file and follow complaints:
 * services are the kinds of problem, requests are complaints (and the cases opened from them).
 */
export function open311Routes(deps: { complaints: ComplaintService; timeZone: string; rateLimit: ComplaintRateLimit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    // GeoReport errors are a list of {code, description} with the HTTP status.
    app.setErrorHandler((error: FastifyError, request, reply) => {
      let status = 500;
      let description = '服务器内部错误 / internal error';
      if (error instanceof DomainError) {
        status = httpErrorStatus[error.code];
        description = error.details.length > 0 ? error.details.map((d) => `${d.path}: ${d.message}`).join('; ') : error.message;
      } else if (error instanceof HttpError) {
        status = httpErrorStatus[error.code];
        description = error.message;
      } else if (hasZodFastifySchemaValidationErrors(error)) {
        status = 400;
        description = error.validation
          .map((v) => `${v.instancePath.slice(1).replaceAll('/', '.') || error.validationContext}: ${v.message}`)
          .join('; ');
      } else if (error.statusCode && error.statusCode < 500) {
        status = error.statusCode;
        description = error.message;
      } else {
        request.log.error({ err: error }, 'open311 request failed');
      }
      return reply.code(status).send([{ code: status, description }]);
    });

    app.get(
      '/open311/v2/services.json',
      {
        schema: {
          tags: ['open311'],
          summary: 'GeoReport v2: the kinds of problem that can be reported',
          querystring: z.object({ jurisdiction_id: z.string().max(100).optional() }).catchall(z.string()),
          response: { 200: z.array(serviceSchema) },
        },
      },
      async () =>
        open311Services.map((s) => ({
          service_code: s.code,
          service_name: s.name,
          description: s.description,
          metadata: false,
          type: 'realtime' as const,
          keywords: s.name,
          group: '城市管理 / city management',
        })),
    );

    app.post(
      '/open311/v2/requests.json',
      {
        config: { rateLimit: deps.rateLimit },
        schema: {
          tags: ['open311'],
          summary: 'GeoReport v2: report a problem (a complaint); form-encoded or JSON',
          consumes: ['application/x-www-form-urlencoded', 'application/json'],
          body: postRequestSchema,
          response: {
            201: z.array(z.object({ service_request_id: z.string(), service_notice: z.string(), account_id: z.string().nullable() })),
            ...open311Errors(400, 422, 429),
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const hasPoint = body.lat !== undefined && body.long !== undefined;
        if (!hasPoint && !body.address_string && !body.address_id) {
          throw new HttpError('bad_request', 'lat/long 或 address_string 必填其一 / a location is required: lat and long, or address_string');
        }
        const service = open311Services.find((s) => s.code === body.service_code)!;
        const name = [body.last_name, body.first_name].filter(Boolean).join('');
        const filed = await deps.complaints.file(
          {
            title: `${service.name}：${body.description.slice(0, 40)}`,
            description: body.description,
            category: service.name,
            location: {
              address: body.address_string ?? body.address_id ?? `${body.lat},${body.long}`,
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
        return reply.code(201).send([
          {
            service_request_id: filed.trackingCode,
            service_notice: `已收到，查询码 ${filed.trackingCode} / received; follow it with this code`,
            account_id: body.account_id ?? null,
          },
        ]);
      },
    );

    const requestsQuery = z
      .object({
        jurisdiction_id: z.string().max(100).optional(),
        service_request_id: z.string().max(2000).optional(),
        service_code: z.string().max(2000).optional(),
        start_date: z.iso.datetime({ offset: true }).optional(),
        end_date: z.iso.datetime({ offset: true }).optional(),
        status: z.string().max(100).optional(),
      })
      .catchall(z.string());

    app.get(
      '/open311/v2/requests.json',
      {
        schema: {
          tags: ['open311'],
          summary: 'GeoReport v2: requests, newest first (default: the last 90 days, at most 1000)',
          querystring: requestsQuery,
          response: { 200: z.array(requestSchema), ...open311Errors(400) },
        },
      },
      async (request) => {
        const q = request.query;
        const end = q.end_date ? DateTime.fromISO(q.end_date, { setZone: true }) : DateTime.now();
        const start = q.start_date ? DateTime.fromISO(q.start_date, { setZone: true }) : end.minus({ days: 90 });
        const codes = q.service_request_id?.split(',').map((c) => c.trim()).filter((c) => trackingCodePattern.test(c));
        const services = q.service_code?.split(',').map((c) => c.trim());
        const statuses = q.status?.split(',').map((s) => s.trim());
        const items = (await deps.complaints.list(
          {
            limit: 1000,
            since: start.toUTC().toISO()!,
            until: end.toUTC().toISO()!,
            codes: q.service_request_id !== undefined ? (codes ?? []) : undefined,
          },
          'public',
        )) as PublicComplaint[];
        return items
          .map(toOpen311)
          .filter((r) => !services || (r.service_code !== null && services.includes(r.service_code)))
          .filter((r) => !statuses || statuses.includes(r.status));
      },
    );

    app.get(
      '/open311/v2/requests/:id.json',
      {
        schema: {
          tags: ['open311'],
          summary: 'GeoReport v2: one request',
          params: z.object({ id: z.string().max(32) }),
          querystring: z.object({ jurisdiction_id: z.string().max(100).optional() }).catchall(z.string()),
          response: { 200: z.array(requestSchema), ...open311Errors(404) },
        },
      },
      async (request) => [toOpen311(await deps.complaints.publicView(request.params.id))],
    );

    app.get(
      '/open311/v2/tokens/:token.json',
      {
        schema: {
          tags: ['open311'],
          summary: 'GeoReport v2: the request a token stands for (tokens are service request ids here)',
          params: z.object({ token: z.string().max(32) }),
          querystring: z.object({ jurisdiction_id: z.string().max(100).optional() }).catchall(z.string()),
          response: { 200: z.array(z.object({ service_request_id: z.string(), token: z.string() })), ...open311Errors(404) },
        },
      },
      async (request) => {
        const c = await deps.complaints.publicView(request.params.token);
        return [{ service_request_id: c.trackingCode, token: c.trackingCode }];
      },
    );
  };
}
