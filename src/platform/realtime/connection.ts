import { randomUUID } from 'node:crypto';
import { type RawData, WebSocket } from 'ws';
import type { Config } from '../config/config.ts';
import type { Principal } from '../http/principal.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import {
  type ClientMessage,
  CloseCode,
  MAX_SUBSCRIPTIONS,
  parseClientMessage,
  type RealtimeErrorCode,
  type ServerMessage,
} from './protocol.ts';
import { createTokenBucket } from './rate-limit.ts';

export type Authorization = 'allowed' | 'denied' | 'unknown_channel';

/** What a connection needs from its hub; kept narrow so the protocol logic reads on its own. */
export interface ConnectionContext {
  readonly limits: Config['realtime'];
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  readonly authTimeoutMs: number;
  verify(token: string): Promise<Principal | null>;
  authorize(principal: Principal | null, channel: string): Promise<Authorization>;
  subscribe(connection: Connection, channel: string): void;
  unsubscribe(connection: Connection, channel: string): void;
  /** Called once, when the socket is gone, with the channels it still held. */
  closed(connection: Connection, channels: ReadonlySet<string>, code: number): void;
}

export interface ConnectionStart {
  /** Already verified by the HTTP layer (`Authorization: Bearer` on the upgrade request). */
  readonly principal?: Principal | null;
  /** From `?token=` / `?access_token=`; an invalid one closes the socket with 4401. */
  readonly token?: string | undefined;
  /** Set for alias paths (`/ws/auction/:id`): the socket opens subscribed to this channel. */
  readonly aliasChannel?: string | undefined;
}

export interface Connection {
  readonly id: string;
  /** Sends a serialised frame, or closes the socket with 1013 if the peer is not keeping up. */
  send(frame: string): void;
  close(code: number, reason: string): void;
  terminate(): void;
  /** Called every `heartbeatMs`: terminates a peer that did not answer the previous ping. */
  heartbeat(): void;
  /** Resolves once the socket has closed and the hub has forgotten it. */
  readonly done: Promise<void>;
}

