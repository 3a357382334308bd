import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../domain/case.schema';
import type { Principal, TokenService } from '../services/token.service';

/** The cookie that keeps a signed-in user's session. */
export const sessionCookie = 'duban_session';

/** How long a session lasts without signing in again. */
export const sessionMaxAgeSeconds = 12 * 3600;

/** A signed-in token holder, as the pages know them. */
export type WebUser = Extract<Principal, { kind: 'token' }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user of a page, once `requireUser` found them (undefined otherwise). */
    webUser?: WebUser | undefined;
  }
}

/** Who acts, as the case service records it on the timeline (the same as api/auth.ts actorOf). */
export function actorOfUser(user: WebUser): Actor {
  return user.role === 'office'
    ? { role: 'office', name: user.name }
    : { role: 'department', department: user.department!, name: user.name };
}

/**
 * Sessions of the pages. The cookie holds the user's API token sealed with AES-256-GCM under a key
 * derived from the installation's key (DUBAN_SECRET_KEY or the data directory's key file), with the
 * time it was sealed: nobody can read the token out of the cookie (not a script: HttpOnly; not
 * whoever copies the cookie file: it is encrypted) nor make one up. Nothing is stored on the
 * server, and every request authenticates the token again (token.service.ts), so a revoked token
 * ends its sessions at once. A session older than `sessionMaxAgeSeconds` is refused.
 */
export function createSessions(deps: { secretKey: () => string; tokens: TokenService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  let key: Buffer | undefined;
  const sealingKey = () => (key ??= crypto.createHmac('sha256', deps.secretKey()).update('duban web sessions').digest());

  function seal(token: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', sealingKey(), iv);
    const plain = Buffer.from(JSON.stringify({ t: token, at: now().getTime() }), 'utf8');
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return `v1.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
  }

  /** The token a cookie holds, if this installation sealed it less than the maximum age ago. */
  function open(cookie: string | undefined): string | undefined {
    if (!cookie?.startsWith('v1.')) return undefined;
    const bytes = Buffer.from(cookie.slice(3), 'base64url');
    if (bytes.length < 29) return undefined;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', sealingKey(), bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
      const { t, at } = JSON.parse(plain) as { t?: unknown; at?: unknown };
      if (typeof t !== 'string' || typeof at !== 'number') return undefined;
      const age = now().getTime() - at;
      return age >= -60_000 && age <= sessionMaxAgeSeconds * 1000 ? t : undefined;
    } catch {
      return undefined;
    }
  }

  return {
    /** The token holder `token` stands for (unknown or revoked: undefined). */
    async signIn(token: string): Promise<{ user: WebUser; cookie: string } | undefined> {
      const principal = await deps.tokens.authenticate(token.trim());
      if (principal?.kind !== 'token') return undefined;
      return { user: principal, cookie: seal(token.trim()) };
    },
    /** The signed-in user of this request, checked against the tokens now. */
    async userOf(request: FastifyRequest): Promise<WebUser | undefined> {
      const token = open(request.cookies[sessionCookie]);
      if (!token) return undefined;
      const principal = await deps.tokens.authenticate(token);
      return principal?.kind === 'token' ? principal : undefined;
    },
  };
}
export type Sessions = ReturnType<typeof createSessions>;
