import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { listAudit, recordAudit } from '../../platform/audit/audit.ts';
import { insertInApp } from '../../platform/notify/notify.repo.ts';
import { accountsContext } from './accounts.context.ts';
import { addresses, avatarJobs, sellerProfiles, sessions } from './accounts.tables.ts';
import { hashToken } from './secure-tokens.ts';
import { refreshSession } from './sessions.service.ts';
import { findUserById, updateUser, upsertSellerProfile } from './users.repo.ts';

/** Gives the user one of everything the export covers. */
async function furnish(app: TestApp, who: TestUser, tag: string): Promise<void> {
  const { db } = app.platform;
  const userId = who.user.id;
  await upsertSellerProfile(db, userId, { shopName: `Shop ${tag}`, about: `About ${tag}` });
  await db.insert(addresses).values({
    userId,
    label: 'home',
    recipientName: `Recipient ${tag}`,
    phone: '+82 10 1234 5678',
    line1: `1 ${tag} street`,
    postalCode: '04524',
    countryCode: 'KR',
    provinceId: 101,
    cityName: 'Seoul',
  });
  await insertInApp(db, {
    userId,
    template: 'platform.test',
    title: `Hello ${tag}`,
    body: 'body',
    dedupeKey: `privacy-${randomUUID()}`,
  });
  await db.insert(avatarJobs).values({ userId, prompt: `a fox, ${tag}`, generator: 'local' });
  await db.transaction((tx) =>
    recordAudit(tx, {
      actorId: null,
      action: 'user.test_change',
      targetType: 'user',
      targetId: userId,
      before: { bio: '' },
      after: { bio: tag },
    }),
  );
}

async function tokenStatus(app: TestApp, who: TestUser): Promise<number> {
  return (await app.http.inject({ url: '/api/me/notifications', headers: who.headers })).statusCode;
}

function deleteMe(app: TestApp, who: TestUser, payload: Record<string, unknown>) {
  return app.http.inject({ method: 'DELETE', url: '/api/me', headers: who.headers, payload });
}

