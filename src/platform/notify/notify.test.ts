import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtpServer, startFakeSmtpServer } from '../../../test/fakes/smtp-server.ts';
import { type FakeTwilio, startFakeTwilio } from '../../../test/fakes/twilio-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { bearer, testAuthModule } from '../../../test/harness/test-auth.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { notifyModule } from './index.ts';

async function outboundRows(app: TestApp, recipient: string) {
  const result = (await app.platform.db.execute(
    sql`select status, transport, subject, body_text from outbound_messages where recipient = ${recipient}`,
  )) as unknown as {
    rows: { status: string; transport: string; subject: string | null; body_text: string }[];
  };
  return result.rows;
}

describe('notifications through real SMTP and the Twilio SDK', () => {
  let smtp: FakeSmtpServer;
  let twilio: FakeTwilio;
  let app: TestApp;

  beforeAll(async () => {
    smtp = await startFakeSmtpServer();
    twilio = await startFakeTwilio();
    app = await buildTestApp({
      modules: [testAuthModule, notifyModule],
      env: {
        SMTP_URL: smtp.url,
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: '+15005550006',
        TWILIO_API_BASE_URL: twilio.baseUrl,
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
    await twilio?.close();
  });

  it('delivers an email sent by a job to the SMTP server, once, only after commit', async () => {
    const { db, notifier } = app.platform;
    await expect(
      db.transaction(async (tx) => {
        await notifier.notify(tx, {
          template: 'platform.test',
          data: {},
          to: { email: 'rolled-back@example.test' },
          dedupeKey: 'rollback-case',
        });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');

    await db.transaction((tx) =>
      notifier.notify(tx, {
        template: 'platform.test',
        data: {},
        locale: 'ko',
        to: { email: 'buyer@example.test' },
        dedupeKey: 'ops-check-1',
      }),
    );
    const mail = await smtp.waitForMessage((message) => message.to.includes('buyer@example.test'), 10_000);
    expect(mail.subject).toBe('Caravan 테스트 메시지');
    expect(mail.text).toContain('발송이 정상입니다');
    await waitFor(async () => (await outboundRows(app, 'buyer@example.test'))[0]?.status === 'sent');

    // The same business event again: no second email.
    await notifier.notify(db, {
      template: 'platform.test',
      data: {},
      locale: 'ko',
      to: { email: 'buyer@example.test' },
      dedupeKey: 'ops-check-1',
    });
    await waitFor(async () => {
      const result = (await db.execute(
        sql`select count(*)::int as open from pgboss.job where name = 'notify.email' and state not in ('completed')`,
      )) as unknown as { rows: { open: number }[] };
      return result.rows[0]?.open === 0;
    });
    expect(smtp.messages.filter((message) => message.to.includes('buyer@example.test'))).toHaveLength(1);
    expect(smtp.messages.some((message) => message.to.includes('rolled-back@example.test'))).toBe(false);
  });

  it('sends an SMS through the Twilio SDK to the loopback fake', async () => {
    await app.platform.notifier.notify(app.platform.db, {
      template: 'platform.test',
      data: {},
      to: { phone: '+821012345678' },
      dedupeKey: 'sms-check-1',
    });
    const row = await waitFor(async () => {
      const [found] = await outboundRows(app, '+821012345678');
      return found?.status === 'sent' ? found : undefined;
    });
    expect(row.transport).toBe('twilio');
    expect(twilio.messages.some((message) => message.to === '+821012345678')).toBe(true);
  });

  it('dead-letters an SMS the carrier refuses permanently instead of retrying it', async () => {
    await app.platform.notifier.notify(app.platform.db, {
      template: 'platform.test',
      data: {},
      to: { phone: '+15005550001' },
      dedupeKey: 'sms-invalid',
    });
    await waitFor(async () => {
      const result = (await app.platform.db.execute(
        sql`select count(*)::int as count from pgboss.job where name = 'notify.sms.dead'`,
      )) as unknown as { rows: { count: number }[] };
      return result.rows[0]?.count === 1;
    });
    expect((await outboundRows(app, '+15005550001'))[0]?.status).toBe('failed');
  });
});

describe('local channels (no vendor configured)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules: [testAuthModule, notifyModule] });
  });
  afterAll(() => app?.close());

  it('keeps emails in the local mailbox, readable by staff only', async () => {
    await app.platform.notifier.notify(app.platform.db, {
      template: 'platform.test',
      data: {},
      to: { email: 'local@example.test' },
      dedupeKey: 'local-1',
    });
    await waitFor(async () => (await outboundRows(app, 'local@example.test'))[0]?.status === 'stored');
    const list = await app.http.inject({
      url: '/api/admin/outbox?channel=email&recipient=local@example.test',
      headers: bearer('staff-1', 'staff'),
    });
    expect(list.statusCode).toBe(200);
    const [message] = list.json().items;
    expect(message).toMatchObject({
      subject: 'Test message from Caravan',
      transport: 'local',
      status: 'stored',
    });
    const one = await app.http.inject({
      url: `/api/admin/outbox/${message.id}`,
      headers: bearer('staff-1', 'staff'),
    });
    expect(one.json().bodyHtml).toContain('<p>');
    const buyer = await app.http.inject({ url: '/api/admin/outbox', headers: bearer('buyer-1') });
    expect(buyer.statusCode).toBe(403);
    expect((await app.http.inject({ url: '/api/admin/outbox' })).statusCode).toBe(401);
  });

  it('stores in-app notifications per user; a user reads and marks only their own', async () => {
    await app.platform.notifier.notify(app.platform.db, {
      template: 'platform.test',
      data: {},
      to: { userId: 'user-a' },
      dedupeKey: 'in-app-1',
    });
    const inbox = await waitFor(async () => {
      const response = await app.http.inject({ url: '/api/me/notifications', headers: bearer('user-a') });
      const body = response.json() as { items: { id: string }[]; unread: number };
      return body.items.length === 1 ? body : undefined;
    });
    expect(inbox.unread).toBe(1);
    const id = inbox.items[0]!.id;
    const other = await app.http.inject({
      method: 'POST',
      url: `/api/me/notifications/${id}/read`,
      headers: bearer('user-b'),
    });
    expect(other.statusCode).toBe(404);
    const mine = await app.http.inject({
      method: 'POST',
      url: `/api/me/notifications/${id}/read`,
      headers: bearer('user-a'),
    });
    expect(mine.statusCode).toBe(204);
    const after = await app.http.inject({ url: '/api/me/notifications', headers: bearer('user-a') });
    expect(after.json().unread).toBe(0);
    const empty = await app.http.inject({ url: '/api/me/notifications', headers: bearer('user-b') });
    expect(empty.json().items).toEqual([]);
  });
});
