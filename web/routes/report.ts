import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { complaintInputSchema } from '../../domain/complaint.schema';
import { DomainError } from '../../domain/errors';
import { fieldIssues } from '../../domain/validation';
import { trackingCodePattern } from '../../services/complaint.service';
import { UploadQuotaExceeded } from '../../services/evidence.store';
import { maxPublicPhotoBytes, maxPublicPhotos } from '../../services/public-photo';
import { givenOf, locationOfForm } from '../form-values';
import { inLanguage, type PageLanguage } from '../i18n';
import type { PageKit, WebDeps } from '../plugin';
import { type PageContext, pageContext, sendPage } from '../render';

/** The categories the form offers (the office's own words; the catalogues translate them). */
export const reportCategories = ['市容秩序', '环境卫生', '道路交通', '公共设施', '噪声扰民', '其他'] as const;

/** The form's text fields, as the page names them. */
const textFields = ['description', 'title', 'category', 'address', 'lat', 'lng', 'name', 'phone', 'email'] as const;
type FormValues = Partial<Record<(typeof textFields)[number], string>>;
type FormErrors = Record<string, string>;

/** Which field of the form a path of the complaint's schema names. */
function fieldOf(path: string): string {
  if (path === 'description' || path === 'title' || path === 'category') return path;
  if (path.startsWith('location')) return 'address';
  if (path.startsWith('contact.')) {
    const name = path.slice('contact.'.length);
    return name === 'name' || name === 'phone' || name === 'email' ? name : 'form';
  }
  if (path.startsWith('evidence') || path.startsWith('photos')) return 'photos';
  return 'form';
}

/** The complaint the form's values describe, as POST /api/v1/complaints takes it (without evidence). */
export function complaintOfForm(values: FormValues, lang: PageLanguage): Record<string, unknown> {
  const given = givenOf(values);
  const location = locationOfForm(given);
  const contact = { name: given('name'), phone: given('phone'), email: given('email') };
  const hasContact = Object.values(contact).some((v) => v !== undefined);
  return {
    // The description as typed (blank included): the schema says what is wrong with it.
    description: values.description ?? '',
    ...(given('title') ? { title: given('title') } : {}),
    ...(given('category') ? { category: given('category') } : {}),
    ...(location ? { location } : {}),
    ...(hasContact ? { contact: { ...JSON.parse(JSON.stringify(contact)), language: lang } } : {}),
  };
}

/** A photo as the form sent it. */
interface Photo {
  readonly bytes: Buffer;
}

/**
 * 随手拍: the public's complaint form. It files through the complaint service as POST
 * /api/v1/complaints does; its photos are stripped of their metadata (EXIF GPS and all) and stored
 * in the evidence store under the public uploader, and the complaint links to them. Sent once per
 * page (a one-time form token), CSRF-checked, within the public's filing budget.
 */
