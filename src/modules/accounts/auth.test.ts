import { hash } from '@node-rs/argon2';
import { eq } from 'drizzle-orm';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFromEmail, waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser } from '../../../test/factories/users.ts';
import { type FakeTurnstile, startFakeTurnstile } from '../../../test/fakes/turnstile-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { users } from './accounts.tables.ts';
import { accountsModule } from './index.ts';

const modules = [notifyModule, accountsModule];

async function registerUser(app: TestApp, email: string, password = 'a long enough password') {
  const response = await app.http.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email, password, displayName: 'Tester', locale: 'en' },
  });
  expect(response.statusCode).toBe(201);
  return response.json() as {
    accessToken: string;
    refreshToken: string;
    user: { id: string; emailVerified: boolean };
  };
}

function auth(token: string) {
  return { authorization: `Bearer ${token}` };
}

describe('registration, verification and sessions', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules });
  });
  afterAll(() => app?.close());

  it('registers unverified, emails a link, and gates verified-only actions until it is opened', async () => {
    const signedUp = await registerUser(app, 'Minji@Example.test');
    expect(signedUp.user.emailVerified).toBe(false);
    const me = await app.http.inject({ url: '/api/me', headers: auth(signedUp.accessToken) });
    expect(me.json().user.email).toBe('minji@example.test');

    const gated = await app.http.inject({
      method: 'PUT',
      url: '/api/me/seller-profile',
      headers: auth(signedUp.accessToken),
      payload: { shopName: 'Minji Shop' },
    });
    expect(gated.statusCode).toBe(403);
    expect(gated.json().error.code).toBe('email_not_verified');

    const email = await waitForEmail(app, 'minji@example.test', 'accounts.verify-email');
    const token = tokenFromEmail(email.bodyText);
    const verified = await app.http.inject({
      method: 'POST',
      url: '/api/auth/verify-email',
      payload: { token },
    });
    expect(verified.json().user.emailVerified).toBe(true);
    const again = await app.http.inject({
      method: 'POST',
      url: '/api/auth/verify-email',
      payload: { token },
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('invalid_token');

    const opened = await app.http.inject({
      method: 'PUT',
      url: '/api/me/seller-profile',
      headers: auth(signedUp.accessToken),
      payload: { shopName: 'Minji Shop' },
    });
    expect(opened.statusCode).toBe(200);
    expect(opened.json().user.roles).toEqual(['buyer', 'seller']);
  });

  it('refuses a second account with the same email, whatever its case', async () => {
    await registerUser(app, 'dup@example.test');
    const second = await app.http.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: 'DUP@example.test', password: 'another long password', displayName: 'Dup' },
    });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('email_taken');
  });

  it('rate limits verification resends', async () => {
    const signedUp = await registerUser(app, 'resend@example.test');
    const resend = await app.http.inject({
      method: 'POST',
      url: '/api/auth/verify-email/resend',
      headers: auth(signedUp.accessToken),
    });
    expect(resend.statusCode).toBe(429);
    expect(resend.json().error.code).toBe('resend_too_soon');
    expect(Number(resend.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rotates refresh tokens; reusing one revokes the whole family', async () => {
    const signedUp = await registerUser(app, 'rotate@example.test');
    const first = await app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: signedUp.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    const rotated = first.json() as { accessToken: string; refreshToken: string };
    expect(rotated.refreshToken).not.toBe(signedUp.refreshToken);

    const reuse = await app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: signedUp.refreshToken },
    });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().error.code).toBe('refresh_token_reused');

    const afterReuse = await app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: rotated.refreshToken },
    });
    expect(afterReuse.statusCode).toBe(401);
    expect((await app.http.inject({ url: '/api/me', headers: auth(rotated.accessToken) })).statusCode).toBe(
      401,
    );
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const signedUp = await registerUser(app, 'race@example.test');
    const results = await Promise.all(
      [1, 2].map(() =>
        app.http.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          payload: { refreshToken: signedUp.refreshToken },
        }),
      ),
    );
    expect(results.map((result) => result.statusCode).sort()).toEqual([200, 401]);
  });

  it('logout revokes the session and its refresh token', async () => {
    const signedUp = await registerUser(app, 'logout@example.test');
    const out = await app.http.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: auth(signedUp.accessToken),
    });
    expect(out.statusCode).toBe(204);
    expect((await app.http.inject({ url: '/api/me', headers: auth(signedUp.accessToken) })).statusCode).toBe(
      401,
    );
    const refresh = await app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: signedUp.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('ignores role, emailVerified and id in a profile update', async () => {
    const victim = await createUser(app);
    const user = await createUser(app, { verified: false });
    const response = await app.http.inject({
      method: 'PATCH',
      url: '/api/me',
      headers: user.headers,
      payload: {
        displayName: 'New Name',
        roles: ['admin'],
        role: 'admin',
        emailVerified: true,
        id: victim.user.id,
      },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().user).toMatchObject({
      id: user.user.id,
      displayName: 'New Name',
      roles: ['buyer'],
      emailVerified: false,
    });
    const [untouched] = await app.platform.db.select().from(users).where(eq(users.id, victim.user.id));
    expect(untouched?.displayName).toBe(victim.user.displayName);
  });

  it('validates profile fields', async () => {
    const user = await createUser(app);
    const badZone = await app.http.inject({
      method: 'PATCH',
      url: '/api/me',
      headers: user.headers,
      payload: { timeZone: 'Mars/Base' },
    });
    expect(badZone.statusCode).toBe(400);
    const badPhone = await app.http.inject({
      method: 'PATCH',
      url: '/api/me',
      headers: user.headers,
      payload: { phone: '0101234' },
    });
    expect(badPhone.json().error.fields[0].field).toContain('phone');
  });

  it('resets a password through the emailed single-use link and signs out every session', async () => {
    const user = await createUser(app, { email: 'reset@example.test' });
    const asked = await app.http.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: 'reset@example.test' },
    });
    expect(asked.statusCode).toBe(202);
    const unknown = await app.http.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: 'nobody@example.test' },
    });
    expect(unknown.statusCode).toBe(202);
    const token = tokenFromEmail(
      (await waitForEmail(app, 'reset@example.test', 'accounts.password-reset')).bodyText,
    );
    const reset = await app.http.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token, newPassword: 'a brand new passphrase' },
    });
    expect(reset.statusCode).toBe(204);
    expect((await app.http.inject({ url: '/api/me', headers: user.headers })).statusCode).toBe(401);
    const reused = await app.http.inject({
      method: 'POST',
      url: '/api/auth/password/reset',
      payload: { token, newPassword: 'yet another passphrase' },
    });
    expect(reused.json().error.code).toBe('invalid_token');
    const login = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'reset@example.test', password: 'a brand new passphrase' },
    });
    expect(login.statusCode).toBe(200);
  });

  it('changing the password revokes the other sessions and keeps this one', async () => {
    const user = await createUser(app, { email: 'change@example.test', password: 'the first passphrase' });
    const other = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'change@example.test', password: 'the first passphrase' },
    });
    const otherToken = other.json().accessToken as string;
    const wrong = await app.http.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: user.headers,
      payload: { currentPassword: 'not it at all', newPassword: 'the second passphrase' },
    });
    expect(wrong.statusCode).toBe(401);
    const changed = await app.http.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: user.headers,
      payload: { currentPassword: 'the first passphrase', newPassword: 'the second passphrase' },
    });
    expect(changed.statusCode).toBe(204);
    expect((await app.http.inject({ url: '/api/me', headers: user.headers })).statusCode).toBe(200);
    expect((await app.http.inject({ url: '/api/me', headers: auth(otherToken) })).statusCode).toBe(401);
  });

  it('hashes with argon2id at the configured cost and rehashes older hashes at login', async () => {
    const user = await createUser(app, { email: 'rehash@example.test', password: 'the rehash passphrase' });
    expect(user.user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const weaker = await hash('the rehash passphrase', {
      algorithm: 2,
      memoryCost: 19456,
      timeCost: 3,
      parallelism: 1,
    });
    await app.platform.db.update(users).set({ passwordHash: weaker }).where(eq(users.id, user.user.id));
    const login = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: 'rehash@example.test', password: 'the rehash passphrase' },
    });
    expect(login.statusCode).toBe(200);
    const [row] = await app.platform.db.select().from(users).where(eq(users.id, user.user.id));
    expect(row?.passwordHash).toMatch(/m=19456,t=2,p=1/);
  });
});

