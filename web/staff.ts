import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fileViewerOf } from '../api/routes/evidence';
import { DomainError } from '../domain/errors';
import { UploadQuotaExceeded } from '../services/evidence.store';
import { inLanguage, type PageLanguage } from './i18n';
import type { PageKit, WebDeps } from './plugin';
import { pageContext, sendPage } from './render';
import { sessionCookie, type WebUser } from './session';

/** Most photos one staff form may carry, and their size (as the API's uploads). */
export const maxStaffPhotos = 10;
export const maxStaffPhotoBytes = 10 * 1024 * 1024;

/** What a staff form sent: its text fields and its photos (in memory until the CSRF check passed). */
export interface StaffForm {
  readonly values: Record<string, string>;
  /** Every value of each field (checkboxes send several). */
  readonly lists: Record<string, string[]>;
  readonly photos: Buffer[];
  /** A photo the request could not carry (too large, too many). */
  readonly photoError: boolean;
}

/**
 * The signed-in user of a page, checked against the tokens on every request; none (never signed
 * in, the session too old, the token revoked): the cookie is cleared and the answer is a redirect
 * to the sign-in page, which comes back here afterwards.
 */
export async function requireUser(kit: PageKit, deps: WebDeps, request: FastifyRequest, reply: FastifyReply): Promise<WebUser | undefined> {
  const user = await deps.sessions.userOf(request);
  if (user) {
    request.webUser = user;
    return user;
  }
  if (request.cookies[sessionCookie] !== undefined) void reply.clearCookie(sessionCookie, kit.cookieOptions);
  const next = request.method === 'GET' ? request.url : '/';
  void reply.header('cache-control', 'no-store').redirect(`/signin?next=${encodeURIComponent(next)}`, 303);
  return undefined;
}

/** Reads a form, multipart (with photos) or urlencoded, into `request.body` for the CSRF check. */
export async function readStaffForm(request: FastifyRequest): Promise<StaffForm> {
  const values: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const keep = (name: string, value: string) => {
    values[name] = value;
    (lists[name] ??= []).push(value);
  };
  const photos: Buffer[] = [];
  let photoError = false;
  if (request.isMultipart()) {
    try {
      const parts = request.parts({ limits: { fileSize: maxStaffPhotoBytes, files: maxStaffPhotos, fields: 30, parts: maxStaffPhotos + 30 } });
      for await (const part of parts) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer();
          if (bytes.length > 0) photos.push(bytes);
        } else if (typeof part.value === 'string') {
          keep(part.fieldname, part.value);
        }
      }
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') photoError = true;
      else throw error;
    }
  } else if (request.body && typeof request.body === 'object') {
    for (const [name, value] of Object.entries(request.body as Record<string, unknown>)) {
      for (const one of Array.isArray(value) ? value : [value]) if (typeof one === 'string') keep(name, one);
    }
  }
  request.body = values;
  return { values, lists, photos, photoError };
}

/** A form's fields refused, by the page's field names, in the page's language. */
export type FieldErrors = Record<string, string>;

/** The field of a form a path of a command's schema names (`evidence[0]` is the photos field). */
export function fieldOfPath(path: string, known: readonly string[]): string {
  const head = path.split(/[.[]/)[0] ?? '';
  if (head === 'evidence' || head.startsWith('file') || head.startsWith('photos')) return 'photos';
  if (head === 'location') return 'address';
  return known.includes(head) ? head : 'form';
}

/** The errors of a refused command, at their fields. */
export function errorsOf(error: DomainError, known: readonly string[], lang: PageLanguage): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.details) errors[fieldOfPath(issue.path, known)] ??= inLanguage(issue.message, lang);
  if (Object.keys(errors).length === 0) errors.form = inLanguage(error.message, lang);
  // A refusal named only by a field the form does not show is said at the top, in full.
  if (errors.form === undefined && !Object.keys(errors).some((f) => known.includes(f) || f === 'photos')) errors.form = inLanguage(error.message, lang);
  return errors;
}

/**
 * Stores the photos a user sent as their uploads (as POST /api/v1/evidence does: type from the
 * content, the user's daily quota) and answers them as evidence references a command resolves.
 */
export async function storePhotos(deps: WebDeps, user: WebUser, photos: readonly Buffer[]): Promise<{ file: string }[]> {
  const refs: { file: string }[] = [];
  for (const [index, bytes] of photos.entries()) {
    const file = await deps.evidence.upload(user.tokenId, Readable.from([bytes]), `photo-${index + 1}`, `evidence[${index}]`);
    refs.push({ file: `sha256:${file.sha256}` });
  }
  return refs;
}

