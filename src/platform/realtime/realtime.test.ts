import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import type { Metrics } from '../observability/metrics.ts';
import { connect, ofType, startServer, type TestClient, type TestServer } from './realtime.test-support.ts';

const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  // Clients before servers, newest first.
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const started = await startServer(options);
  opened.push(started);
  // Auctions are public to watch; conversations only to their members (user x here).
  started.hub.registerChannel('auction', () => true);
  started.hub.registerChannel('conversation', (principal) => principal?.userId === 'x');
  return started;
}

async function client(url: string, options?: ClientOptions): Promise<TestClient> {
  const connected = await connect(url, options);
  opened.push(connected);
  return connected;
}

async function gauge(metrics: Metrics): Promise<number> {
  return (await metrics.wsConnections.get()).values[0]?.value ?? 0;
}

async function counted(metric: Metrics['wsClosed'] | Metrics['wsMessages'], label: string): Promise<number> {
  const { values } = await metric.get();
  return values.find((value) => Object.values(value.labels).includes(label))?.value ?? 0;
}

describe('realtime hub (in-process)', () => {
  it('delivers published events to subscribers only, and answers ping', async () => {
    const { hub, url, metrics } = await server();
    const watcher = await client(`${url}/ws`);
    expect(await watcher.next()).toMatchObject({ type: 'ready', userId: null });
    expect(await gauge(metrics)).toBe(1);

    watcher.send({ type: 'subscribe', channel: 'auction:1', id: 'r1' });
    expect(await watcher.next()).toEqual({ type: 'subscribed', channel: 'auction:1', ref: 'r1' });
    watcher.send({ type: 'ping' });
    expect(await watcher.next()).toEqual({ type: 'pong' });

    await hub.publish('auction:1', { type: 'bid.placed', data: { amount: 1200 } });
    const delivered = await watcher.next();
    expect(delivered).toMatchObject({
      type: 'event',
      channel: 'auction:1',
      event: { type: 'bid.placed', data: { amount: 1200 } },
    });
    expect(new Date(String(delivered.at)).toISOString()).toBe(delivered.at);

    watcher.send({ type: 'unsubscribe', channel: 'auction:1' });
    expect(await watcher.next()).toEqual({ type: 'unsubscribed', channel: 'auction:1' });
    watcher.send({ type: 'subscribe', channel: 'auction:2' });
    await watcher.next(ofType('subscribed'));
    await hub.publish('auction:1', { type: 'after-unsubscribe' });
    await hub.publish('auction:2', { type: 'still-subscribed' });
    // Strictly the next message: the auction:1 event must not have been sent.
    expect(await watcher.next()).toMatchObject({ channel: 'auction:2', event: { type: 'still-subscribed' } });

    expect(await counted(metrics.wsMessages, 'in')).toBe(4);
    expect(await counted(metrics.wsMessages, 'out')).toBe(7);
    await watcher.close();
    await hub.closeAll(1001, 'drain'); // resolves once the hub has seen every socket go
    expect(await gauge(metrics)).toBe(0);
  });

  it('opens alias paths already subscribed', async () => {
    const { hub, url } = await server();
    const watcher = await client(`${url}/ws/auction/9`);
    expect(await watcher.next()).toMatchObject({ type: 'ready' });
    expect(await watcher.next()).toEqual({ type: 'subscribed', channel: 'auction:9' });
    await hub.publish('auction:9', { type: 'auction.extended' });
    expect(await watcher.next()).toMatchObject({ channel: 'auction:9', event: { type: 'auction.extended' } });
  });

  it('lets an alias socket that needs a user authenticate with its first message', async () => {
    const { hub, url } = await server();
    const member = await client(`${url}/ws/chat/7`);
    member.send({ type: 'auth', token: 'token-x' });
    expect(await member.next()).toMatchObject({ type: 'ready', userId: 'x' });
    expect(await member.next()).toEqual({ type: 'subscribed', channel: 'conversation:7' });
    await hub.publish('conversation:7', { type: 'message.created' });
    expect(await member.next()).toMatchObject({ channel: 'conversation:7' });
  });

  it('closes alias sockets with 4403 for the wrong user, 4401 for a bad token or no auth in time', async () => {
    const { url } = await server({ authTimeoutMs: 50 });
    const stranger = await client(`${url}/ws/chat/7?token=token-y`);
    expect(await stranger.next()).toMatchObject({ type: 'error', code: 'forbidden' });
    expect((await stranger.closed).code).toBe(4403);

    const forged = await client(`${url}/ws/chat/7?access_token=forged`);
    expect(await forged.next()).toMatchObject({ type: 'error', code: 'unauthenticated' });
    expect((await forged.closed).code).toBe(4401);

    const silent = await client(`${url}/ws/chat/7`);
    expect(await silent.next()).toMatchObject({ type: 'error', code: 'unauthenticated' });
    expect((await silent.closed).code).toBe(4401);
  });

  it('refuses user channels without a token, unknown prefixes and malformed messages', async () => {
    const { url } = await server();
    const anonymous = await client(`${url}/ws`);
    await anonymous.next(ofType('ready'));
    anonymous.send({ type: 'subscribe', channel: 'user:x', id: 'mine' });
    expect(await anonymous.next()).toMatchObject({ type: 'error', code: 'unauthenticated', ref: 'mine' });
    anonymous.send({ type: 'subscribe', channel: 'payout:1' });
    expect(await anonymous.next()).toMatchObject({ type: 'error', code: 'unknown_channel' });
    anonymous.send('not json');
    expect(await anonymous.next()).toMatchObject({ type: 'error', code: 'invalid_message' });
    anonymous.send({ type: 'subscribe', channel: 'no prefix' });
    expect(await anonymous.next()).toMatchObject({ type: 'error', code: 'invalid_message' });
    expect(anonymous.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('lets user x subscribe to user:x but not user:y', async () => {
    const { hub, url } = await server();
    const userX = await client(`${url}/ws`);
    await userX.next(ofType('ready'));
    userX.send({ type: 'auth', token: 'token-x' });
    expect(await userX.next()).toMatchObject({ type: 'ready', userId: 'x' });
    userX.send({ type: 'subscribe', channel: 'user:y' });
    expect(await userX.next()).toMatchObject({ type: 'error', code: 'forbidden' });
    userX.send({ type: 'subscribe', channel: 'user:x' });
    expect(await userX.next()).toEqual({ type: 'subscribed', channel: 'user:x' });
    await hub.publish('user:y', { type: 'not-for-x' });
    await hub.publish('user:x', { type: 'order.paid' });
    expect(await userX.next()).toMatchObject({ channel: 'user:x', event: { type: 'order.paid' } });

    // The same token in the query string, or as a Bearer header, authenticates at connect time.
    const viaQuery = await client(`${url}/ws?token=token-x`);
    expect(await viaQuery.next()).toMatchObject({ type: 'ready', userId: 'x' });
    const viaHeader = await client(`${url}/ws/chat/7`, { headers: { authorization: 'Bearer token-x' } });
    expect(await viaHeader.next()).toMatchObject({ type: 'ready', userId: 'x' });
    expect(await viaHeader.next()).toEqual({ type: 'subscribed', channel: 'conversation:7' });
  });

  it('closes with 1009 on a message above maxMessageBytes', async () => {
    const { hub, url, metrics } = await server({ limits: { maxMessageBytes: 1024 } });
    const sender = await client(`${url}/ws`);
    await sender.next(ofType('ready'));
    sender.send({ type: 'auth', token: `token-${'x'.repeat(2000)}` });
    expect((await sender.closed).code).toBe(1009);
    await hub.closeAll(1001, 'drain'); // resolves once the hub has recorded every close
    expect(await counted(metrics.wsClosed, '1009')).toBe(1);
  });

  it('answers a flood with rate_limited, then closes with 1008', async () => {
    const frozen = Date.parse('2026-01-01T00:00:00Z'); // no refill: exactly messagesPerSecond get through
    const { url } = await server({ limits: { messagesPerSecond: 5 }, now: () => frozen });
    const flooder = await client(`${url}/ws`);
    await flooder.next(ofType('ready'));
    for (let i = 0; i < 5; i++) flooder.send({ type: 'ping' });
    for (let i = 0; i < 5; i++) await flooder.next(ofType('pong'));
    flooder.send({ type: 'ping' });
    expect(await flooder.next()).toMatchObject({ type: 'error', code: 'rate_limited' });
    for (let i = 0; i < 5; i++) flooder.send({ type: 'ping' });
    expect((await flooder.closed).code).toBe(1008);
    expect(flooder.received.filter(ofType('pong'))).toHaveLength(5);
    expect(flooder.received.filter(ofType('error'))).toHaveLength(1);
  });

  it('closes a consumer that stops reading with 1013 instead of buffering', async () => {
    const { hub, url, app } = await server({ limits: { maxBufferedBytes: 1024, heartbeatMs: 60_000 } });
    const slow = await client(`${url}/ws/auction/1`);
    await slow.next(ofType('subscribed'));
    const serverSide = [...app.websocketServer.clients][0];
    if (!serverSide) throw new Error('no server-side socket');
    // Stop reading: the kernel buffers fill, then ws's own buffer grows past maxBufferedBytes.
    const transport = (slow.socket as unknown as { _socket: Socket })._socket;
    transport.pause();
    const chunk = 'x'.repeat(256 * 1024);
    let published = 0;
    while (serverSide.readyState === WebSocket.OPEN && published < 2_000) {
      await hub.publish('auction:1', { type: 'bulk', data: chunk });
      published += 1;
      await new Promise((resolve) => setImmediate(resolve)); // let the socket write what it can
    }
    expect(serverSide.readyState).toBe(WebSocket.CLOSING);
    transport.resume();
    expect((await slow.closed).code).toBe(1013);
  });

  it('closeAll sends 1001 to every socket', async () => {
    const { hub, url, metrics } = await server();
    const first = await client(`${url}/ws`);
    const second = await client(`${url}/ws/auction/3`);
    await first.next(ofType('ready'));
    await second.next(ofType('subscribed'));
    expect(hub.connectionCount()).toBe(2);
    await hub.closeAll(1001, 'server shutting down');
    expect(await first.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect((await second.closed).code).toBe(1001);
    expect(hub.connectionCount()).toBe(0);
    expect(await gauge(metrics)).toBe(0);
    expect(await counted(metrics.wsClosed, '1001')).toBe(2);
  });

  it('terminates sockets that stop answering heartbeat pings', async () => {
    const { url } = await server({ limits: { heartbeatMs: 100 } });
    const healthy = await client(`${url}/ws`);
    const silent = await client(`${url}/ws`, { autoPong: false });
    await healthy.next(ofType('ready'));
    // Terminated without a close frame, which a client sees as 1006.
    expect((await silent.closed).code).toBe(1006);
    // Meanwhile the healthy client keeps answering and stays open across further pings.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => healthy.socket.once('ping', resolve));
    expect(healthy.socket.readyState).toBe(WebSocket.OPEN);
  });
});
