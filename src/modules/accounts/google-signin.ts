import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import type { Tx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { AccountsContext } from './accounts.context.ts';
import { lockUserByEmail } from './google.repo.ts';
import { type ClientInfo, type IssuedTokens, startSession } from './sessions.service.ts';
import { findUserByGoogleSubject, insertUser, normalizeEmail, type User, updateUser } from './users.repo.ts';

registerErrorCodes({
  google_link_requires_verification: 409,
  google_account_mismatch: 409,
});

/** Both spellings appear in Google ID tokens (https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken). */
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];
/** Google's and our clocks drift a little; a token a few seconds "from the future" is not an attack. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** What we take from a verified Google ID token. */
export interface GoogleIdentity {
  readonly subject: string;
  /** Lower-cased. Verified by Google (tokens with `email_verified` other than true are refused). */
  readonly email: string;
  readonly name: string | undefined;
  readonly locale: string | undefined;
}

type RemoteJwks = ReturnType<typeof createRemoteJWKSet>;
/** One resolver per URL for the process: jose caches the keys and refetches on an unknown `kid`. */
const jwksByUrl = new Map<string, RemoteJwks>();

function jwksFor(url: string): RemoteJwks {
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

/** jose errors that say the token is bad, as opposed to Google's key endpoint failing us. */
const TOKEN_ERROR_REASONS: Record<string, string> = {
  [errors.JWTExpired.code]: 'expired',
  [errors.JWTClaimValidationFailed.code]: 'claims',
  [errors.JWSSignatureVerificationFailed.code]: 'signature',
  [errors.JWKSNoMatchingKey.code]: 'signature',
  [errors.JWKSMultipleMatchingKeys.code]: 'signature',
  [errors.JOSEAlgNotAllowed.code]: 'algorithm',
  [errors.JOSENotSupported.code]: 'algorithm',
  [errors.JWSInvalid.code]: 'malformed',
  [errors.JWTInvalid.code]: 'malformed',
};

function invalid(reason: string, message = 'The Google sign-in token is invalid'): AppError {
  return new AppError('google_token_invalid', message, { details: { reason } });
}

/**
 * Verifies a Google ID token as Google prescribes: RS256 signature by a key in Google's JWKS,
 * issuer, audience (our client id), expiry, plus the nonce the client generated for this sign-in
 * (so a token captured elsewhere cannot be replayed here) and a verified email.
 */
export async function verifyGoogleIdToken(options: {
  idToken: string;
  nonce: string;
  clientId: string;
  jwksUrl: string;
  now: Date;
}): Promise<GoogleIdentity> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(options.idToken, jwksFor(options.jwksUrl), {
      algorithms: ['RS256'],
      issuer: GOOGLE_ISSUERS,
      audience: options.clientId,
      currentDate: options.now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['sub', 'email', 'exp', 'iat', 'nonce'],
    }));
  } catch (error) {
    const reason = error instanceof errors.JOSEError ? TOKEN_ERROR_REASONS[error.code] : undefined;
    if (reason) {
      const claim = error instanceof errors.JWTClaimValidationFailed ? error.claim : undefined;
      throw new AppError('google_token_invalid', 'The Google sign-in token is invalid', {
        details: claim ? { reason, claim } : { reason },
      });
    }
    // The JWKS could not be fetched or read: Google's side (or our network), not the user's token.
    throw new AppError('service_unavailable', 'Google sign-in is unavailable; try again shortly', {
      cause: error,
    });
  }
  if (payload.nonce !== options.nonce) throw invalid('nonce');
  if (payload.email_verified !== true) {
    throw invalid('email_not_verified', 'Google has not verified this email address');
  }
  const { sub, email, name, locale } = payload;
  if (typeof sub !== 'string' || sub === '') throw invalid('claims');
  if (typeof email !== 'string' || !email.includes('@')) throw invalid('claims');
  return {
    subject: sub,
    email: normalizeEmail(email),
    name: typeof name === 'string' ? name : undefined,
    locale: typeof locale === 'string' ? locale : undefined,
  };
}

export interface GoogleSignInResult {
  readonly tokens: IssuedTokens;
  readonly user: User;
  /** True when this sign-in created the account. */
  readonly created: boolean;
}

function displayNameFor(identity: GoogleIdentity): string {
  const name = identity.name?.trim();
  return (name || identity.email.split('@')[0] || 'user').slice(0, 100);
}

function assertActive(user: User): void {
  if (user.status !== 'active') throw new AppError('account_deactivated', 'This account is deactivated');
}

/**
 * The account for this Google identity: the one already linked to it; else the local account with
 * its email, linked now; else a new one. Linking needs the local account to be safe to hand over:
 * an unverified email with a password may belong to someone who registered it first to take over
 * the real owner's future account, so that owner must verify the email (or reset the password) first.
 */
async function findOrCreateUser(
  tx: Tx,
  identity: GoogleIdentity,
  now: Date,
): Promise<{ user: User; created: boolean }> {
  // Two attempts: a concurrent first sign-in (or registration) can win the insert race.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const linked = await findUserByGoogleSubject(tx, identity.subject);
    if (linked) {
      assertActive(linked);
      return { user: linked, created: false };
    }
    const existing = await lockUserByEmail(tx, identity.email);
    if (existing) {
      assertActive(existing);
      if (existing.googleSubject) {
        throw new AppError('google_account_mismatch', 'This email is linked to another Google account');
      }
      if (existing.passwordHash && !existing.emailVerifiedAt) {
        throw new AppError(
          'google_link_requires_verification',
          'An account with this email exists; verify its email address or sign in with its password before using Google sign-in',
        );
      }
      const user = await updateUser(tx, existing.id, {
        googleSubject: identity.subject,
        emailVerifiedAt: existing.emailVerifiedAt ?? now,
      });
      return { user: user!, created: false };
    }
    const user = await insertUser(tx, {
      email: identity.email,
      emailVerifiedAt: now,
      passwordHash: null,
      roles: ['buyer'],
      displayName: displayNameFor(identity),
      locale: identity.locale && /^ko(?:[-_]|$)/i.test(identity.locale) ? 'ko' : 'en',
      googleSubject: identity.subject,
    });
    if (user) return { user, created: true };
  }
  throw new AppError('conflict', 'The account changed while signing in; try again');
}

/** Signs in with a Google ID token, creating or linking the account, and opens a session. */
export async function signInWithGoogle(
  context: AccountsContext,
  input: { idToken: string; nonce: string; client: ClientInfo },
): Promise<GoogleSignInResult> {
  const { config, db, clock } = context.services;
  const { clientId, jwksUrl } = config.auth.google;
  if (!clientId) throw new AppError('google_signin_disabled', 'Google sign-in is not enabled');
  // Outside the transaction: a JWKS fetch must not hold a connection (or PGlite's only one).
  const identity = await verifyGoogleIdToken({
    idToken: input.idToken,
    nonce: input.nonce,
    clientId,
    jwksUrl,
    now: clock.now(),
  });
  const attempt = () =>
    db.transaction(async (tx) => {
      const { user, created } = await findOrCreateUser(tx, identity, clock.now());
      const tokens = await startSession(context, tx, user, input.client);
      return { tokens, user, created };
    });
  try {
    return await attempt();
  } catch (error) {
    // Concurrent first sign-ins with one Google account can still collide (seen once in ~6 CI runs
    // on PostgreSQL as a 409): a fresh transaction then finds the winner's row. A genuine mismatch
    // fails the same way again.
    const raced =
      error instanceof AppError && (error.code === 'conflict' || error.code === 'google_account_mismatch');
    if (!raced) throw error;
    return attempt();
  }
}
