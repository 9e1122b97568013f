import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { refreshTokens, sessions, users } from './accounts.tables.ts';

export type Session = typeof sessions.$inferSelect;
export type RefreshToken = typeof refreshTokens.$inferSelect;

export async function insertSession(db: DbOrTx, session: typeof sessions.$inferInsert): Promise<Session> {
  const [row] = await db.insert(sessions).values(session).returning();
  return row!;
}

export async function insertRefreshToken(
  db: DbOrTx,
  token: typeof refreshTokens.$inferInsert,
): Promise<void> {
  await db.insert(refreshTokens).values(token);
}

/** The token row and its session, locked: two refreshes with one token take turns. */
export async function lockRefreshToken(
  db: DbOrTx,
  tokenHash: string,
): Promise<{ token: RefreshToken; session: Session } | undefined> {
  const [row] = await db
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .for('update');
  return row;
}

export async function markRefreshTokenUsed(db: DbOrTx, id: string, at: Date): Promise<void> {
  await db.update(refreshTokens).set({ usedAt: at }).where(eq(refreshTokens.id, id));
}

export async function touchSession(db: DbOrTx, id: string, at: Date): Promise<void> {
  await db.update(sessions).set({ lastUsedAt: at }).where(eq(sessions.id, id));
}

export async function revokeSession(db: DbOrTx, id: string, reason: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: at, revokedReason: reason })
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length > 0;
}

/** Revokes every open session of the user, except `keep` when given. Returns the revoked ids. */
export async function revokeUserSessions(
  db: DbOrTx,
  userId: string,
  reason: string,
  at: Date,
  keep?: string,
): Promise<string[]> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: at, revokedReason: reason })
    .where(
      and(eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined),
    )
    .returning({ id: sessions.id });
  return rows.map((row) => row.id);
}

export interface SessionState {
  readonly revoked: boolean;
  readonly expiresAt: Date;
  readonly userStatus: string;
  readonly roles: string[];
  readonly emailVerified: boolean;
}

/**
 * What the access-token verifier needs to know about sessions, for many at once in one indexed
 * statement (the verifier batches the lookups of concurrent requests).
 */
export async function readSessionStates(
  db: DbOrTx,
  sessionIds: readonly string[],
): Promise<Map<string, SessionState & { userId: string }>> {
  const rows = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      revokedAt: sessions.revokedAt,
      expiresAt: sessions.expiresAt,
      status: users.status,
      roles: users.roles,
      emailVerifiedAt: users.emailVerifiedAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(inArray(sessions.id, [...sessionIds]));
  return new Map(
    rows.map((row) => [
      row.id,
      {
        userId: row.userId,
        revoked: row.revokedAt !== null,
        expiresAt: row.expiresAt,
        userStatus: row.status,
        roles: row.roles,
        emailVerified: row.emailVerifiedAt !== null,
      },
    ]),
  );
}

export async function countOpenSessions(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
  return row?.count ?? 0;
}
