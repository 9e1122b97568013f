import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import { hashToken, newOpaqueToken } from './secure-tokens.ts';
import {
  insertRefreshToken,
  insertSession,
  lockRefreshToken,
  markRefreshTokenUsed,
  revokeSession,
  touchSession,
} from './sessions.repo.ts';
import { findUserById, type User } from './users.repo.ts';

export interface IssuedTokens {
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly accessTokenExpiresAt: Date;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: Date;
  readonly sessionId: string;
}

export interface ClientInfo {
  readonly userAgent?: string | undefined;
  readonly ip?: string | undefined;
}

async function issue(
  context: AccountsContext,
  db: DbOrTx,
  user: User,
  sessionId: string,
  sessionExpiresAt: Date,
): Promise<IssuedTokens> {
  const refreshToken = newOpaqueToken();
  await insertRefreshToken(db, {
    sessionId,
    tokenHash: hashToken(refreshToken),
    expiresAt: sessionExpiresAt,
  });
  const access = await context.accessTokens.issue({ userId: user.id, sessionId, roles: user.roles });
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: context.services.config.auth.accessTokenTtlSeconds,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken,
    refreshTokenExpiresAt: sessionExpiresAt,
    sessionId,
  };
}

/** Opens a session (a refresh-token family) for a user who just proved who they are. */
export async function startSession(
  context: AccountsContext,
  db: DbOrTx,
  user: User,
  client: ClientInfo,
): Promise<IssuedTokens> {
  const now = context.services.clock.now();
  const expiresAt = new Date(now.getTime() + context.services.config.auth.refreshTokenTtlDays * 86_400_000);
  const session = await insertSession(db, {
    userId: user.id,
    userAgent: client.userAgent?.slice(0, 500) ?? null,
    ip: client.ip ?? null,
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
  });
  return issue(context, db, user, session.id, expiresAt);
}

/**
 * Rotates a refresh token. A token presented a second time means it leaked (or a client raced
 * itself): the whole family is revoked, so the thief's copy dies with the owner's.
 */
export async function refreshSession(
  context: AccountsContext,
  refreshToken: string,
): Promise<IssuedTokens & { user: User }> {
  const { db, clock } = context.services;
  const outcome = await db.transaction(async (tx) => {
    const now = clock.now();
    const found = await lockRefreshToken(tx, hashToken(refreshToken));
    if (!found) return { error: 'invalid_refresh_token' as const };
    const { token, session } = found;
    if (token.usedAt) {
      await revokeSession(tx, session.id, 'refresh token reused', now);
      return { error: 'refresh_token_reused' as const, sessionId: session.id };
    }
    if (session.revokedAt || session.expiresAt <= now || token.expiresAt <= now) {
      return { error: 'invalid_refresh_token' as const };
    }
    const user = await findUserById(tx, session.userId);
    if (user?.status !== 'active') return { error: 'invalid_refresh_token' as const };
    await markRefreshTokenUsed(tx, token.id, now);
    await touchSession(tx, session.id, now);
    return { tokens: { ...(await issue(context, tx, user, session.id, session.expiresAt)), user } };
  });
  // The revocation above must commit, so the error is thrown only after the transaction.
  if (!outcome.tokens) {
    if (outcome.sessionId) context.verifier.forget(outcome.sessionId);
    throw new AppError(
      outcome.error ?? 'invalid_refresh_token',
      outcome.error === 'refresh_token_reused'
        ? 'This refresh token was already used; the session has been ended for safety'
        : 'The refresh token is invalid or expired',
    );
  }
  return outcome.tokens;
}

export async function endSession(context: AccountsContext, sessionId: string, reason: string): Promise<void> {
  await revokeSession(context.services.db, sessionId, reason, context.services.clock.now());
  context.verifier.forget(sessionId);
}
