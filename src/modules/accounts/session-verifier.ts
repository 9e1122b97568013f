import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import type { AccessTokenVerifier, Principal } from '../../platform/http/principal.ts';
import type { AccessTokens } from './access-tokens.ts';
import { readSessionStates, type SessionState } from './sessions.repo.ts';

export interface SessionVerifier extends AccessTokenVerifier {
  /** Drops the cached state so a logout or deactivation on this instance applies at once. */
  forget(sessionId: string): void;
  /** Drops every cached session of a user (email verified, roles changed, deactivated). */
  forgetUser(userId: string): void;
}

const MAX_CACHED = 10_000;
const MAX_BATCH = 500;

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

  // Lookups of concurrent requests share one statement: while a batch is in flight the next one
  // gathers, so a burst of N new sessions costs a handful of queries instead of N (measured in the
  // flash-sale bench, where 2,000 first requests otherwise queue 2,000 lookups ahead of the work).
  type Waiter = { resolve: (state: SessionState | undefined) => void; reject: (error: unknown) => void };
  let gathering = new Map<string, { userId: string; waiters: Waiter[] }>();
  let flushing = false;

  async function flush(): Promise<void> {
    if (flushing || gathering.size === 0) return;
    flushing = true;
    const batch = gathering;
    gathering = new Map();
    try {
      const ids = [...batch.keys()];
      const states = new Map<string, SessionState & { userId: string }>();
      for (let from = 0; from < ids.length; from += MAX_BATCH) {
        for (const [id, state] of await readSessionStates(db, ids.slice(from, from + MAX_BATCH)))
          states.set(id, state);
      }
      const until = clock.now().getTime() + cacheMs;
      for (const [sessionId, { userId, waiters }] of batch) {
        const found = states.get(sessionId);
        // A token whose session belongs to someone else is not that session.
        const state = found && found.userId === userId ? found : undefined;
        if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
        cache.set(sessionId, { userId, state, until });
        for (const waiter of waiters) waiter.resolve(state);
      }
    } catch (error) {
      for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.reject(error);
    } finally {
      flushing = false;
      if (gathering.size > 0) setImmediate(() => void flush());
    }
  }

  function sessionState(sessionId: string, userId: string): Promise<SessionState | undefined> {
    const hit = cache.get(sessionId);
    if (hit && hit.until > clock.now().getTime() && hit.userId === userId) return Promise.resolve(hit.state);
    return new Promise((resolve, reject) => {
      const pending = gathering.get(sessionId);
      if (pending && pending.userId === userId) pending.waiters.push({ resolve, reject });
      else if (pending) resolve(undefined);
      else {
        gathering.set(sessionId, { userId, waiters: [{ resolve, reject }] });
        if (gathering.size === 1) setImmediate(() => void flush());
      }
    });
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
