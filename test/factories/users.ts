import { randomUUID } from 'node:crypto';
import { accountsContext } from '../../src/modules/accounts/accounts.context.ts';
import type { Role } from '../../src/modules/accounts/accounts.tables.ts';
import { startSession } from '../../src/modules/accounts/sessions.service.ts';
import { insertUser, type User } from '../../src/modules/accounts/users.repo.ts';
import type { TestApp } from '../harness/build-test-app.ts';

export interface TestUser {
  readonly user: User;
  readonly password: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly sessionId: string;
  /** `{ authorization: 'Bearer …' }` for app.http.inject. */
  readonly headers: Record<string, string>;
}

/** A user straight in the database (no emails, no captcha), signed in with a real session. */
export async function createUser(
  app: TestApp,
  options: {
    email?: string;
    password?: string;
    roles?: Role[];
    verified?: boolean;
    displayName?: string;
  } = {},
): Promise<TestUser> {
  const context = accountsContext(app.platform);
  const password = options.password ?? `pw-${randomUUID()}`;
  const email = options.email ?? `user-${randomUUID().slice(0, 8)}@example.test`;
  const user = await insertUser(app.platform.db, {
    email: email.toLowerCase(),
    passwordHash: await context.passwords.hash(password),
    roles: options.roles ?? ['buyer'],
    displayName: options.displayName ?? email.split('@')[0]!,
    emailVerifiedAt: options.verified === false ? null : new Date(),
  });
  if (!user) throw new Error(`could not create ${email}`);
  const tokens = await startSession(context, app.platform.db, user, { userAgent: 'factory' });
  return {
    user,
    password,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    sessionId: tokens.sessionId,
    headers: { authorization: `Bearer ${tokens.accessToken}` },
  };
}

export type SendArgs = [
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'GET',
  url: string,
  user?: TestUser,
  payload?: object,
];

/** `app.http.inject` as `user` (anonymous when omitted), with an optional JSON body. */
export function sendAs(app: TestApp, ...[method, url, user, payload]: SendArgs) {
  return app.http.inject({
    method,
    url,
    ...(user ? { headers: user.headers } : {}),
    ...(payload ? { payload } : {}),
  });
}