describe('access tokens', () => {
  let app: TestApp;
  const clock = createFakeClock(new Date());
  beforeAll(async () => {
    app = await buildTestApp({ modules, clock });
  });
  afterAll(() => app?.close());

  async function forge(
    header: Record<string, unknown>,
    claims: Record<string, unknown>,
    sign: 'none' | Uint8Array,
  ) {
    const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
    if (sign === 'none') return `${encode(header)}.${encode(claims)}.`;
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(sign);
  }

  it('refuses tokens with alg none, another algorithm, wrong aud or iss, an expired exp, or a refresh token', async () => {
    const user = await createUser(app);
    expect((await app.http.inject({ url: '/api/me', headers: user.headers })).statusCode).toBe(200);
    const [, payloadPart] = user.accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payloadPart!, 'base64url').toString()) as Record<string, unknown>;

    const attempts = [
      await forge({ alg: 'none', typ: 'at+jwt' }, claims, 'none'),
      await forge(
        { alg: 'HS256', typ: 'at+jwt' },
        claims,
        new TextEncoder().encode('guessed-secret-guessed-secret-32'),
      ),
      user.accessToken.replace(
        payloadPart!,
        base64url.encode(JSON.stringify({ ...claims, aud: 'someone-else' })),
      ),
      user.accessToken.replace(
        payloadPart!,
        base64url.encode(JSON.stringify({ ...claims, iss: 'https://evil.test' })),
      ),
      user.refreshToken,
    ];
    for (const token of attempts) {
      const response = await app.http.inject({ url: '/api/me', headers: auth(token) });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('unauthenticated');
    }

    clock.advance(16 * 60_000);
    expect((await app.http.inject({ url: '/api/me', headers: user.headers })).statusCode).toBe(401);
  });
});

