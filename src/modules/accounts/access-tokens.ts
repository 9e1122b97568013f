import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Role } from './accounts.tables.ts';
import type { SigningKeys } from './token-keys.ts';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const ACCESS_TOKEN_AUDIENCE = 'caravan-api';

export interface AccessClaims {
  readonly userId: string;
  readonly sessionId: string;
  readonly roles: readonly Role[];
}

export interface AccessTokens {
  issue(claims: AccessClaims): Promise<{ token: string; expiresAt: Date }>;
  /** The claims of a valid token, or null: wrong algorithm, type, issuer, audience, or expired. */
  verify(token: string): Promise<AccessClaims | null>;
}

/**
 * Short-lived JWTs (RFC 9068 style): EdDSA only (the algorithm is pinned on verification, so `none`
 * or an HMAC made with the public key is refused), `typ` at+jwt so a refresh token or an ID token
 * is never taken for one, issuer and audience checked.
 */
export function createAccessTokens(options: {
  keys: SigningKeys;
  issuer: string;
  ttlSeconds: number;
  clock: Clock;
}): AccessTokens {
  const { keys, issuer, ttlSeconds, clock } = options;
  return {
    async issue(claims) {
      const now = Math.floor(clock.now().getTime() / 1000);
      const expiresAt = new Date((now + ttlSeconds) * 1000);
      const token = await new SignJWT({ roles: [...claims.roles], sid: claims.sessionId })
        .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, kid: keys.kid })
        .setIssuer(issuer)
        .setAudience(ACCESS_TOKEN_AUDIENCE)
        .setSubject(claims.userId)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(randomUUID())
        .sign(keys.privateKey);
      return { token, expiresAt };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys.publicKey, {
          algorithms: ['EdDSA'],
          typ: ACCESS_TOKEN_TYPE,
          issuer,
          audience: ACCESS_TOKEN_AUDIENCE,
          currentDate: clock.now(),
          requiredClaims: ['sub', 'exp', 'iat', 'sid'],
        });
        if (
          typeof payload.sub !== 'string' ||
          typeof payload.sid !== 'string' ||
          !Array.isArray(payload.roles)
        ) {
          return null;
        }
        return { userId: payload.sub, sessionId: payload.sid, roles: payload.roles as Role[] };
      } catch {
        return null;
      }
    },
  };
}
