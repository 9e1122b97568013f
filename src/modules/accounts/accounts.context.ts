import { registerErrorCodes } from '../../platform/errors/index.ts';
import { createFailureCounter, type FailureCounter } from '../../platform/security/failure-counter.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { type AccessTokens, createAccessTokens } from './access-tokens.ts';
import { type CaptchaVerifier, captchaTokenFrom, createCaptchaVerifier } from './captcha.ts';
import { createPasswordHasher, type PasswordHasher } from './passwords.ts';
import { createSessionVerifier, type SessionVerifier } from './session-verifier.ts';
import { loadSigningKeys } from './token-keys.ts';

registerErrorCodes({
  invalid_credentials: 401,
  invalid_refresh_token: 401,
  refresh_token_reused: 401,
  account_deactivated: 403,
  email_taken: 409,
  invalid_token: 400,
  captcha_required: 400,
  captcha_failed: 400,
  google_signin_disabled: 400,
  google_token_invalid: 401,
  resend_too_soon: 429,
  last_admin: 409,
});

/** What the accounts module builds once per process on top of the platform. */
export interface AccountsContext {
  readonly services: PlatformServices;
  readonly passwords: PasswordHasher;
  readonly accessTokens: AccessTokens;
  readonly verifier: SessionVerifier;
  readonly loginFailures: { readonly account: FailureCounter; readonly ip: FailureCounter };
  /** Turnstile on register, login and password reset; a no-op without TURNSTILE_SECRET. */
  readonly captcha: CaptchaVerifier;
  readonly captchaTokenFrom: typeof captchaTokenFrom;
}

const contexts = new WeakMap<PlatformServices, AccountsContext>();

export async function createAccountsContext(services: PlatformServices): Promise<AccountsContext> {
  const { config, clock } = services;
  const keys = await loadSigningKeys(config.auth.jwtPrivateKey, config.dataDir);
  const accessTokens = createAccessTokens({
    keys,
    issuer: config.server.publicUrl,
    ttlSeconds: config.auth.accessTokenTtlSeconds,
    clock,
  });
  const { login } = config.auth;
  const context: AccountsContext = {
    services,
    passwords: createPasswordHasher(config.auth.argon2),
    accessTokens,
    verifier: createSessionVerifier({ accessTokens, db: services.db, clock }),
    captcha: createCaptchaVerifier(config.auth.turnstile),
    captchaTokenFrom,
    loginFailures: {
      account: createFailureCounter(
        {
          scope: 'login:account',
          maxFailures: login.maxFailures,
          windowSeconds: login.windowSeconds,
          lockoutSeconds: login.lockoutSeconds,
        },
        clock,
      ),
      ip: createFailureCounter(
        {
          scope: 'login:ip',
          maxFailures: login.ipMaxFailures,
          windowSeconds: login.windowSeconds,
          lockoutSeconds: login.lockoutSeconds,
        },
        clock,
      ),
    },
  };
  contexts.set(services, context);
  return context;
}

/** The context for these services (jobs and routes reach it through the services they are given). */
export function accountsContext(services: PlatformServices): AccountsContext {
  const context = contexts.get(services);
  if (!context) throw new Error('The accounts module is not set up for these services');
  return context;
}
