import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';

interface AuditItem {
  id: number;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  requestId: string | null;
}

function build(): Promise<TestApp> {
  return buildTestApp();
}

async function call(
  app: TestApp,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  who?: TestUser,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await app.http.inject({
    method,
    url,
    headers: { ...(who?.headers ?? {}), ...headers },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
  return { status: response.statusCode, body: response.json(), raw: response.body };
}

async function auditFor(app: TestApp, reader: TestUser, userId: string): Promise<AuditItem[]> {
  const response = await call(app, 'GET', `/api/admin/audit?targetType=user&targetId=${userId}`, reader);
  expect(response.status).toBe(200);
  return response.body.items as AuditItem[];
}

/** Whether the token still opens an authenticated route. */
async function tokenWorks(app: TestApp, who: TestUser): Promise<number> {
  return (await call(app, 'GET', '/api/me/notifications', who)).status;
}

describe('staff tools', () => {
  let app: TestApp;
  let staff: TestUser;
  let admin: TestUser;
  let otherAdmin: TestUser;

  beforeAll(async () => {
    app = await build();
    staff = await createUser(app, { roles: ['staff'] });
    admin = await createUser(app, { roles: ['admin', 'staff'] });
    otherAdmin = await createUser(app, { roles: ['admin'] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 401 without a token and 403 to a buyer on every admin route', async () => {
    const buyer = await createUser(app);
    const id = buyer.user.id;
    const routes: ['GET' | 'POST' | 'PUT', string, unknown?][] = [
      ['GET', '/api/admin/users'],
      ['GET', `/api/admin/users/${id}`],
      ['POST', `/api/admin/users/${id}/deactivate`, { reason: 'x' }],
      ['POST', `/api/admin/users/${id}/reactivate`],
      ['PUT', `/api/admin/users/${id}/roles`, { roles: ['buyer'] }],
      ['GET', '/api/admin/audit'],
    ];
    for (const [method, url, payload] of routes) {
      expect((await call(app, method, url, undefined, payload)).status, `${method} ${url}`).toBe(401);
      const forbidden = await call(app, method, url, buyer, payload);
      expect(forbidden.status, `${method} ${url}`).toBe(403);
      expect(forbidden.body.error.code).toBe('forbidden');
    }
  });

  it('searches by email or display name, filters by role and status, and pages by email', async () => {
    const tag = randomUUID().slice(0, 8);
    const a = await createUser(app, { email: `a-${tag}@example.test`, displayName: 'Alice' });
    const b = await createUser(app, { email: `b-${tag}@example.test`, roles: ['seller'] });
    const c = await createUser(app, {
      email: `zed-${randomUUID().slice(0, 8)}@example.test`,
      displayName: `Zed ${tag}`,
    });

    const all = await call(app, 'GET', `/api/admin/users?q=${tag}`, staff);
    expect(all.status).toBe(200);
    expect(all.body.items.map((user: { id: string }) => user.id)).toEqual([a.user.id, b.user.id, c.user.id]);
    expect(all.body.nextAfter).toBeNull();
    // Never a password hash, whatever the schema would allow.
    expect(all.raw).not.toMatch(/passwordHash|argon2/);
    expect(all.body.items[0]).toMatchObject({ status: 'active', hasPassword: true, roles: ['buyer'] });

    const first = await call(app, 'GET', `/api/admin/users?q=${tag}&limit=2`, staff);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextAfter).toBe(b.user.email);
    const second = await call(
      app,
      'GET',
      `/api/admin/users?q=${tag}&limit=2&after=${encodeURIComponent(first.body.nextAfter)}`,
      staff,
    );
    expect(second.body.items.map((user: { id: string }) => user.id)).toEqual([c.user.id]);

    const sellers = await call(app, 'GET', `/api/admin/users?q=${tag}&role=seller`, staff);
    expect(sellers.body.items.map((user: { id: string }) => user.id)).toEqual([b.user.id]);
    const byName = await call(app, 'GET', '/api/admin/users?q=alice', admin);
    expect(byName.body.items.map((user: { id: string }) => user.id)).toContain(a.user.id);

    await call(app, 'POST', `/api/admin/users/${a.user.id}/deactivate`, staff, { reason: 'spam' });
    const deactivated = await call(app, 'GET', `/api/admin/users?q=${tag}&status=deactivated`, staff);
    expect(deactivated.body.items.map((user: { id: string }) => user.id)).toEqual([a.user.id]);

    expect((await call(app, 'GET', '/api/admin/users?role=wizard', staff)).status).toBe(400);
  });

  it('shows one user with the seller profile and open sessions; 404 for an unknown id', async () => {
    const buyer = await createUser(app);
    const detail = await call(app, 'GET', `/api/admin/users/${buyer.user.id}`, staff);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      user: { id: buyer.user.id, email: buyer.user.email, status: 'active' },
      sellerProfile: null,
      openSessions: 1,
    });
    expect(detail.raw).not.toMatch(/passwordHash|argon2/);
    const missing = await call(app, 'GET', `/api/admin/users/${randomUUID()}`, staff);
    expect(missing.status).toBe(404);
    expect((await call(app, 'GET', '/api/admin/users/not-a-uuid', staff)).status).toBe(400);
  });

  it('deactivates at once: the token is refused, refresh fails, and the change is audited', async () => {
    const buyer = await createUser(app);
    expect(await tokenWorks(app, buyer)).toBe(200); // the verifier has now cached the session
    const requestId = `req-${randomUUID()}`;
    const response = await call(
      app,
      'POST',
      `/api/admin/users/${buyer.user.id}/deactivate`,
      staff,
      { reason: 'chargeback fraud' },
      { 'x-request-id': requestId },
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: buyer.user.id, status: 'deactivated' });
    expect(response.raw).not.toMatch(/passwordHash|argon2/);

    expect(await tokenWorks(app, buyer)).toBe(401);
    const refresh = await call(app, 'POST', '/api/auth/refresh', undefined, {
      refreshToken: buyer.refreshToken,
    });
    expect(refresh.status).toBe(401);
    expect(refresh.body.error.code).toBe('invalid_refresh_token');
    const login = await call(app, 'POST', '/api/auth/login', undefined, {
      email: buyer.user.email,
      password: buyer.password,
    });
    expect(login.status).toBe(403);
    expect(login.body.error.code).toBe('account_deactivated');

    const [entry] = await auditFor(app, staff, buyer.user.id);
    expect(entry).toMatchObject({
      actorId: staff.user.id,
      action: 'user.deactivate',
      targetType: 'user',
      targetId: buyer.user.id,
      before: { status: 'active' },
      after: { status: 'deactivated', reason: 'chargeback fraud', revokedSessions: 1 },
      requestId,
    });

    // A second deactivation changes nothing and writes nothing.
    const again = await call(app, 'POST', `/api/admin/users/${buyer.user.id}/deactivate`, staff, {
      reason: 'x',
    });
    expect(again.status).toBe(200);
    expect(await auditFor(app, staff, buyer.user.id)).toHaveLength(1);
  });

  it('reactivates: the account can sign in again, its old sessions stay ended', async () => {
    const buyer = await createUser(app);
    await call(app, 'POST', `/api/admin/users/${buyer.user.id}/deactivate`, staff, { reason: 'review' });
    const response = await call(app, 'POST', `/api/admin/users/${buyer.user.id}/reactivate`, staff);
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('active');
    expect(await tokenWorks(app, buyer)).toBe(401);

    const login = await call(app, 'POST', '/api/auth/login', undefined, {
      email: buyer.user.email,
      password: buyer.password,
    });
    expect(login.status).toBe(200);
    const freshStatus = await app.http.inject({
      method: 'GET',
      url: '/api/me/notifications',
      headers: { authorization: `Bearer ${login.body.accessToken}` },
    });
    expect(freshStatus.statusCode).toBe(200);

    const entries = await auditFor(app, staff, buyer.user.id);
    expect(entries.map((entry) => entry.action)).toEqual(['user.reactivate', 'user.deactivate']);
    expect(entries[0]).toMatchObject({ before: { status: 'deactivated' }, after: { status: 'active' } });
  });

  it('lets only an admin deactivate an admin, and nobody deactivate themselves', async () => {
    const target = await createUser(app, { roles: ['admin'] });
    const byStaff = await call(app, 'POST', `/api/admin/users/${target.user.id}/deactivate`, staff, {
      reason: 'x',
    });
    expect(byStaff.status).toBe(403);
    expect(byStaff.body.error.code).toBe('forbidden');
    expect(await tokenWorks(app, target)).toBe(200);

    const self = await call(app, 'POST', `/api/admin/users/${staff.user.id}/deactivate`, staff, {
      reason: 'x',
    });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('cannot_target_self');

    const byAdmin = await call(app, 'POST', `/api/admin/users/${target.user.id}/deactivate`, admin, {
      reason: 'left the company',
    });
    expect(byAdmin.status).toBe(200);
    expect(await tokenWorks(app, target)).toBe(401);

    const otherStaff = await createUser(app, { roles: ['staff'] });
    const staffByStaff = await call(app, 'POST', `/api/admin/users/${otherStaff.user.id}/deactivate`, staff, {
      reason: 'rotation',
    });
    expect(staffByStaff.status).toBe(200);
    const missingReason = await call(
      app,
      'POST',
      `/api/admin/users/${otherStaff.user.id}/deactivate`,
      staff,
      {},
    );
    expect(missingReason.status).toBe(400);
  });

  it('changes roles (admin only), takes effect at once, and audits before and after', async () => {
    const buyer = await createUser(app);
    const refused = await call(app, 'PUT', `/api/admin/users/${buyer.user.id}/roles`, staff, {
      roles: ['staff'],
    });
    expect(refused.status).toBe(403);
    expect(await call(app, 'GET', '/api/admin/users', buyer).then((r) => r.status)).toBe(403);

    const changed = await call(app, 'PUT', `/api/admin/users/${buyer.user.id}/roles`, admin, {
      roles: ['staff', 'buyer', 'staff'],
    });
    expect(changed.status).toBe(200);
    expect(changed.body.roles).toEqual(['buyer', 'staff']);
    // The verifier reads roles fresh; the cached ones were dropped, so the new role applies now.
    expect(await call(app, 'GET', '/api/admin/users', buyer).then((r) => r.status)).toBe(200);

    const [entry] = await auditFor(app, admin, buyer.user.id);
    expect(entry).toMatchObject({
      actorId: admin.user.id,
      action: 'user.set_roles',
      before: { roles: ['buyer'] },
      after: { roles: ['buyer', 'staff'] },
    });

    const invalid = await call(app, 'PUT', `/api/admin/users/${buyer.user.id}/roles`, admin, {
      roles: ['root'],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('validation_failed');
    const empty = await call(app, 'PUT', `/api/admin/users/${buyer.user.id}/roles`, admin, { roles: [] });
    expect(empty.status).toBe(400);
    const missing = await call(app, 'PUT', `/api/admin/users/${randomUUID()}/roles`, admin, {
      roles: ['buyer'],
    });
    expect(missing.status).toBe(404);
  });

  it('refuses removing your own admin role, but another admin may do it', async () => {
    const self = await call(app, 'PUT', `/api/admin/users/${admin.user.id}/roles`, admin, {
      roles: ['staff'],
    });
    expect(self.status).toBe(409);
    expect(self.body.error.code).toBe('cannot_target_self');
    // Adding a role to yourself is fine.
    const seller = await call(app, 'PUT', `/api/admin/users/${admin.user.id}/roles`, admin, {
      roles: ['admin', 'staff', 'seller'],
    });
    expect(seller.status).toBe(200);

    const demoted = await call(app, 'PUT', `/api/admin/users/${otherAdmin.user.id}/roles`, admin, {
      roles: ['buyer'],
    });
    expect(demoted.status).toBe(200);
    expect(await call(app, 'GET', '/api/admin/users', otherAdmin).then((r) => r.status)).toBe(403);
  });
});

describe('the last active admin', () => {
  let app: TestApp;
  afterAll(async () => {
    await app?.close();
  });

  it('cannot lose the admin role, and two admins demoting each other at once leave one admin', async () => {
    app = await build();
    const only = await createUser(app, { roles: ['admin'] });
    const lone = await call(app, 'PUT', `/api/admin/users/${only.user.id}/roles`, only, { roles: ['buyer'] });
    expect(lone.status).toBe(409);
    expect(lone.body.error.code).toBe('last_admin');

    const second = await createUser(app, { roles: ['admin'] });
    const results = await Promise.all([
      call(app, 'PUT', `/api/admin/users/${second.user.id}/roles`, only, { roles: ['buyer'] }),
      call(app, 'PUT', `/api/admin/users/${only.user.id}/roles`, second, { roles: ['buyer'] }),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 403]);
    const admins = await call(
      app,
      'GET',
      '/api/admin/users?role=admin&status=active',
      results[0]!.status === 200 ? only : second,
    );
    expect(admins.body.items).toHaveLength(1);
  });
});