/** The file resolver of a user's commands: their uploads, or files of cases they see. */
export const filesOf = (deps: WebDeps, user: WebUser) => deps.evidence.resolverFor(fileViewerOf(user));

/** The form name of a user's one-time form tokens (each user's are their own). */
export const formOf = (user: WebUser) => `staff:${user.tokenId}`;

/** What a form's sending came to. */
export type Sent = { readonly kind: 'done'; readonly location: string } | { readonly kind: 'refused'; readonly errors: FieldErrors; readonly status: number };

/**
 * Acts once per form token: the first sending runs `act` (its answer: where to go next); a second
 * gets the first one's answer; a refusal (a DomainError: a field to correct, a state that does not
 * allow it) gives the token back and answers the errors at their fields.
 */
export async function actOnce(
  deps: WebDeps,
  user: WebUser,
  form: StaffForm,
  known: readonly string[],
  lang: PageLanguage,
  t: (key: string) => string,
  act: () => Promise<string>,
): Promise<Sent> {
  const claim = await deps.formTokens.claim(formOf(user), form.values.formToken ?? '');
  if (claim.state === 'invalid') return { kind: 'refused', errors: { form: t('staff.expired') }, status: 400 };
  if (claim.state === 'done') return { kind: 'done', location: claim.result };
  try {
    if (form.photoError) {
      await deps.formTokens.release(claim.claim);
      return { kind: 'refused', errors: { photos: t('staff.photosTooMany') }, status: 422 };
    }
    const location = await act();
    await deps.formTokens.complete(claim.claim, location);
    return { kind: 'done', location };
  } catch (error) {
    await deps.formTokens.release(claim.claim);
    if (error instanceof UploadQuotaExceeded) return { kind: 'refused', errors: { photos: t('error.rateLimited') }, status: 429 };
    if (error instanceof DomainError && error.code !== 'not_found') {
      return { kind: 'refused', errors: errorsOf(error, known, lang), status: error.code === 'invalid_input' ? 422 : 409 };
    }
    throw error;
  }
}

/** The page of a case or task the user may not see (or that does not exist): 404, as the API answers. */
export function notFoundPage(kit: PageKit, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const context = pageContext(kit.site, request);
  return sendPage(reply, context, 'error', { message: context.t('staff.notFound'), back: context.user?.role === 'office' ? '/office' : '/inbox' }, 404);
}

/** The signed-in office user of an office page; a department gets a 404 (as if the page did not exist), the public the sign-in page. */
export async function requireOffice(kit: PageKit, deps: WebDeps, request: FastifyRequest, reply: FastifyReply): Promise<WebUser | undefined> {
  const user = await requireUser(kit, deps, request, reply);
  if (!user) return undefined;
  if (user.role !== 'office') {
    notFoundPage(kit, request, reply);
    return undefined;
  }
  return user;
}

/** A refused form of a page listing several: which one, what was typed, the errors at its fields. */
export interface FailedForm {
  readonly id: string;
  readonly values: Record<string, string>;
  readonly lists: Record<string, string[]>;
  readonly errors: FieldErrors;
}

/**
 * A form of the office's pages, sent once: the office only (404 for a department), the CSRF
 * check, then `act` through actOnce (its answer: where to go next); a refusal shows the page again
 * (`show`) with the errors at the form's fields and what was typed.
 */
export async function officeCommand(
  kit: PageKit,
  deps: WebDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  options: {
    readonly formId: string;
    readonly known: readonly string[];
    readonly back: string;
    readonly act: (form: StaffForm, user: WebUser) => Promise<string>;
    readonly show: (user: WebUser, failed: FailedForm, status: number) => Promise<FastifyReply>;
  },
): Promise<FastifyReply> {
  // Who asks first: nobody unknown makes the server read (and hold) a body.
  const user = await requireOffice(kit, deps, request, reply);
  if (!user) return reply;
  const form = await readStaffForm(request);
  const context = pageContext(kit.site, request);
  if (!(await kit.csrfValid(request))) return sendPage(reply, context, 'error', { message: context.t('error.csrf'), back: options.back }, 403);
  const sent = await actOnce(deps, user, form, options.known, context.lang, context.t, () => options.act(form, user));
  if (sent.kind === 'done') return reply.redirect(sent.location, 303);
  return options.show(user, { id: options.formId, values: form.values, lists: form.lists, errors: sent.errors }, sent.status);
}