describe('privacy: export and delete my account', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('exports my data as a download, without secrets and without anyone else’s data', async () => {
    const me = await createUser(app);
    const other = await createUser(app);
    const myTag = `mine-${randomUUID().slice(0, 8)}`;
    const otherTag = `theirs-${randomUUID().slice(0, 8)}`;
    await furnish(app, me, myTag);
    await furnish(app, other, otherTag);

    expect((await app.http.inject({ url: '/api/me/export' })).statusCode).toBe(401);
    const response = await app.http.inject({ url: '/api/me/export', headers: me.headers });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toMatch(
      /^attachment; filename="caravan-export-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    const data = response.json();
    expect(data.profile).toMatchObject({
      id: me.user.id,
      email: me.user.email,
      status: 'active',
      hasPassword: true,
    });
    expect(data.sellerProfile).toMatchObject({ shopName: `Shop ${myTag}`, about: `About ${myTag}` });
    expect(data.addresses).toHaveLength(1);
    expect(data.addresses[0]).toMatchObject({
      line1: `1 ${myTag} street`,
      countryCode: 'KR',
      provinceId: 101,
    });
    expect(data.sessions).toHaveLength(1);
    expect(data.sessions[0]).toMatchObject({ id: me.sessionId, userAgent: 'factory', revokedAt: null });
    expect(data.notifications.map((n: { title: string }) => n.title)).toEqual([`Hello ${myTag}`]);
    expect(data.avatarJobs.map((job: { prompt: string }) => job.prompt)).toEqual([`a fox, ${myTag}`]);
    expect(data.auditLog).toEqual([
      expect.objectContaining({ action: 'user.test_change', before: { bio: '' }, after: { bio: myTag } }),
    ]);

    const raw = response.body;
    expect(raw).not.toContain(other.user.id);
    expect(raw).not.toContain(other.user.email);
    expect(raw).not.toContain(otherTag);
    expect(raw).not.toMatch(/passwordHash|tokenHash|argon2/);
    expect(raw).not.toContain(hashToken(me.refreshToken));
    expect(raw).not.toContain(me.refreshToken);
  });

  it('refuses to delete without the right password or the confirmation word', async () => {
    const me = await createUser(app);
    const wrong = await deleteMe(app, me, { password: 'not my password', confirm: 'DELETE' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');
    const missing = await deleteMe(app, me, { confirm: 'DELETE' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.fields).toEqual([expect.objectContaining({ field: 'body.password' })]);
    const unconfirmed = await deleteMe(app, me, { password: me.password, confirm: 'yes' });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.json().error.code).toBe('validation_failed');
    expect(
      (await app.http.inject({ method: 'DELETE', url: '/api/me', payload: { confirm: 'DELETE' } }))
        .statusCode,
    ).toBe(401);

    expect((await findUserById(app.platform.db, me.user.id))!.status).toBe('active');
    expect(await tokenStatus(app, me)).toBe(200);
  });

  it('anonymizes in one go: personal data gone, sessions ended, email free, audited', async () => {
    const { db } = app.platform;
    const email = `leaving-${randomUUID().slice(0, 8)}@example.test`;
    const me = await createUser(app, { email, displayName: 'Leaving Lee' });
    await updateUser(db, me.user.id, {
      bio: 'I like foxes',
      phone: '+1 555 0100',
      avatarKey: 'avatars/x.png',
    });
    await furnish(app, me, 'deleting');
    const context = accountsContext(app.platform);
    const second = await refreshSession(context, me.refreshToken); // a live, rotated session
    expect(await tokenStatus(app, me)).toBe(200);

    const response = await deleteMe(app, me, { password: me.password, confirm: 'DELETE' });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');

    expect(await tokenStatus(app, me)).toBe(401);
    const refresh = await app.http.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      payload: { refreshToken: second.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
    expect(refresh.json().error.code).toBe('invalid_refresh_token');

    const row = (await findUserById(db, me.user.id))!;
    expect(row).toMatchObject({
      displayName: 'Deleted user',
      bio: '',
      phone: null,
      avatarKey: null,
      googleSubject: null,
      passwordHash: null,
      status: 'deleted',
    });
    expect(row.email).toMatch(/^deleted-[0-9a-f-]{36}@deleted\.invalid$/);
    expect(row.deletedAt).toBeInstanceOf(Date);
    expect(await db.select().from(addresses).where(eq(addresses.userId, me.user.id))).toEqual([]);
    expect(await db.select().from(avatarJobs).where(eq(avatarJobs.userId, me.user.id))).toEqual([]);
    const [profile] = await db.select().from(sellerProfiles).where(eq(sellerProfiles.userId, me.user.id));
    expect(profile).toMatchObject({ about: '', shopName: 'Shop deleting' });
    const open = (await db.select().from(sessions).where(eq(sessions.userId, me.user.id))).filter(
      (session) => session.revokedAt === null,
    );
    expect(open).toEqual([]);

    const [entry] = await listAudit(db, { targetType: 'user', targetId: me.user.id, limit: 1 });
    expect(entry).toMatchObject({
      actorId: me.user.id,
      action: 'user.delete',
      before: { status: 'active' },
      after: { status: 'deleted', addressesDeleted: 1, sessionsRevoked: 1, sellerProfileBlanked: true },
    });
    // The audit row outlives the erasure, so it must not carry what was erased.
    expect(JSON.stringify(entry)).not.toMatch(/Leaving Lee|foxes|555 0100|leaving-/);

    // The email is free again.
    const again = await app.http.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email, password: 'a brand new passphrase', displayName: 'Lee again' },
    });
    expect(again.statusCode).toBe(201);
    expect(again.json().user.id).not.toBe(me.user.id);
    const oldLogin = await app.http.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: me.password },
    });
    expect(oldLogin.statusCode).toBe(401);
  });

  it('deletes an account without a password (Google sign-in only) on the confirmation word alone', async () => {
    const me = await createUser(app);
    await updateUser(app.platform.db, me.user.id, { passwordHash: null, googleSubject: `g-${randomUUID()}` });
    const response = await deleteMe(app, me, { confirm: 'DELETE' });
    expect(response.statusCode).toBe(204);
    const row = (await findUserById(app.platform.db, me.user.id))!;
    expect(row).toMatchObject({ status: 'deleted', googleSubject: null });
  });

  it('shows a deleted account to staff as deleted, and staff tools leave it alone', async () => {
    const staff = await createUser(app, { roles: ['staff'] });
    const me = await createUser(app);
    expect((await deleteMe(app, me, { password: me.password, confirm: 'DELETE' })).statusCode).toBe(204);
    const detail = await app.http.inject({ url: `/api/admin/users/${me.user.id}`, headers: staff.headers });
    expect(detail.json().user).toMatchObject({
      status: 'deleted',
      displayName: 'Deleted user',
      hasPassword: false,
    });
    const reactivate = await app.http.inject({
      method: 'POST',
      url: `/api/admin/users/${me.user.id}/reactivate`,
      headers: staff.headers,
    });
    expect(reactivate.statusCode).toBe(409);
    expect(reactivate.json().error.code).toBe('user_deleted');
  });
});

describe('deleting the last admin', () => {
  let app: TestApp;
  afterAll(async () => {
    await app?.close();
  });

  it('is refused with last_admin', async () => {
    app = await buildTestApp();
    const admin = await createUser(app, { roles: ['admin'] });
    const response = await deleteMe(app, admin, { password: admin.password, confirm: 'DELETE' });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('last_admin');
    expect((await findUserById(app.platform.db, admin.user.id))!.status).toBe('active');
  });
});