describe('login lockout', () => {
  let app: TestApp;
  const clock = createFakeClock(new Date());
  beforeAll(async () => {
    app = await buildTestApp({
      modules,
      clock,
      env: { LOGIN_MAX_FAILURES: '3', LOGIN_FAILURE_WINDOW_SECONDS: '600', LOGIN_LOCKOUT_SECONDS: '300' },
    });
  });
  afterAll(() => app?.close());

  const attempt = (password: string, remoteAddress = '10.9.8.7') =>
    app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress,
      payload: { email: 'locked@example.test', password },
    });

  it('locks the account after N failures with 429 and Retry-After, then releases it after the lockout', async () => {
    await createUser(app, { email: 'locked@example.test', password: 'the right passphrase' });
    for (let i = 0; i < 3; i++) expect((await attempt('wrong passphrase')).statusCode).toBe(401);
    const locked = await attempt('the right passphrase');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('too_many_attempts');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The lock is on the account, not the address: another address is locked out too.
    expect((await attempt('the right passphrase', '10.1.1.1')).statusCode).toBe(429);

    clock.advance(301_000);
    expect((await attempt('the right passphrase')).statusCode).toBe(200);
  });

  it('locks out a client address that fails across many accounts', async () => {
    const spray = (email: string) =>
      app.http.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '10.77.77.77',
        payload: { email, password: 'password spraying' },
      });
    // LOGIN_IP_MAX_FAILURES is 50 by default; each email fails only once, so no account locks.
    for (let i = 0; i < 50; i++) expect((await spray(`victim-${i}@example.test`)).statusCode).toBe(401);
    const blocked = await spray('victim-51@example.test');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.details.scope).toBe('login:ip');
  });

  it('does not tell unknown emails from wrong passwords', async () => {
    const unknown = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      remoteAddress: '10.2.2.2',
      payload: { email: 'ghost@example.test', password: 'whatever it is' },
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error.code).toBe('invalid_credentials');
  });
});

describe('bot protection on the auth routes', () => {
  let app: TestApp;
  let turnstile: FakeTurnstile;
  beforeAll(async () => {
    turnstile = await startFakeTurnstile();
    app = await buildTestApp({
      modules,
      env: { TURNSTILE_SECRET: turnstile.secret, TURNSTILE_VERIFY_URL: turnstile.verifyUrl },
    });
  });
  afterAll(async () => {
    await app?.close();
    await turnstile?.close();
  });

  it('requires a valid Turnstile token on register, login and password reset when configured', async () => {
    const payload = { email: 'bot@example.test', password: 'a long enough password', displayName: 'Bot' };
    const missing = await app.http.inject({ method: 'POST', url: '/api/auth/register', payload });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('captcha_required');
    const failed = await app.http.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { ...payload, captchaToken: 'fail-1' },
    });
    expect(failed.json().error.code).toBe('captcha_failed');
    const passed = await app.http.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { ...payload, captchaToken: 'pass-1' },
    });
    expect(passed.statusCode).toBe(201);

    const login = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: payload.email, password: payload.password },
    });
    expect(login.json().error.code).toBe('captcha_required');
    const loginWithHeader = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'cf-turnstile-response': 'pass-2' },
      payload: { email: payload.email, password: payload.password },
    });
    expect(loginWithHeader.statusCode).toBe(200);
    const forgot = await app.http.inject({
      method: 'POST',
      url: '/api/auth/password/forgot',
      payload: { email: payload.email },
    });
    expect(forgot.json().error.code).toBe('captcha_required');
  });
});
