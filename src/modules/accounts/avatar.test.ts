import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../../../test/fakes/openai-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { connectWs, type TestSocket } from '../../../test/harness/ws-client.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { avatarJobs } from './accounts.tables.ts';
import { AVATAR_RETRY_LIMIT, generateAvatarJob } from './avatar.jobs.ts';
import { AVATAR_DAILY_LIMIT } from './avatar.service.ts';
import { accountsModule } from './index.ts';
import { initialsOf, renderAvatarSvg } from './providers/local-avatar.provider.ts';

type Json = Record<string, unknown>;

function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/** A real socket, signed in with the user's access token and subscribed to `user:<id>`. */
async function subscribe(app: TestApp, user: TestUser): Promise<TestSocket> {
  const socket = await connectWs(
    `${app.baseUrl.replace('http', 'ws')}/ws?token=${encodeURIComponent(user.accessToken)}`,
  );
  await socket.next((message) => message.type === 'ready');
  socket.socket.send(JSON.stringify({ type: 'subscribe', channel: `user:${user.user.id}`, id: 'me' }));
  await socket.next((message) => message.type === 'subscribed');
  return socket;
}

function avatarEvent(socket: TestSocket, jobId: string, timeoutMs = 10_000): Promise<Json> {
  return socket
    .next((message) => {
      const event = message.event as { type?: string; data?: { jobId?: string } } | undefined;
      return (
        message.type === 'event' && event?.type?.startsWith('avatar.') === true && event.data?.jobId === jobId
      );
    }, timeoutMs)
    .then((message) => message.event as Json);
}

async function generate(app: TestApp, user: TestUser, style: string) {
  return app.http.inject({
    method: 'POST',
    url: '/api/me/avatar/generate',
    headers: user.headers,
    payload: { style },
  });
}

async function status(app: TestApp, user: TestUser, jobId: string) {
  return app.http.inject({ method: 'GET', url: `/api/me/avatar/jobs/${jobId}`, headers: user.headers });
}

async function download(app: TestApp, url: string) {
  const response = await app.http.inject({ method: 'GET', url: pathOf(url) });
  expect(response.statusCode).toBe(200);
  return { bytes: response.rawPayload, contentType: String(response.headers['content-type']) };
}

async function deadLetters(app: TestApp, avatarJobId: string): Promise<number> {
  const result = (await app.platform.db.execute(
    sql`select count(*)::int as count from pgboss.job
        where name = 'accounts.avatar-generate.dead' and data->'p'->>'avatarJobId' = ${avatarJobId}`,
  )) as unknown as { rows: { count: number }[] };
  return result.rows[0]?.count ?? 0;
}

