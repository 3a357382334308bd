import crypto from 'node:crypto';
import { z } from 'zod';
import { departmentCodeSchema } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { parseInput } from '../domain/validation';
import type { Db } from '../db/database';
import { findDepartment } from '../db/department.repository';
import { findLiveTokenByHash, insertToken, listTokens, markTokenUsed, revokeToken } from '../db/token.repository';

/** Who calls the API: a token holder (office or one department), or the public. */
export type Principal =
  | { readonly kind: 'token'; readonly tokenId: string; readonly role: 'office' | 'department'; readonly department: string | null; readonly name: string }
  | { readonly kind: 'public' };

export const tokenInputSchema = z
  .object({
    role: z.enum(['office', 'department']),
    department: departmentCodeSchema.optional(),
    name: z.string().trim().min(1).max(100),
  })
  .strict()
  .refine((t) => (t.role === 'department') === (t.department !== undefined), {
    message: '部门令牌须且只能指定部门 / a department token, and only one, names its department (--dept)',
    path: ['department'],
  });

const hash = (token: string): string => crypto.createHash('sha256').update(token).digest('hex');

/**
 * API bearer tokens. A token is 256 random bits, shown once at creation; only its SHA-256 is
 * stored (a fast hash is enough for secrets this long: there is nothing to guess).
 */
export function createTokenService(deps: { db: Db; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    async create(input: unknown): Promise<{ id: string; token: string; role: string; department: string | null; name: string }> {
      const parsed = parseInput(tokenInputSchema, input, 'token');
      if (parsed.department && !(await findDepartment(deps.db, parsed.department))?.active) {
        throw new DomainError('invalid_input', `部门 ${parsed.department} 不存在 / unknown department ${parsed.department}`, [
          { path: 'department', message: 'unknown or inactive department' },
        ]);
      }
      const id = `tok_${crypto.randomBytes(6).toString('base64url')}`;
      const token = `dbn_${crypto.randomBytes(32).toString('base64url')}`;
      await insertToken(deps.db, {
        id,
        name: parsed.name,
        role: parsed.role,
        department_code: parsed.department ?? null,
        token_hash: hash(token),
        created_at: now().toISOString(),
        revoked_at: null,
        last_used_at: null,
      });
      return { id, token, role: parsed.role, department: parsed.department ?? null, name: parsed.name };
    },

    /** The principal a bearer token stands for; undefined when it is unknown or revoked. */
    async authenticate(token: string): Promise<Principal | undefined> {
      if (!/^dbn_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
      const row = await findLiveTokenByHash(deps.db, hash(token));
      if (!row) return undefined;
      const at = now();
      // Kept roughly (to the hour) so that reading the API does not write on every request.
      if (!row.last_used_at || at.getTime() - Date.parse(row.last_used_at) > 3_600_000) {
        await markTokenUsed(deps.db, row.id, at.toISOString());
      }
      return {
        kind: 'token',
        tokenId: row.id,
        role: row.role as 'office' | 'department',
        department: row.department_code,
        name: row.name,
      };
    },

    async revoke(id: string): Promise<void> {
      if (!(await revokeToken(deps.db, id, now().toISOString()))) {
        throw new DomainError('not_found', `没有有效的令牌 ${id} / no live token ${id}`);
      }
    },

    list: () => listTokens(deps.db),
  };
}
export type TokenService = ReturnType<typeof createTokenService>;
