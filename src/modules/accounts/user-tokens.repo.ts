import { and, desc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { userTokens } from './accounts.tables.ts';

export type UserTokenPurpose = (typeof userTokens.$inferSelect)['purpose'];
export type UserToken = typeof userTokens.$inferSelect;

export async function insertUserToken(db: DbOrTx, token: typeof userTokens.$inferInsert): Promise<void> {
  await db.insert(userTokens).values(token);
}

/** Marks the token used if it is unused and unexpired; returns it, or undefined. Single use. */
export async function consumeUserToken(
  db: DbOrTx,
  purpose: UserTokenPurpose,
  tokenHash: string,
  now: Date,
): Promise<UserToken | undefined> {
  const [row] = await db
    .update(userTokens)
    .set({ usedAt: now })
    .where(
      and(eq(userTokens.tokenHash, tokenHash), eq(userTokens.purpose, purpose), isNull(userTokens.usedAt)),
    )
    .returning();
  if (!row || row.expiresAt <= now) return undefined;
  return row;
}

export async function latestUserToken(
  db: DbOrTx,
  userId: string,
  purpose: UserTokenPurpose,
): Promise<UserToken | undefined> {
  const [row] = await db
    .select()
    .from(userTokens)
    .where(and(eq(userTokens.userId, userId), eq(userTokens.purpose, purpose)))
    .orderBy(desc(userTokens.createdAt))
    .limit(1);
  return row;
}

/** Voids the user's other unused tokens of this purpose (a new reset link kills older ones). */
export async function voidUserTokens(
  db: DbOrTx,
  userId: string,
  purpose: UserTokenPurpose,
  now: Date,
): Promise<void> {
  await db
    .update(userTokens)
    .set({ usedAt: now })
    .where(and(eq(userTokens.userId, userId), eq(userTokens.purpose, purpose), isNull(userTokens.usedAt)));
}