describe('AI avatars through OpenAI (the real SDK against a loopback fake)', () => {
  let fake: FakeOpenAi;
  let app: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAi();
    app = await buildTestApp({
      modules: [notifyModule, accountsModule],
      listen: true,
      env: { OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.baseUrl },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('queues a generation, pushes avatar.ready, and serves the PNG as the new avatar', async () => {
    const user = await createUser(app);
    const before = await app.http.inject({ method: 'GET', url: '/api/me/avatar', headers: user.headers });
    expect(before.json()).toEqual({ avatarUrl: null, expiresAt: null });

    const socket = await subscribe(app, user);
    try {
      const accepted = await generate(app, user, '  watercolor   fox,\nwarm colours ');
      expect(accepted.statusCode).toBe(202);
      const body = accepted.json() as { id: string; status: string; statusUrl: string };
      expect(body).toEqual({
        id: expect.any(String),
        status: 'queued',
        statusUrl: `/api/me/avatar/jobs/${body.id}`,
      });
      expect(accepted.headers.location).toBe(body.statusUrl);

      const event = await avatarEvent(socket, body.id);
      expect(event).toMatchObject({
        type: 'avatar.ready',
        data: { jobId: body.id, avatarUrl: expect.any(String) },
      });
      const pushed = await download(app, (event.data as { avatarUrl: string }).avatarUrl);
      expect(pushed.bytes.equals(fake.png)).toBe(true);
      expect(pushed.contentType).toBe('image/png');

      const polled = await app.http.inject({ method: 'GET', url: body.statusUrl, headers: user.headers });
      expect(polled.statusCode).toBe(200);
      expect(polled.json()).toMatchObject({
        id: body.id,
        status: 'succeeded',
        style: 'watercolor fox, warm colours',
        generator: 'openai',
        error: null,
        avatarUrl: expect.any(String),
        finishedAt: expect.any(String),
      });

      const current = await app.http.inject({ method: 'GET', url: '/api/me/avatar', headers: user.headers });
      const { avatarUrl, expiresAt } = current.json() as { avatarUrl: string; expiresAt: string };
      expect(new Date(expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect((await download(app, avatarUrl)).bytes.equals(fake.png)).toBe(true);

      // What went over the wire: the user's style inside our frame, one square PNG, and an
      // anonymous safety identifier (never the raw user id).
      const sent = fake.images.at(-1)!;
      expect(sent.authorization).toBe(`Bearer ${fake.apiKey}`);
      expect(sent.model).toBe(app.config.openai.imageModel);
      expect(sent.prompt).toMatch(/profile avatar.*Style: watercolor fox, warm colours$/);
      expect(sent.body).toMatchObject({ n: 1, size: '1024x1024', output_format: 'png' });
      expect(sent.body.safety_identifier).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(sent.body)).not.toContain(user.user.id);
      expect(JSON.stringify(sent.body)).not.toContain(user.user.displayName);
    } finally {
      await socket.close();
    }
  });

  it('downloads the image when the API answers with a URL (legacy models)', async () => {
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    fake.respondWith('url');
    try {
      const { id } = (await generate(app, user, 'pixel art knight')).json() as { id: string };
      const event = await avatarEvent(socket, id);
      expect(event.type).toBe('avatar.ready');
      const got = await download(app, (event.data as { avatarUrl: string }).avatarUrl);
      expect(got.bytes.equals(fake.png)).toBe(true);
    } finally {
      fake.respondWith('b64_json');
      await socket.close();
    }
  });

  it('rides out a server error with one quick retry inside the call', async () => {
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    try {
      fake.failNext(500);
      const { id } = (await generate(app, user, 'retro robot')).json() as { id: string };
      expect((await avatarEvent(socket, id)).type).toBe('avatar.ready');
      expect(fake.attempts.filter((attempt) => attempt.prompt.endsWith('Style: retro robot'))).toHaveLength(
        2,
      );
    } finally {
      await socket.close();
    }
  });

  it('reports a content-policy refusal as a failed status and avatar.failed, without retrying', async () => {
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    try {
      const { id } = (await generate(app, user, 'something forbidden')).json() as { id: string };
      const event = await avatarEvent(socket, id);
      expect(event).toEqual({
        type: 'avatar.failed',
        data: { jobId: id, error: { code: 'content_rejected', message: expect.any(String) } },
      });
      // Dead-lettered at once: the runtime did not schedule a retry.
      await waitFor(async () => (await deadLetters(app, id)) === 1, { what: 'dead-lettered avatar job' });
      expect(
        fake.attempts.filter((attempt) => attempt.prompt.endsWith('Style: something forbidden')),
      ).toHaveLength(1);

      const polled = (await status(app, user, id)).json() as Json;
      expect(polled).toMatchObject({
        status: 'failed',
        avatarUrl: null,
        error: { code: 'content_rejected' },
      });
      // The vendor's own wording never reaches the user.
      expect(JSON.stringify(polled)).not.toMatch(/safety system/);
      const current = await app.http.inject({ method: 'GET', url: '/api/me/avatar', headers: user.headers });
      expect(current.json()).toMatchObject({ avatarUrl: null });
    } finally {
      await socket.close();
    }
  });

  it('keeps a job in progress after a failed attempt, and fails it with an event after the last', async () => {
    // The handler is run directly with a chosen attempt number: through the runtime, each retry of a
    // queue with LISTEN/NOTIFY waits for pg-boss's 30 s polling backstop, so reaching the last
    // attempt would take over a minute. The row has no queue entry, so no worker races this call.
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    try {
      const [row] = await app.platform.db
        .insert(avatarJobs)
        .values({ userId: user.user.id, prompt: 'stormy seas', generator: 'openai', createdAt: new Date() })
        .returning();
      const id = row!.id;
      const run = (attempt: number) =>
        generateAvatarJob.handler({
          payload: { avatarJobId: id },
          jobId: `direct-${attempt}`,
          dedupeKey: id,
          attempt,
          db: app.platform.db,
          logger: app.platform.logger,
          services: app.platform,
          claim: async () => true,
        });

      fake.failNext(503, 2); // the call and the SDK's one retry
      await expect(run(0)).rejects.toMatchObject({ code: 'unavailable', permanent: false });
      expect((await status(app, user, id)).json()).toMatchObject({ status: 'running', error: null });

      fake.failNext(503, 2);
      await expect(run(AVATAR_RETRY_LIMIT)).rejects.toMatchObject({ code: 'unavailable' });
      expect(await avatarEvent(socket, id)).toEqual({
        type: 'avatar.failed',
        data: { jobId: id, error: { code: 'generation_failed', message: expect.any(String) } },
      });
      expect((await status(app, user, id)).json()).toMatchObject({
        status: 'failed',
        error: { code: 'generation_failed' },
        finishedAt: expect.any(String),
      });
      expect(fake.attempts.filter((attempt) => attempt.prompt.endsWith('Style: stormy seas'))).toHaveLength(
        4,
      );

      // A late redelivery of a finished job does nothing.
      const before = fake.attempts.length;
      await run(AVATAR_RETRY_LIMIT);
      expect(fake.attempts.length).toBe(before);
    } finally {
      await socket.close();
    }
  });

  it('drops the image of a job that was timed out while it was generating', async () => {
    const user = await createUser(app);
    const [row] = await app.platform.db
      .insert(avatarJobs)
      .values({ userId: user.user.id, prompt: 'too slow', generator: 'openai', createdAt: new Date() })
      .returning();
    const id = row!.id;
    const release = fake.hold();
    try {
      const running = generateAvatarJob.handler({
        payload: { avatarJobId: id },
        jobId: 'direct-slow',
        dedupeKey: id,
        attempt: 0,
        db: app.platform.db,
        logger: app.platform.logger,
        services: app.platform,
        claim: async () => true,
      });
      await waitFor(() => fake.attempts.some((attempt) => attempt.prompt.endsWith('Style: too slow')), {
        what: 'the generation request',
      });
      await app.platform.db
        .update(avatarJobs)
        .set({ status: 'failed', error: 'timed_out', finishedAt: new Date() })
        .where(sql`${avatarJobs.id} = ${id}`);
      release();
      await running;
    } finally {
      release();
    }
    expect(await app.platform.storage.head(`avatars/${user.user.id}/${id}.png`)).toBeNull();
    expect((await status(app, user, id)).json()).toMatchObject({
      status: 'failed',
      error: { code: 'timed_out' },
    });
    const current = await app.http.inject({ method: 'GET', url: '/api/me/avatar', headers: user.headers });
    expect(current.json()).toMatchObject({ avatarUrl: null });
  });

  it('allows one generation at a time per user (409 avatar_job_in_progress)', async () => {
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    const release = fake.hold();
    try {
      const { id } = (await generate(app, user, 'origami crane')).json() as { id: string };
      await waitFor(() => fake.attempts.some((attempt) => attempt.prompt.endsWith('Style: origami crane')), {
        what: 'the generation request',
      });
      expect((await status(app, user, id)).json()).toMatchObject({ status: 'running', avatarUrl: null });

      const second = await generate(app, user, 'paper boat');
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ error: { code: 'avatar_job_in_progress' } });

      release();
      expect((await avatarEvent(socket, id)).type).toBe('avatar.ready');
      expect((await generate(app, user, 'paper boat')).statusCode).toBe(202);
    } finally {
      release();
      await socket.close();
    }
  });

  it('keeps jobs private: another user gets 404 and cannot subscribe to my channel', async () => {
    const owner = await createUser(app);
    const other = await createUser(app);
    const ownerSocket = await subscribe(app, owner);
    try {
      const { id } = (await generate(app, owner, 'mountain sunrise')).json() as { id: string };
      await avatarEvent(ownerSocket, id);
      const peek = await status(app, other, id);
      expect(peek.statusCode).toBe(404);
      expect(peek.json()).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      await ownerSocket.close();
    }

    const spy = await connectWs(
      `${app.baseUrl.replace('http', 'ws')}/ws?token=${encodeURIComponent(other.accessToken)}`,
    );
    try {
      await spy.next((message) => message.type === 'ready');
      spy.socket.send(JSON.stringify({ type: 'subscribe', channel: `user:${owner.user.id}` }));
      expect(await spy.next((message) => message.type === 'error')).toMatchObject({ code: 'forbidden' });
    } finally {
      await spy.close();
    }
  });

  it('requires a signed-in, verified user and a sensible style', async () => {
    const anonymous = await app.http.inject({
      method: 'POST',
      url: '/api/me/avatar/generate',
      payload: { style: 'cat' },
    });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await app.http.inject({ method: 'GET', url: '/api/me/avatar' })).statusCode).toBe(401);
    expect(
      (
        await app.http.inject({
          method: 'GET',
          url: '/api/me/avatar/jobs/00000000-0000-4000-8000-000000000000',
        })
      ).statusCode,
    ).toBe(401);

    const unverified = await createUser(app, { verified: false });
    const refused = await generate(app, unverified, 'cat');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'email_not_verified' } });

    const user = await createUser(app);
    for (const style of ['', '   \n\t ', 'x'.repeat(201)]) {
      const bad = await generate(app, user, style);
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({
        error: { code: 'validation_failed', fields: [{ field: 'body.style' }] },
      });
    }
    const missing = await status(app, user, '00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
  });

  it('limits generations per day (429 avatar_quota_exceeded with Retry-After)', async () => {
    const user = await createUser(app);
    const now = Date.now();
    // Finished jobs from the last day, oldest 23 hours ago; one from two days ago does not count.
    await app.platform.db.insert(avatarJobs).values([
      ...Array.from({ length: AVATAR_DAILY_LIMIT }, (_, index) => ({
        userId: user.user.id,
        prompt: `earlier ${index}`,
        status: 'succeeded' as const,
        generator: 'openai' as const,
        createdAt: new Date(now - (23 * 3600 - index) * 1000),
        finishedAt: new Date(now - (23 * 3600 - index) * 1000),
      })),
      {
        userId: user.user.id,
        prompt: 'long ago',
        status: 'succeeded' as const,
        generator: 'openai' as const,
        createdAt: new Date(now - 48 * 3600 * 1000),
      },
    ]);
    const refused = await generate(app, user, 'one more');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({
      error: { code: 'avatar_quota_exceeded', details: { limit: AVATAR_DAILY_LIMIT } },
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });

  it('times out a job whose worker vanished, so the user hears of it and may try again', async () => {
    const user = await createUser(app);
    const socket = await subscribe(app, user);
    try {
      // A row left running by a worker that died (no queue entry will ever finish it).
      const [stuck] = await app.platform.db
        .insert(avatarJobs)
        .values({
          userId: user.user.id,
          prompt: 'lost',
          status: 'running',
          generator: 'openai',
          createdAt: new Date(Date.now() - 31 * 60 * 1000),
        })
        .returning();
      const polled = await status(app, user, stuck!.id);
      expect(polled.json()).toMatchObject({ status: 'failed', error: { code: 'timed_out' } });
      expect(await avatarEvent(socket, stuck!.id)).toMatchObject({
        type: 'avatar.failed',
        data: { error: { code: 'timed_out' } },
      });
      const again = await generate(app, user, 'found');
      expect(again.statusCode).toBe(202);
      await avatarEvent(socket, (again.json() as { id: string }).id);
    } finally {
      await socket.close();
    }
  });
});

