import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { AccessTokenVerifier, Principal } from '../../platform/http/principal.ts';
import type { AccessTokens } from './access-tokens.ts';
import { readSessionState, type SessionState } from './sessions.repo.ts';

export interface SessionVerifier extends AccessTokenVerifier {
  /** Drops the cached state so a logout or deactivation on this instance applies at once. */
  forget(sessionId: string): void;
  /** Drops every cached session of a user (email verified, roles changed, deactivated). */
  forgetUser(userId: string): void;
}

const MAX_CACHED = 10_000;

/**
 * Verifies the JWT, then checks its session is still open and the user active, with roles and
 * email verification read fresh from the database (cached for `cacheMs`). A revoked session or a
 * deactivated user stops working within `cacheMs` on other instances, at once on this one.
 */
export function createSessionVerifier(options: {
  accessTokens: AccessTokens;
  db: Db;
  clock: Clock;
  cacheMs?: number;
}): SessionVerifier {
  const { accessTokens, db, clock } = options;
  const cacheMs = options.cacheMs ?? 5000;
  const cache = new Map<string, { userId: string; state: SessionState | undefined; until: number }>();

  async function sessionState(sessionId: string, userId: string): Promise<SessionState | undefined> {
    const now = clock.now().getTime();
    const hit = cache.get(sessionId);
    if (hit && hit.until > now) return hit.state;
    const state = await readSessionState(db, sessionId, userId);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(sessionId, { userId, state, until: now + cacheMs });
    return state;
  }

  return {
    async verify(token) {
      const claims = await accessTokens.verify(token);
      if (!claims) return null;
      const state = await sessionState(claims.sessionId, claims.userId);
      if (!state || state.revoked || state.userStatus !== 'active') return null;
      if (state.expiresAt.getTime() <= clock.now().getTime()) return null;
      const principal: Principal = {
        userId: claims.userId,
        roles: state.roles,
        emailVerified: state.emailVerified,
        sessionId: claims.sessionId,
      };
      return principal;
    },
    forget(sessionId) {
      cache.delete(sessionId);
    },
    forgetUser(userId) {
      for (const [sessionId, entry] of cache) if (entry.userId === userId) cache.delete(sessionId);
    },
  };
}
