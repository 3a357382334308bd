import type { TokenTable } from './schema';
import type { Executor } from './database';

export async function insertToken(db: Executor, row: TokenTable): Promise<void> {
  await db.insertInto('tokens').values(row).execute();
}

/** The live (not revoked) token with this hash. */
export async function findLiveTokenByHash(db: Executor, tokenHash: string): Promise<TokenTable | undefined> {
  return db
    .selectFrom('tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function markTokenUsed(db: Executor, id: string, now: string): Promise<void> {
  await db.updateTable('tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

/** Revokes a token; false when no live token has that id. */
export async function revokeToken(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function listTokens(db: Executor): Promise<Omit<TokenTable, 'token_hash'>[]> {
  return db
    .selectFrom('tokens')
    .select(['id', 'name', 'role', 'department_code', 'created_at', 'revoked_at', 'last_used_at'])
    .orderBy('created_at')
    .execute();
}
