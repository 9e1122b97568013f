import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { type ClientOptions, WebSocket } from 'ws';
import { type Config, loadConfig } from '../config/config.ts';
import type { AccessTokenVerifier } from '../http/principal.ts';
import { createMetrics, type Metrics } from '../observability/metrics.ts';
import { createRealtimeHub, type RealtimeHub, type RealtimeHubOptions } from './hub.ts';
import { realtimeWebsocketOptions, registerRealtimeRoutes } from './realtime.routes.ts';

/** Stands in for the accounts module's verifier: `token-<userId>` is valid, anything else is not. */
export const fakeVerifier: AccessTokenVerifier = {
  verify: async (token) =>
    token.startsWith('token-')
      ? { userId: token.slice('token-'.length), roles: [], emailVerified: true }
      : null,
};

export function testLimits(overrides: Partial<Config['realtime']> = {}): Config['realtime'] {
  return {
    ...loadConfig({ WS_MAX_MESSAGE_BYTES: '1024', WS_MESSAGES_PER_SECOND: '50' }).realtime,
    ...overrides,
  };
}

export interface TestServer {
  readonly hub: RealtimeHub;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  readonly url: string;
  close(): Promise<void>;
}

/** A hub behind a real Fastify listening on 127.0.0.1, wired the way the app wires it. */
export async function startServer(
  options: Partial<Omit<RealtimeHubOptions, 'config'>> & { limits?: Partial<Config['realtime']> } = {},
): Promise<TestServer> {
  const metrics = options.metrics ?? createMetrics({ collectDefaults: false });
  const hub = await createRealtimeHub({
    logger: pino({ level: 'silent' }),
    verifier: () => fakeVerifier,
    ...options,
    config: testLimits(options.limits),
    metrics,
  });
  const app = Fastify({ logger: false });
  // Mirrors the app's boot check: a route without an access rule is refused.
  app.addHook('onRoute', (route) => {
    if (!route.config?.access) throw new Error(`${route.url} has no access rule`);
  });
  // Mirrors the app's auth hook: a Bearer header on the upgrade request sets request.principal.
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) request.principal = await fakeVerifier.verify(header.slice(7));
  });
  await app.register(fastifyWebsocket, realtimeWebsocketOptions(hub.limits));
  registerRealtimeRoutes(app, hub);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    hub,
    app,
    metrics,
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await hub.close();
      await app.close();
    },
  };
}

export type Message = Record<string, unknown> & { type: string };

export interface TestClient {
  readonly socket: WebSocket;
  /** Every message received so far, in order. */
  readonly received: readonly Message[];
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first unread message matching `predicate` (the next one when omitted); rejects if the socket closes first. */
  next(predicate?: (message: Message) => boolean): Promise<Message>;
  close(): Promise<void>;
}

export async function connect(url: string, options?: ClientOptions): Promise<TestClient> {
  const socket = new WebSocket(url, options);
  const received: Message[] = [];
  const unread: Message[] = [];
  const waiters: {
    predicate: (message: Message) => boolean;
    resolve: (message: Message) => void;
    reject: (error: Error) => void;
  }[] = [];
  let closeInfo: { code: number; reason: string } | undefined;

  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Message;
    received.push(message);
    const index = waiters.findIndex((waiter) => waiter.predicate(message));
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message);
    else unread.push(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => {
      closeInfo = { code, reason: reason.toString() };
      for (const waiter of waiters.splice(0)) {
        waiter.reject(
          new Error(`socket closed with ${code} (${closeInfo.reason}) while waiting for a message`),
        );
      }
      resolve(closeInfo);
    });
  });
  await once(socket, 'open');

  return {
    socket,
    received,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next(predicate = () => true) {
      const index = unread.findIndex(predicate);
      if (index >= 0) return Promise.resolve(unread.splice(index, 1)[0] as Message);
      if (closeInfo) return Promise.reject(new Error(`socket already closed with ${closeInfo.code}`));
      return new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject }));
    },
    async close() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await closed;
    },
  };
}

export const ofType = (type: string) => (message: Message) => message.type === type;
