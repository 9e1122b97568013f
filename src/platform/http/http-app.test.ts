import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { bearer, testAuthModule } from '../../../test/harness/test-auth.ts';
import { AppError } from '../errors/index.ts';
import { notifyModule } from '../notify/index.ts';
import { access } from './access.ts';
import type { AppInstance } from './http-app.ts';

function testRoutes(app: AppInstance): void {
  app.post(
    '/test/echo',
    {
      config: { access: access.public('test') },
      schema: {
        body: Type.Object({ name: Type.String({ minLength: 2 }), qty: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object({ name: Type.String(), qty: Type.Integer() }) },
      },
    },
    async (request) => request.body,
  );
  app.get('/test/boom', { config: { access: access.public('test') } }, async () => {
    throw new Error('database password is hunter2');
  });
  app.get('/test/conflict', { config: { access: access.public('test') } }, async () => {
    throw new AppError('conflict', 'Already taken', { details: { field: 'slug' } });
  });
  app.get('/test/mine', { config: { access: access.authenticated() } }, async (request) => ({
    userId: request.principal?.userId,
  }));
  app.get('/test/staff', { config: { access: access.staff() } }, async () => ({ ok: true }));
  app.get('/test/verified', { config: { access: access.verified() } }, async () => ({ ok: true }));
}

describe('HTTP platform', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      modules: [testAuthModule, notifyModule],
      extraRoutes: testRoutes,
      env: { BODY_LIMIT_BYTES: '2048' },
      startJobs: true,
    });
  });
  afterAll(() => app?.close());

  it('refuses to boot when a route declares no access rule', async () => {
    await expect(
      buildTestApp({
        startJobs: false,
        extraRoutes: (instance) => {
          instance.get('/test/forgotten', async () => 'oops');
        },
      }),
    ).rejects.toThrow(/GET \/test\/forgotten/);
  });

  it('answers 413 with a code for an oversized body', async () => {
    const response = await app.http.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { name: 'x'.repeat(4096), qty: 1 },
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('payload_too_large');
  });

  it('answers 400 with the failing fields for an invalid body', async () => {
    const response = await app.http.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { name: 'x', qty: 0 },
    });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('validation_failed');
    expect(error.fields.map((field: { field: string }) => field.field).sort()).toEqual([
      'body.name',
      'body.qty',
    ]);
    expect(error.requestId).toBe(response.headers['x-request-id']);
  });

  it('answers 400 invalid_json for a body that is not JSON', async () => {
    const response = await app.http.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_json');
  });

  it('maps AppError codes and never leaks internals on a 500', async () => {
    const conflict = await app.http.inject({ method: 'GET', url: '/test/conflict' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: 'conflict', details: { field: 'slug' } });
    const boom = await app.http.inject({ method: 'GET', url: '/test/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().error.code).toBe('internal_error');
    expect(boom.body).not.toContain('hunter2');
  });

  it('answers unknown routes with route_not_found', async () => {
    const response = await app.http.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('route_not_found');
  });

  it('enforces access rules', async () => {
    expect((await app.http.inject({ url: '/test/mine' })).json().error.code).toBe('unauthenticated');
    const badToken = await app.http.inject({ url: '/test/mine', headers: { authorization: 'Bearer nope' } });
    expect(badToken.statusCode).toBe(401);
    const mine = await app.http.inject({ url: '/test/mine', headers: bearer('u1') });
    expect(mine.json()).toEqual({ userId: 'u1' });
    const notStaff = await app.http.inject({ url: '/test/staff', headers: bearer('u1') });
    expect(notStaff.statusCode).toBe(403);
    expect(notStaff.json().error.code).toBe('forbidden');
    expect((await app.http.inject({ url: '/test/staff', headers: bearer('s1', 'staff') })).statusCode).toBe(
      200,
    );
    const unverified = await app.http.inject({
      url: '/test/verified',
      headers: bearer('u2', 'buyer', false),
    });
    expect(unverified.statusCode).toBe(403);
    expect(unverified.json().error.code).toBe('email_not_verified');
  });

  it('keeps a well-formed incoming request id and makes one otherwise', async () => {
    const given = await app.http.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const made = await app.http.inject({
      url: '/healthz',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves liveness, readiness with checks, and metrics', async () => {
    expect((await app.http.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.http.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.database.status).toBe('ok');
    expect(ready.json().checks.jobs.status).toBe('ok');
    const metrics = await app.http.inject({ url: '/metrics' });
    expect(metrics.body).toContain('caravan_http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('route="/healthz",status="200"');
    expect(metrics.body).toContain('caravan_http_requests_in_flight');
    expect(metrics.body).toContain('caravan_ws_connections');
    expect(metrics.body).toContain('caravan_db_pool_connections{state="total"}');
    expect(metrics.body).toContain('caravan_jobs_processed_total');
  });

  it('publishes an OpenAPI 3.1 document that states each access rule, and a docs UI', async () => {
    const document = (await app.http.inject({ url: '/openapi.json' })).json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.paths['/api/admin/outbox'].get.description).toContain('Access: roles: staff, admin');
    expect(document.paths['/api/admin/outbox'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/healthz'].get.description).toContain('Access: public');
    const docs = await app.http.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toContain('text/html');
  });

  it('sets security headers', async () => {
    const response = await app.http.inject({ url: '/healthz' });
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toBeDefined();
  });
});

describe('rate limiting', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      startJobs: false,
      env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' },
    });
  });
  afterAll(() => app?.close());

  it('answers 429 rate_limited with Retry-After past the limit, and never limits probes', async () => {
    // A unique client address so parallel test files sharing Redis never share this bucket.
    const remoteAddress = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await app.http.inject({ url: '/openapi.json', remoteAddress })).statusCode);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await app.http.inject({ url: '/openapi.json', remoteAddress });
    expect(limited.json().error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.http.inject({ url: '/healthz', remoteAddress })).statusCode).toBe(200);
  });
});

describe('error bodies on routes that declare an error response schema', () => {
  it('still answer in the error envelope (no serialization failure)', async () => {
    const app = await buildTestApp({
      startJobs: false,
      extraRoutes: (instance) => {
        instance.get(
          '/test/declared',
          {
            config: { access: access.public('test') },
            schema: { response: { 409: Type.Object({ status: Type.String() }) } },
          },
          async () => {
            throw new AppError('conflict', 'Taken');
          },
        );
      },
    });
    try {
      const response = await app.http.inject({ url: '/test/declared' });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('conflict');
    } finally {
      await app.close();
    }
  });
});
