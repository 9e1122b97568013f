import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTwilio, startFakeTwilio } from '../../../test/fakes/twilio-server.ts';
import { loadConfig } from '../config/config.ts';
import { createSmsTransport, SmsDeliveryError, type SmsTransport } from './sms.transport.ts';

describe('twilio SMS transport against the loopback fake', () => {
  let fake: FakeTwilio;
  let transport: SmsTransport;

  beforeAll(async () => {
    fake = await startFakeTwilio();
    const config = loadConfig({
      TWILIO_ACCOUNT_SID: fake.accountSid,
      TWILIO_AUTH_TOKEN: fake.authToken,
      TWILIO_FROM: '+15005550006',
      TWILIO_API_BASE_URL: fake.baseUrl,
    });
    transport = createSmsTransport(config.sms);
  });

  afterAll(async () => {
    await fake?.close();
  });

  it('sends through the real SDK with the right auth and fields', async () => {
    expect(transport.kind).toBe('twilio');
    const result = await transport.send({ to: '+821012345678', body: 'Caravan 테스트 메시지입니다.' });

    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const sent = fake.messages.find((message) => message.sid === result.providerMessageId);
    expect(sent).toMatchObject({
      accountSid: fake.accountSid,
      to: '+821012345678',
      from: '+15005550006',
      body: 'Caravan 테스트 메시지입니다.',
      params: { To: '+821012345678', From: '+15005550006', Body: 'Caravan 테스트 메시지입니다.' },
    });
  });

  it("maps Twilio's 21211 invalid 'To' to a permanent error", async () => {
    const attempt = transport.send({ to: '+15005550001', body: 'hello' });
    await expect(attempt).rejects.toThrow(SmsDeliveryError);
    await expect(attempt).rejects.toMatchObject({
      code: 'invalid_recipient',
      permanent: true,
      status: 400,
      providerCode: 21211,
    });
  });

  it('maps a Twilio outage to a retryable error', async () => {
    fake.failNext(503);
    await expect(transport.send({ to: '+821012345678', body: 'hello' })).rejects.toMatchObject({
      code: 'unavailable',
      permanent: false,
      status: 503,
    });
  });

  it('fails on wrong credentials with a 401 the job layer may retry after a fix', async () => {
    const wrong = createSmsTransport({
      twilio: {
        accountSid: fake.accountSid,
        authToken: 'not-the-token',
        from: '+15005550006',
        apiBaseUrl: fake.baseUrl,
      },
    });
    await expect(wrong.send({ to: '+821012345678', body: 'hello' })).rejects.toMatchObject({
      code: 'auth_failed',
      permanent: false,
      status: 401,
      providerCode: 20003,
    });
  });

  it('rejects a non-E.164 number before calling Twilio', async () => {
    const before = fake.messages.length;
    await expect(transport.send({ to: '010-1234-5678', body: 'hello' })).rejects.toMatchObject({
      code: 'invalid_recipient',
      permanent: true,
    });
    expect(fake.messages.length).toBe(before);
  });

  it('maps a refused connection to a retryable network error', async () => {
    const dead = await startFakeTwilio();
    await dead.close();
    const orphan = createSmsTransport({
      twilio: {
        accountSid: dead.accountSid,
        authToken: dead.authToken,
        from: '+15005550006',
        apiBaseUrl: dead.baseUrl,
      },
    });
    await expect(orphan.send({ to: '+821012345678', body: 'hello' })).rejects.toMatchObject({
      code: 'network_error',
      permanent: false,
      status: null,
    });
  });
});

describe('local SMS transport', () => {
  it('sends nothing and returns no provider id', async () => {
    const transport = createSmsTransport(loadConfig({}).sms);
    expect(transport.kind).toBe('local');
    await expect(transport.send({ to: '+821012345678', body: 'hello' })).resolves.toEqual({
      providerMessageId: null,
    });
  });
});