describe('AI avatars without an OpenAI key (local generator)', () => {
  let app: TestApp;
  beforeAll(async () => {
    // An empty value means unset, whatever the machine running the tests has in its environment.
    app = await buildTestApp({
      modules: [notifyModule, accountsModule],
      listen: true,
      env: { OPENAI_API_KEY: '' },
    });
  });
  afterAll(() => app?.close());

  it('draws a deterministic SVG: the same style twice gives the same bytes', async () => {
    const user = await createUser(app, { displayName: 'Ji-woo Kim' });
    const socket = await subscribe(app, user);
    const generateOnce = async (style: string) => {
      const accepted = await generate(app, user, style);
      expect(accepted.statusCode).toBe(202);
      const { id } = accepted.json() as { id: string };
      const event = await avatarEvent(socket, id);
      expect(event.type).toBe('avatar.ready');
      expect((await status(app, user, id)).json()).toMatchObject({ status: 'succeeded', generator: 'local' });
      return download(app, (event.data as { avatarUrl: string }).avatarUrl);
    };
    try {
      const first = await generateOnce('pixel art');
      expect(first.contentType).toBe('image/svg+xml');
      const svg = first.bytes.toString('utf8');
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg).toContain('>JK</text>');

      const second = await generateOnce('pixel art');
      expect(second.bytes.equals(first.bytes)).toBe(true);

      const other = await generateOnce('watercolor');
      expect(other.bytes.equals(first.bytes)).toBe(false);

      const current = await app.http.inject({ method: 'GET', url: '/api/me/avatar', headers: user.headers });
      const { avatarUrl } = current.json() as { avatarUrl: string };
      expect((await download(app, avatarUrl)).bytes.equals(other.bytes)).toBe(true);
    } finally {
      await socket.close();
    }
  });
});

describe('local avatar drawing', () => {
  it('takes initials from the first and last word, in any script', () => {
    expect(initialsOf('Ji-woo Kim')).toBe('JK');
    expect(initialsOf('ada')).toBe('A');
    expect(initialsOf('김 민준')).toBe('김민');
    expect(initialsOf('  <script> & co ')).toBe('SC');
    expect(initialsOf('!!!')).toBe('?');
  });

  it('depends only on the seed and the name', () => {
    const one = renderAvatarSvg({ seed: 'a', displayName: 'Ada Lovelace' });
    expect(renderAvatarSvg({ seed: 'a', displayName: 'Ada Lovelace' })).toBe(one);
    expect(renderAvatarSvg({ seed: 'b', displayName: 'Ada Lovelace' })).not.toBe(one);
  });
});
