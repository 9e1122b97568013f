import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../../test/factories/users.ts';
import { type FakeGoogle, startFakeGoogle } from '../../../test/fakes/google-jwks.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { AppError } from '../../platform/errors/index.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { accountsContext } from './accounts.context.ts';
import { verifyGoogleIdToken } from './google-signin.ts';
import { accountsModule } from './index.ts';
import { findUserByEmail, findUserById, insertUser, updateUser } from './users.repo.ts';

describe('Google sign-in', () => {
  let fake: FakeGoogle;
  let app: TestApp;

  beforeAll(async () => {
    fake = await startFakeGoogle({ clientId: 'client-123' });
    app = await buildTestApp({
      modules: [notifyModule, accountsModule],
      env: { GOOGLE_CLIENT_ID: 'client-123', GOOGLE_JWKS_URL: fake.jwksUrl },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  function signIn(body: Record<string, unknown>) {
    return app.http.inject({
      method: 'POST',
      url: '/api/auth/google',
      headers: { 'user-agent': 'google-test' },
      payload: body,
    });
  }

  /** A fresh Google identity: its own subject and email. */
  function identity(overrides: Record<string, unknown> = {}) {
    const id = randomUUID().slice(0, 8);
    return { sub: `1${Date.now()}${id.replace(/\D/g, '')}`, email: `g-${id}@gmail.test`, ...overrides };
  }

  async function signInAs(claims: Record<string, unknown>) {
    const nonce = randomUUID();
    const idToken = await fake.mintIdToken({ ...claims, nonce });
    return signIn({ idToken, nonce });
  }

  it('creates a verified, password-less buyer and signs it in', async () => {
    const claims = identity({ name: 'Kim Minji', locale: 'ko' });
    const response = await signInAs(claims);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: app.config.auth.accessTokenTtlSeconds,
      refreshToken: expect.any(String),
      created: true,
      user: {
        email: claims.email,
        displayName: 'Kim Minji',
        roles: ['buyer'],
        emailVerified: true,
        hasPassword: false,
        googleLinked: true,
      },
    });

    const stored = await findUserById(app.platform.db, body.user.id);
    expect(stored).toMatchObject({
      googleSubject: claims.sub,
      locale: 'ko',
      passwordHash: null,
      status: 'active',
    });
    expect(stored!.emailVerifiedAt).toBeInstanceOf(Date);

    // The access token works on a protected route, and its principal is this user.
    const protectedRoute = await app.http.inject({
      method: 'GET',
      url: '/api/me/notifications',
      headers: { authorization: `Bearer ${body.accessToken}` },
    });
    expect(protectedRoute.statusCode).toBe(200);
    const principal = await accountsContext(app.platform).verifier.verify(body.accessToken);
    expect(principal).toMatchObject({ userId: body.user.id, roles: ['buyer'], emailVerified: true });
  });

  it('signs the same Google account into the same user the second time', async () => {
    const claims = identity({ name: 'Repeat Person' });
    const first = (await signInAs(claims)).json();
    const second = await signInAs({ ...claims, name: 'Renamed At Google' });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({
      created: false,
      user: { id: first.user.id, displayName: 'Repeat Person' },
    });
    expect(second.json().accessToken).not.toBe(first.accessToken);
  });

  it('creates one account when the first two sign-ins race', async () => {
    const claims = identity();
    const responses = await Promise.all([signInAs(claims), signInAs(claims), signInAs(claims)]);
    expect(
      responses.map((response) => response.statusCode),
      responses.map((response) => response.body).join(' | '),
    ).toEqual([200, 200, 200]);
    const bodies = responses.map((response) => response.json());
    expect(new Set(bodies.map((body) => body.user.id)).size).toBe(1);
    expect(bodies.filter((body) => body.created)).toHaveLength(1);
  });

  it('names a user without a name claim after the email’s local part, in English', async () => {
    const claims = identity({ name: undefined, locale: 'fr' });
    const body = (await signInAs(claims)).json();
    expect(body.user.displayName).toBe(claims.email.split('@')[0]);
    expect(body.user.locale).toBe('en');
  });

  it('links an existing verified local account with the same email (any case)', async () => {
    const local = await createUser(app, { email: `local-${randomUUID().slice(0, 8)}@example.test` });
    const claims = identity({ email: local.user.email.toUpperCase() });
    const response = await signInAs(claims);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      created: false,
      user: { id: local.user.id, email: local.user.email, hasPassword: true, googleLinked: true },
    });
    const stored = await findUserById(app.platform.db, local.user.id);
    expect(stored!.googleSubject).toBe(claims.sub);
    // The password still works alongside Google: linking changed nothing else.
    expect(stored!.passwordHash).toBe(local.user.passwordHash);
  });

  it('links a password-less unverified account and marks its email verified', async () => {
    const email = `invited-${randomUUID().slice(0, 8)}@example.test`;
    const invited = await insertUser(app.platform.db, {
      email,
      displayName: 'Invited',
      emailVerifiedAt: null,
    });
    const response = await signInAs(identity({ email }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ created: false, user: { id: invited!.id, emailVerified: true } });
  });

  it('refuses to link an account with a password and an unverified email (pre-registration takeover)', async () => {
    const squatter = await createUser(app, { verified: false });
    const claims = identity({ email: squatter.user.email });
    const response = await signInAs(claims);
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('google_link_requires_verification');
    const stored = await findUserById(app.platform.db, squatter.user.id);
    expect(stored).toMatchObject({ googleSubject: null, emailVerifiedAt: null });
  });

  it('refuses an email already linked to another Google account', async () => {
    const claims = identity();
    await signInAs(claims);
    const response = await signInAs({ ...claims, sub: `${claims.sub}9` });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('google_account_mismatch');
  });

  it('refuses deactivated accounts, linked or not', async () => {
    const claims = identity();
    const linked = (await signInAs(claims)).json();
    await updateUser(app.platform.db, linked.user.id, { status: 'deactivated' });
    const byLink = await signInAs(claims);
    expect(byLink.statusCode).toBe(403);
    expect(byLink.json().error.code).toBe('account_deactivated');

    const local = await createUser(app);
    await updateUser(app.platform.db, local.user.id, { status: 'deactivated' });
    const byEmail = await signInAs(identity({ email: local.user.email }));
    expect(byEmail.statusCode).toBe(403);
    expect(byEmail.json().error.code).toBe('account_deactivated');
    expect((await findUserById(app.platform.db, local.user.id))!.googleSubject).toBeNull();
  });

  it('accepts the issuer without https://, as Google documents', async () => {
    const response = await signInAs(identity({ iss: 'accounts.google.com' }));
    expect(response.statusCode).toBe(200);
  });

  it('fetches Google’s keys once and reuses them', async () => {
    await signInAs(identity());
    const fetched = fake.jwksRequests();
    expect(fetched).toBeGreaterThanOrEqual(1);
    await signInAs(identity());
    await signInAs(identity());
    expect(fake.jwksRequests()).toBe(fetched);
  });

  describe('refuses tokens that are not Google’s word for this sign-in', () => {
    async function expectRefused(
      idToken: Promise<string> | string,
      nonce: string,
      email: string,
      reason: Record<string, unknown>,
    ) {
      const response = await signIn({ idToken: await idToken, nonce });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toMatchObject({ code: 'google_token_invalid', details: reason });
      expect(await findUserByEmail(app.platform.db, email)).toBeUndefined();
    }

    it('for another audience', async () => {
      const claims = identity({ nonce: 'n', aud: 'someone-elses-client' });
      await expectRefused(fake.mintIdToken(claims), 'n', claims.email, { reason: 'claims', claim: 'aud' });
    });

    it('from another issuer', async () => {
      const claims = identity({ nonce: 'n', iss: 'https://evil.example' });
      await expectRefused(fake.mintIdToken(claims), 'n', claims.email, { reason: 'claims', claim: 'iss' });
    });

    it('expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      const claims = identity({ nonce: 'n', iat: now - 7200, exp: now - 3600 });
      await expectRefused(fake.mintIdToken(claims), 'n', claims.email, { reason: 'expired' });
    });

    it('with an email Google has not verified', async () => {
      const claims = identity({ nonce: 'n', email_verified: false });
      await expectRefused(fake.mintIdToken(claims), 'n', claims.email, { reason: 'email_not_verified' });
      const stringly = identity({ nonce: 'n', email_verified: 'true' });
      await expectRefused(fake.mintIdToken(stringly), 'n', stringly.email, { reason: 'email_not_verified' });
    });

    it('with another nonce than the client’s', async () => {
      const claims = identity({ nonce: 'nonce-of-another-sign-in' });
      await expectRefused(fake.mintIdToken(claims), 'my-nonce', claims.email, { reason: 'nonce' });
    });

    it('without a nonce claim', async () => {
      const claims = identity({ nonce: undefined });
      await expectRefused(fake.mintIdToken(claims), 'my-nonce', claims.email, {
        reason: 'claims',
        claim: 'nonce',
      });
    });

    it('without an email claim', async () => {
      const claims = identity({ nonce: 'n' });
      await expectRefused(fake.mintIdToken({ ...claims, email: undefined }), 'n', claims.email, {
        reason: 'claims',
        claim: 'email',
      });
    });

    it('signed by a key Google never published, with or without Google’s kid', async () => {
      const claims = identity({ nonce: 'n' });
      await expectRefused(fake.mintIdToken(claims, { key: fake.attackerKey }), 'n', claims.email, {
        reason: 'signature',
      });
      await expectRefused(
        fake.mintIdToken(claims, { key: fake.attackerKey, kid: 'attacker-kid' }),
        'n',
        claims.email,
        { reason: 'signature' },
      );
    });

    it('unsigned (alg none) or HMAC-signed with Google’s public key (HS256)', async () => {
      const claims = identity({ nonce: 'n' });
      await expectRefused(fake.mintIdToken(claims, { alg: 'none' }), 'n', claims.email, {
        reason: 'algorithm',
      });
      await expectRefused(fake.mintIdToken(claims, { alg: 'HS256' }), 'n', claims.email, {
        reason: 'algorithm',
      });
    });

    it('with a tampered payload', async () => {
      const claims = identity({ nonce: 'n' });
      const [header, , signature] = (await fake.mintIdToken(claims)).split('.');
      const forged = Buffer.from(JSON.stringify({ ...claims, email: 'victim@example.test' })).toString(
        'base64url',
      );
      await expectRefused(`${header}.${forged}.${signature}`, 'n', 'victim@example.test', {
        reason: 'signature',
      });
    });
  });

  it('requires the client’s nonce in the request', async () => {
    const idToken = await fake.mintIdToken(identity({ nonce: 'n' }));
    const response = await signIn({ idToken });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      code: 'validation_failed',
      fields: [expect.objectContaining({ field: 'body.nonce' })],
    });
  });

  it('answers 503 when Google’s keys cannot be fetched', async () => {
    const gone = await startFakeGoogle();
    await gone.close();
    const error = await verifyGoogleIdToken({
      idToken: await gone.mintIdToken({ nonce: 'n' }),
      nonce: 'n',
      clientId: gone.clientId,
      jwksUrl: gone.jwksUrl,
      now: new Date(),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('service_unavailable');
    expect((error as AppError).status).toBe(503);
  });
});

describe('Google sign-in without a client id', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp({ modules: [notifyModule, accountsModule], startJobs: false });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('is disabled', async () => {
    const response = await app.http.inject({
      method: 'POST',
      url: '/api/auth/google',
      payload: { idToken: 'x.y.z', nonce: 'n' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('google_signin_disabled');
  });
});
