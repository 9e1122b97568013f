import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { listAudit, REDACTED, recordAudit, redactForAudit } from './audit.ts';

describe('redactForAudit', () => {
  it('replaces secret values, keeps nulls, and makes the value JSON-safe', () => {
    const at = new Date('2026-03-01T12:00:00Z');
    expect(
      redactForAudit({
        passwordHash: '$argon2id$v=19$…',
        password_hash: 'x',
        refreshToken: 'abc',
        nested: { apiKey: 'k', clientSecret: 's', name: 'kept' },
        list: [{ tokenHash: 'h', n: 1 }],
        googleSubject: null,
        passwordChangedAt: null,
        at,
        big: 12n,
        skipped: undefined,
      }),
    ).toEqual({
      passwordHash: REDACTED,
      password_hash: REDACTED,
      refreshToken: REDACTED,
      nested: { apiKey: REDACTED, clientSecret: REDACTED, name: 'kept' },
      list: [{ tokenHash: REDACTED, n: 1 }],
      googleSubject: null,
      passwordChangedAt: null,
      at: '2026-03-01T12:00:00.000Z',
      big: '12',
    });
  });
});

describe('the audit log', () => {
  let app: TestApp;
  let staff: TestUser;

  beforeAll(async () => {
    app = await buildTestApp();
    staff = await createUser(app, { roles: ['staff'] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('writes a row only when the caller’s transaction commits, with secrets redacted', async () => {
    const { db } = app.platform;
    const targetId = randomUUID();
    await expect(
      db.transaction(async (tx) => {
        await recordAudit(tx, {
          actorId: null,
          action: 'test.rolled_back',
          targetType: 'thing',
          targetId,
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await listAudit(db, { targetType: 'thing', targetId, limit: 10 })).toEqual([]);

    await db.transaction((tx) =>
      recordAudit(tx, {
        actorId: staff.user.id,
        action: 'thing.update',
        targetType: 'thing',
        targetId,
        before: { name: 'old', passwordHash: '$argon2id$secret' },
        after: { name: 'new', passwordHash: null },
        requestId: 'req-1',
      }),
    );
    const [row] = await listAudit(db, { targetType: 'thing', targetId, limit: 10 });
    expect(row).toMatchObject({
      actorId: staff.user.id,
      action: 'thing.update',
      before: { name: 'old', passwordHash: REDACTED },
      after: { name: 'new', passwordHash: null },
      requestId: 'req-1',
    });
    expect(JSON.stringify(row)).not.toContain('argon2');
  });

  it('lists entries for staff, newest first, filtered by target or actor, in pages', async () => {
    const { db } = app.platform;
    const targetId = randomUUID();
    const actor = randomUUID();
    await db.transaction(async (tx) => {
      for (let n = 1; n <= 5; n++) {
        await recordAudit(tx, {
          actorId: n === 3 ? actor : staff.user.id,
          action: `thing.step${n}`,
          targetType: 'widget',
          targetId,
          after: { n },
        });
      }
    });
    await db.transaction((tx) =>
      recordAudit(tx, {
        actorId: actor,
        action: 'other.touch',
        targetType: 'gadget',
        targetId: randomUUID(),
      }),
    );

    const url = `/api/admin/audit?targetType=widget&targetId=${targetId}`;
    const first = await app.http.inject({ url: `${url}&limit=2`, headers: staff.headers });
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.items.map((item: { action: string }) => item.action)).toEqual([
      'thing.step5',
      'thing.step4',
    ]);
    expect(page1.nextBefore).toBe(page1.items[1].id);
    expect(page1.items[0]).toMatchObject({ targetType: 'widget', targetId, after: { n: 5 }, before: null });

    const rest = await app.http.inject({
      url: `${url}&limit=10&before=${page1.nextBefore}`,
      headers: staff.headers,
    });
    expect(rest.json().items.map((item: { action: string }) => item.action)).toEqual([
      'thing.step3',
      'thing.step2',
      'thing.step1',
    ]);
    expect(rest.json().nextBefore).toBeNull();

    const byActor = await app.http.inject({
      url: `/api/admin/audit?actorId=${actor}`,
      headers: staff.headers,
    });
    expect(byActor.json().items.map((item: { action: string }) => item.action)).toEqual([
      'other.touch',
      'thing.step3',
    ]);
  });

  it('is for staff only', async () => {
    const buyer = await createUser(app);
    expect((await app.http.inject({ url: '/api/admin/audit' })).statusCode).toBe(401);
    expect((await app.http.inject({ url: '/api/admin/audit', headers: buyer.headers })).statusCode).toBe(403);
    const admin = await createUser(app, { roles: ['admin'] });
    expect((await app.http.inject({ url: '/api/admin/audit', headers: admin.headers })).statusCode).toBe(200);
    expect(
      (await app.http.inject({ url: '/api/admin/audit?before=zero', headers: staff.headers })).statusCode,
    ).toBe(400);
  });
});