export function openConnection(
  socket: WebSocket,
  context: ConnectionContext,
  start: ConnectionStart,
): Connection {
  const { limits, metrics } = context;
  const id = randomUUID();
  const logger = context.logger.child({ connectionId: id });
  const bucket = createTokenBucket(limits.messagesPerSecond, context.now);
  const channels = new Set<string>();
  let principal: Principal | null = null;
  let alive = true;
  let closeCode: number | undefined;
  let rejectedInARow = 0;
  /** Alias socket waiting for its first `auth` message. */
  let awaitingAuth: { channel: string; timer: NodeJS.Timeout } | undefined;
  // Messages are handled one at a time: `auth` then `subscribe` sent back to back must see the
  // principal, even though verifying the token is asynchronous.
  let queue: Promise<void> = Promise.resolve();
  let resolveDone = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const isOpen = () => socket.readyState === WebSocket.OPEN;

  const connection: Connection = {
    id,
    send(frame) {
      if (!isOpen()) return;
      // Past the limit the peer is not reading; buffering more would only grow our memory.
      if (socket.bufferedAmount > limits.maxBufferedBytes) {
        close(CloseCode.tryAgainLater, 'slow consumer');
        return;
      }
      socket.send(frame);
      metrics.wsMessages.inc({ direction: 'out' });
    },
    close,
    terminate: () => socket.terminate(),
    heartbeat() {
      if (!alive) {
        logger.debug('realtime: no pong since the last ping, terminating');
        socket.terminate();
        return;
      }
      alive = false;
      if (isOpen()) socket.ping();
    },
    done,
  };

  function close(code: number, reason: string): void {
    if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
    closeCode ??= code;
    stopWaitingForAuth();
    socket.close(code, reason);
  }

  function reply(message: ServerMessage): void {
    connection.send(JSON.stringify(message));
  }

  function fail(code: RealtimeErrorCode, message: string, ref?: string): void {
    reply(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  function enqueue(task: () => Promise<void> | void): void {
    queue = queue.then(task).catch((err: unknown) => {
      logger.error({ err }, 'realtime: message handling failed');
      close(CloseCode.internalError, 'internal error');
    });
  }

  function stopWaitingForAuth(): void {
    if (awaitingAuth) clearTimeout(awaitingAuth.timer);
    awaitingAuth = undefined;
  }

  function sendReady(): void {
    reply({ type: 'ready', connectionId: id, userId: principal?.userId ?? null });
  }

  async function subscribe(channel: string, ref?: string): Promise<void> {
    const subscribed: ServerMessage = { type: 'subscribed', channel, ...(ref === undefined ? {} : { ref }) };
    if (channels.has(channel)) return reply(subscribed);
    // Each subscription costs memory on every instance; a real client needs a handful.
    if (channels.size >= MAX_SUBSCRIPTIONS) {
      return fail('forbidden', `At most ${MAX_SUBSCRIPTIONS} subscriptions per connection`, ref);
    }
    const decision = await context.authorize(principal, channel);
    if (!isOpen()) return;
    if (decision === 'unknown_channel') {
      return fail('unknown_channel', `No channel type "${channel.split(':')[0]}"`, ref);
    }
    if (decision === 'denied') {
      if (principal) return fail('forbidden', `You may not subscribe to ${channel}`, ref);
      return fail('unauthenticated', `Sign in to subscribe to ${channel}`, ref);
    }
    channels.add(channel);
    context.subscribe(connection, channel);
    reply(subscribed);
  }

  /** Alias sockets: authorize the fixed channel, or wait briefly for an `auth` message. */
  async function openAlias(channel: string): Promise<void> {
    const decision = await context.authorize(principal, channel);
    if (!isOpen()) return;
    if (decision === 'unknown_channel') {
      fail('unknown_channel', `No channel type "${channel.split(':')[0]}"`);
      close(CloseCode.unknownChannel, 'unknown channel');
    } else if (decision === 'denied' && principal) {
      fail('forbidden', `You may not subscribe to ${channel}`);
      close(CloseCode.forbidden, 'forbidden');
    } else if (decision === 'denied') {
      const timer = setTimeout(() => {
        fail('unauthenticated', 'Send { "type": "auth" } first');
        close(CloseCode.unauthenticated, 'unauthenticated');
      }, context.authTimeoutMs);
      awaitingAuth = { channel, timer };
    } else {
      sendReady();
      await subscribe(channel);
    }
  }

  async function authenticate(token: string): Promise<boolean> {
    const verified = await context.verify(token);
    if (!isOpen()) return false;
    if (!verified) {
      fail('unauthenticated', 'Invalid or expired access token');
      return false;
    }
    principal = verified;
    return true;
  }

  async function handle(message: ClientMessage | null): Promise<void> {
    if (!isOpen()) return;
    if (!message) return fail('invalid_message', 'Expected a JSON object with a known "type"');
    if (message.type === 'ping') return reply({ type: 'pong' });

    if (awaitingAuth) {
      if (message.type !== 'auth') return fail('unauthenticated', 'Send { "type": "auth" } first');
      const { channel } = awaitingAuth;
      stopWaitingForAuth();
      if (!(await authenticate(message.token))) return close(CloseCode.unauthenticated, 'unauthenticated');
      return openAlias(channel);
    }

    switch (message.type) {
      case 'auth':
        // One identity per socket: subscriptions were authorized for it. To switch users, reconnect.
        if (principal) return fail('invalid_message', 'Already authenticated; reconnect to change user');
        if (await authenticate(message.token)) sendReady();
        return;
      case 'subscribe':
        await subscribe(message.channel, message.id);
        return;
      case 'unsubscribe':
        if (channels.delete(message.channel)) context.unsubscribe(connection, message.channel);
        reply({
          type: 'unsubscribed',
          channel: message.channel,
          ...(message.id === undefined ? {} : { ref: message.id }),
        });
        return;
    }
  }

  function onRateLimited(): void {
    rejectedInARow += 1;
    // One error per burst, not one per dropped message, so a flood does not double our output.
    if (rejectedInARow === 1) fail('rate_limited', `At most ${limits.messagesPerSecond} messages per second`);
    // Still flooding after a further second's allowance was refused: drop the connection.
    if (rejectedInARow > limits.messagesPerSecond) close(CloseCode.policyViolation, 'rate limit exceeded');
  }

  socket.on('message', (data: RawData, isBinary: boolean) => {
    metrics.wsMessages.inc({ direction: 'in' });
    alive = true;
    if (!bucket.take()) return onRateLimited();
    rejectedInARow = 0;
    const message = !isBinary && Buffer.isBuffer(data) ? parseClientMessage(data.toString('utf8')) : null;
    enqueue(() => handle(message));
  });

  socket.on('pong', () => {
    alive = true;
  });

  socket.on('error', (err: Error & { code?: string }) => {
    // ws closes oversize frames with 1009 itself; record that code instead of the 1006 that
    // 'close' reports, since ws stops reading (and never sees the client's close reply).
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') closeCode ??= CloseCode.messageTooBig;
  });

  socket.on('close', (code: number) => {
    stopWaitingForAuth();
    context.closed(connection, channels, closeCode ?? code);
    channels.clear();
    resolveDone();
  });

  enqueue(async () => {
    principal = start.principal ?? null;
    if (!principal && start.token !== undefined && !(await authenticate(start.token))) {
      return close(CloseCode.unauthenticated, 'unauthenticated');
    }
    if (start.aliasChannel === undefined) return sendReady();
    return openAlias(start.aliasChannel);
  });

  return connection;
}
