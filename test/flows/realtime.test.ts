import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyModule } from '../../src/platform/notify/index.ts';
import { buildTestApp, type TestApp } from '../harness/build-test-app.ts';
import { testAuthModule } from '../harness/test-auth.ts';
import { connectWs } from '../harness/ws-client.ts';

function wsUrl(app: TestApp, path: string): string {
  return `${app.baseUrl.replace('http', 'ws')}${path}`;
}

describe('realtime through the app', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules: [testAuthModule, notifyModule], listen: true });
  });
  afterAll(() => app?.close());

  it('pushes an in-app notification, sent by a job after commit, to the user’s socket', async () => {
    const client = await connectWs(wsUrl(app, '/ws?token=test:user-7:buyer'));
    try {
      await client.next((message) => message.type === 'ready');
      client.socket.send(JSON.stringify({ type: 'subscribe', channel: 'user:user-7' }));
      await client.next((message) => message.type === 'subscribed');
      await app.platform.db.transaction((tx) =>
        app.platform.notifier.notify(tx, {
          template: 'platform.test',
          data: {},
          to: { userId: 'user-7' },
          dedupeKey: 'push-1',
        }),
      );
      const pushed = await client.next((message) => message.type === 'event');
      expect(pushed).toMatchObject({ channel: 'user:user-7', event: { type: 'notification' } });
    } finally {
      await client.close();
    }
  });

  it('refuses another user’s channel', async () => {
    const client = await connectWs(wsUrl(app, '/ws?token=test:user-8:buyer'));
    try {
      client.socket.send(JSON.stringify({ type: 'subscribe', channel: 'user:user-7' }));
      expect(await client.next((message) => message.type === 'error')).toMatchObject({ code: 'forbidden' });
    } finally {
      await client.close();
    }
  });

  it('closes sockets with 1001 when the app shuts down', async () => {
    const other = await buildTestApp({ modules: [testAuthModule], listen: true, startJobs: false });
    const client = await connectWs(wsUrl(other, '/ws'));
    const closed = new Promise<number>((resolve) => client.socket.once('close', (code) => resolve(code)));
    await other.close();
    expect(await closed).toBe(1001);
  });
});

describe.skipIf(!process.env.REDIS_URL)('realtime across instances (Redis)', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await buildTestApp({ modules: [testAuthModule], listen: true, startJobs: false });
    second = await buildTestApp({
      modules: [testAuthModule],
      listen: true,
      startJobs: false,
      sameDatabaseAs: first,
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('delivers a message published on instance A to a client connected to instance B', async () => {
    const channel = `auction:${Date.now()}`;
    first.platform.hub.registerChannel('auction', () => true);
    second.platform.hub.registerChannel('auction', () => true);
    const client = await connectWs(wsUrl(second, `/ws/auction/${channel.split(':')[1]}`));
    try {
      await client.next((message) => message.type === 'subscribed');
      await first.platform.hub.publish(channel, { type: 'bid.placed', data: { amount: 5000 } });
      const event = await client.next((message) => message.type === 'event');
      expect(event).toMatchObject({ channel, event: { type: 'bid.placed', data: { amount: 5000 } } });
    } finally {
      await client.close();
    }
  });
});
