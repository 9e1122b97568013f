import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeSmtpServer,
  REJECTED_DOMAIN,
  startFakeSmtpServer,
} from '../../../test/fakes/smtp-server.ts';
import { loadConfig } from '../config/config.ts';
import { createEmailTransport, EmailDeliveryError, type EmailTransport } from './email.transport.ts';
import { renderTemplate } from './templates.ts';

describe('email transport over real SMTP', () => {
  let smtp: FakeSmtpServer;
  let transport: EmailTransport;

  beforeAll(async () => {
    smtp = await startFakeSmtpServer();
    const config = loadConfig({ SMTP_URL: smtp.url, MAIL_FROM: 'Caravan <no-reply@caravan.test>' });
    transport = createEmailTransport(config.mail);
  });

  afterAll(async () => {
    await transport?.close();
    await smtp?.close();
  });

  it('delivers a rendered Korean template with text and HTML parts', async () => {
    expect(transport.kind).toBe('smtp');
    const rendered = renderTemplate('platform.test', 'ko', {});
    const result = await transport.send({
      to: 'mina@example.test',
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html!,
    });

    const mail = await smtp.waitForMessage((received) => received.envelope.to.includes('mina@example.test'));
    expect(mail.envelope).toEqual({ from: 'no-reply@caravan.test', to: ['mina@example.test'] });
    expect(mail.from).toBe('Caravan <no-reply@caravan.test>');
    expect(mail.to).toBe('mina@example.test');
    expect(mail.subject).toBe('Caravan 테스트 메시지');
    expect(mail.text).toBe(rendered.text);
    expect(mail.html).toBe(rendered.html);
    expect(result.providerMessageId).toBeTruthy();
    expect(mail.messageId).toBe(result.providerMessageId);
  });

  it('keeps one pooled connection across consecutive sends', async () => {
    await transport.send({ to: 'a@example.test', subject: 'Hello a', text: 'plain only' });
    await transport.send({ to: 'b@example.test', subject: 'Hello b', text: 'plain only' });
    const first = await smtp.waitForMessage((mail) => mail.to === 'a@example.test');
    const second = await smtp.waitForMessage((mail) => mail.to === 'b@example.test');
    expect(first.subject).toBe('Hello a');
    expect(first.text).toBe('plain only');
    expect(first.html).toBeNull();
    expect(second.sessionId).toBe(first.sessionId);
  });

  it('maps a 550 recipient refusal to a permanent error', async () => {
    const attempt = transport.send({ to: `ghost@${REJECTED_DOMAIN}`, subject: 'x', text: 'x' });
    await expect(attempt).rejects.toThrow(EmailDeliveryError);
    await expect(attempt).rejects.toMatchObject({ code: 'rejected', permanent: true, responseCode: 550 });
  });

  it('maps a refused connection to a retryable error', async () => {
    const dead = await startFakeSmtpServer();
    await dead.close();
    const orphan = createEmailTransport({ smtpUrl: dead.url, from: 'no-reply@caravan.test' });
    try {
      await expect(orphan.send({ to: 'a@example.test', subject: 'x', text: 'x' })).rejects.toMatchObject({
        code: 'network_error',
        permanent: false,
      });
    } finally {
      await orphan.close();
    }
  });
});

describe('local email transport', () => {
  it('sends nothing and returns no provider id (the outbound_messages row is the mailbox)', async () => {
    const transport = createEmailTransport(loadConfig({}).mail);
    expect(transport.kind).toBe('local');
    await expect(transport.send({ to: 'a@example.test', subject: 's', text: 't' })).resolves.toEqual({
      providerMessageId: null,
    });
    await transport.close();
  });
});