export function reportRoutes(kit: PageKit, deps: WebDeps) {
  return async (app: FastifyInstance): Promise<void> => {
    const labels = (context: PageContext): Record<string, string> => ({
      description: context.t('report.description'),
      title: context.t('report.subject'),
      category: context.t('report.category'),
      address: context.t('report.address'),
      photos: context.t('report.photos'),
      name: context.t('report.name'),
      phone: context.t('report.phone'),
      email: context.t('report.email'),
      form: context.t('error.title'),
    });
    const showForm = (
      request: FastifyRequest,
      reply: FastifyReply,
      state: { values?: FormValues; errors?: FormErrors; summary?: string; status?: number; formToken?: string } = {},
    ) => {
      const context = pageContext(kit.site, request);
      return sendPage(
        reply,
        context,
        'report',
        {
          csrf: reply.generateCsrf(),
          formToken: state.formToken ?? deps.formTokens.issue('report'),
          values: state.values ?? {},
          errors: state.errors ?? {},
          summary: state.summary,
          labels: labels(context),
          categories: reportCategories,
          maxPhotos: maxPublicPhotos,
          maxPhotoMb: maxPublicPhotoBytes / 1024 / 1024,
        },
        state.status,
      );
    };

    app.get('/report', { schema: { hide: true } }, async (request, reply) => showForm(request, reply));

    app.get<{ Params: { code: string } }>('/report/filed/:code', { schema: { hide: true } }, async (request, reply) => {
      const code = request.params.code;
      if (!trackingCodePattern.test(code)) return reply.redirect('/report', 303);
      return sendPage(reply, pageContext(kit.site, request), 'filed', { code });
    });

    app.post('/report', { schema: { hide: true }, config: { publicLimit: 'filing' } }, async (request, reply) => {
      const context = pageContext(kit.site, request);
      const values: Record<string, string> = {};
      const photos: Photo[] = [];
      const errors: FormErrors = {};
      if (request.isMultipart()) {
        try {
          const parts = request.parts({ limits: { fileSize: maxPublicPhotoBytes, files: maxPublicPhotos, fields: 20, parts: maxPublicPhotos + 20 } });
          for await (const part of parts) {
            if (part.type === 'file') {
              const bytes = await part.toBuffer();
              // An empty file input still sends a part: no file chosen.
              if (bytes.length > 0) photos.push({ bytes });
            } else if (typeof part.value === 'string') {
              values[part.fieldname] = part.value;
            }
          }
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
            errors.photos = context.t('report.photosHint', { count: maxPublicPhotos, mb: maxPublicPhotoBytes / 1024 / 1024 });
          } else {
            throw error;
          }
        }
      } else if (request.body && typeof request.body === 'object') {
        for (const [name, value] of Object.entries(request.body as Record<string, unknown>)) if (typeof value === 'string') values[name] = value;
      }
      request.body = values;
      if (!(await kit.csrfValid(request))) {
        return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: '/report' }, 403);
      }
      const kept: FormValues = Object.fromEntries(textFields.flatMap((name) => (values[name] === undefined ? [] : [[name, values[name]]])));
      const claim = await deps.formTokens.claim('report', values.formToken ?? '');
      if (claim.state === 'invalid') {
        return showForm(request, reply, { values: kept, summary: context.t('report.expired'), status: 400 });
      }
      if (claim.state === 'done') return reply.redirect(`/report/filed/${claim.result}`, 303);
      const again = (status: number) => async () => {
        await deps.formTokens.release(claim.claim);
        return showForm(request, reply, { values: kept, errors, status, formToken: values.formToken });
      };
      try {
        const input = complaintOfForm(kept, context.lang);
        const checked = complaintInputSchema.safeParse(input);
        if (!checked.success) {
          for (const issue of fieldIssues(checked.error)) errors[fieldOf(issue.path)] ??= inLanguage(issue.message, context.lang);
        }
        if (Object.keys(errors).length > 0) return await again(422)();
        const evidence: { url: string }[] = [];
        const base = deps.publicUrl ?? `${request.protocol}://${request.host}`;
        const stored: string[] = [];
        for (const [index, photo] of photos.entries()) {
          try {
            const file = await deps.evidence.uploadPublicPhoto(photo.bytes, index, `photos[${index}]`);
            stored.push(file.sha256);
            evidence.push({ url: `${base}/api/v1/evidence/${file.sha256}` });
          } catch (error) {
            if (error instanceof DomainError) errors.photos = inLanguage(error.details[0]?.message ?? error.message, context.lang);
            else if (error instanceof UploadQuotaExceeded) errors.photos = context.t('error.rateLimited');
            else throw error;
            return await again(422)();
          }
        }
        const filed = await deps.complaints.file({ ...input, evidence }, 'web');
        await deps.evidence.referFromComplaint(filed.trackingCode, stored);
        await deps.formTokens.complete(claim.claim, filed.trackingCode);
        return reply.redirect(`/report/filed/${filed.trackingCode}`, 303);
      } catch (error) {
        if (error instanceof DomainError && error.details.length > 0) {
          for (const issue of error.details) errors[fieldOf(issue.path)] ??= inLanguage(issue.message, context.lang);
          return await again(422)();
        }
        await deps.formTokens.release(claim.claim);
        throw error;
      }
    });
  };
}
