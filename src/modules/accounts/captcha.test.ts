import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTurnstile, startFakeTurnstile } from '../../../test/fakes/turnstile-server.ts';
import { AppError } from '../../platform/errors/index.ts';
import { captchaTokenFrom, createCaptchaVerifier } from './captcha.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('Turnstile captcha verifier', () => {
  let fake: FakeTurnstile;
  let token = 0;
  const next = (prefix: 'pass' | 'fail') => `${prefix}-${++token}`;

  beforeAll(async () => {
    fake = await startFakeTurnstile();
  });
  afterAll(async () => {
    await fake.close();
  });

  function verifier(secret: string | undefined = fake.secret) {
    return createCaptchaVerifier({ secret, verifyUrl: fake.verifyUrl });
  }
  const withoutSecret = () => createCaptchaVerifier({ secret: undefined, verifyUrl: fake.verifyUrl });

  it('is off without a secret and never calls Cloudflare', async () => {
    const before = fake.requests.length;
    const off = withoutSecret();
    expect(off.enabled).toBe(false);
    await off.verify(undefined);
    await off.verify('anything', '203.0.113.7');
    expect(fake.requests.length).toBe(before);
  });

  it('accepts a passing token, posting the documented form fields', async () => {
    const captcha = verifier();
    expect(captcha.enabled).toBe(true);
    const response = next('pass');
    await captcha.verify(response, '203.0.113.7');
    const sent = fake.requests.at(-1)!;
    expect(sent.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent.params).toEqual({
      secret: fake.secret,
      response,
      remoteip: '203.0.113.7',
      idempotency_key: expect.stringMatching(UUID),
    });
  });

  it('omits remoteip when the caller has none', async () => {
    await verifier().verify(next('pass'));
    expect(fake.requests.at(-1)!.params).not.toHaveProperty('remoteip');
  });

  it('requires a token', async () => {
    const before = fake.requests.length;
    const error = await refusal(verifier().verify(undefined));
    expect(error.code).toBe('captcha_required');
    expect(error.status).toBe(400);
    expect((await refusal(verifier().verify(''))).code).toBe('captcha_required');
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a failed challenge with Cloudflare’s error codes', async () => {
    const error = await refusal(verifier().verify(next('fail'), '203.0.113.7'));
    expect(error.code).toBe('captcha_failed');
    expect(error.status).toBe(400);
    expect(error.details).toEqual({ errorCodes: ['invalid-input-response'] });
  });

  it('refuses a token presented twice', async () => {
    const response = next('pass');
    await verifier().verify(response);
    const error = await refusal(verifier().verify(response));
    expect(error.code).toBe('captcha_failed');
    expect(error.details).toEqual({ errorCodes: ['timeout-or-duplicate'] });
  });

  it('refuses every token when the secret is wrong', async () => {
    const error = await refusal(verifier('0xnot-the-secret').verify(next('pass')));
    expect(error.code).toBe('captcha_failed');
    expect(error.details).toEqual({ errorCodes: ['invalid-input-secret'] });
  });

  it('refuses an over-long token without asking Cloudflare', async () => {
    const before = fake.requests.length;
    const error = await refusal(verifier().verify(`pass-${'x'.repeat(2048)}`));
    expect(error.code).toBe('captcha_failed');
    expect(fake.requests.length).toBe(before);
  });

  it('retries a lost answer with the same idempotency key, which Cloudflare honours', async () => {
    const response = next('pass');
    const before = fake.requests.length;
    fake.failNext(502);
    await verifier().verify(response);
    const attempts = fake.requests.slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.params.idempotency_key).toBe(attempts[1]!.params.idempotency_key);
    expect(attempts.map((attempt) => attempt.params.response)).toEqual([response, response]);
  });

  it('fails closed with 503 when Cloudflare keeps failing', async () => {
    fake.failNext(503, 2);
    const error = await refusal(verifier().verify(next('pass')));
    expect(error.code).toBe('captcha_unavailable');
    expect(error.status).toBe(503);
  });

  it('fails closed with 503 when Cloudflare is unreachable', async () => {
    const gone = await startFakeTurnstile();
    await gone.close();
    const captcha = createCaptchaVerifier({ secret: gone.secret, verifyUrl: gone.verifyUrl });
    const error = await refusal(captcha.verify(next('pass')));
    expect(error.code).toBe('captcha_unavailable');
    expect(error.status).toBe(503);
  });

  it('fails closed when the answer is not a verdict (an HTML page)', async () => {
    const htmlFetch = async () => new Response('<html>Just a moment…</html>', { status: 200 });
    const captcha = createCaptchaVerifier({ secret: 's', verifyUrl: fake.verifyUrl }, htmlFetch);
    expect((await refusal(captcha.verify('pass-html'))).code).toBe('captcha_unavailable');
  });

  it('the fake also takes JSON, as siteverify does', async () => {
    const response = await fetch(fake.verifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: fake.secret, response: next('pass') }),
    });
    expect(await response.json()).toMatchObject({ success: true, hostname: expect.any(String) });
  });
});

describe('captchaTokenFrom', () => {
  it('reads the body field first, then the cf-turnstile-response header', async () => {
    const app = Fastify();
    app.post('/echo', async (request) => ({ token: captchaTokenFrom(request) ?? null }));
    const ask = async (body: unknown, headers: Record<string, string> = {}) =>
      (await app.inject({ method: 'POST', url: '/echo', payload: body as object, headers })).json();
    try {
      expect(await ask({ captchaToken: 'from-body' }, { 'cf-turnstile-response': 'from-header' })).toEqual({
        token: 'from-body',
      });
      expect(await ask({ other: 1 }, { 'cf-turnstile-response': 'from-header' })).toEqual({
        token: 'from-header',
      });
      expect(await ask({ captchaToken: 42 })).toEqual({ token: null });
      expect(await ask({})).toEqual({ token: null });
    } finally {
      await app.close();
    }
  });
});
