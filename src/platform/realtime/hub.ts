import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Config } from '../config/config.ts';
import type { AccessTokenVerifier, Principal } from '../http/principal.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { type Authorization, type Connection, type ConnectionStart, openConnection } from './connection.ts';
import { channelPrefix, PREFIX_PATTERN, type RealtimeEvent } from './protocol.ts';
import { createRedisBus, type Envelope, type RedisBus } from './redis-bus.ts';

export type ChannelAuthorizer = (principal: Principal | null, channel: string) => boolean | Promise<boolean>;
export type AliasTarget = (params: Record<string, string>) => string;

export interface RealtimeAlias {
  readonly path: string;
  readonly toChannel: AliasTarget;
}

export interface RealtimeHubOptions {
  readonly config: Config['realtime'];
  /** Set to fan out across instances through Redis pub/sub; in-process only otherwise. */
  readonly redisUrl?: string | undefined;
  /** Redis pub/sub channel; deployments sharing one Redis need distinct values. */
  readonly redisChannel?: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** A getter, because the accounts module installs the real verifier after the hub exists. */
  readonly verifier: () => AccessTokenVerifier;
  readonly instanceId?: string;
  /** Milliseconds since the epoch; injected so tests can freeze the rate limiter. */
  readonly now?: () => number;
  /** How long an alias socket may wait for its first `auth` message. */
  readonly authTimeoutMs?: number;
}

export interface RealtimeHub {
  /** Lets a module own `<prefix>:<id>` channels; `authorize` runs on every subscribe. */
  registerChannel(prefix: string, authorize: ChannelAuthorizer): void;
  /** A socket path that opens already subscribed, e.g. `/ws/auction/:id`. Call before the routes are registered. */
  registerAlias(path: string, toChannel: AliasTarget): void;
  /** Delivers to every subscriber on every instance. Call after the transaction commits. */
  publish(channel: string, event: RealtimeEvent): Promise<void>;
  connectionCount(): number;
  /** Closes every socket with `code`; resolves when all are gone (stragglers are cut after a grace period). */
  closeAll(code: number, reason: string): Promise<void>;
  /** Stops the heartbeat, closes every socket with 1001 and disconnects from Redis. */
  close(): Promise<void>;

  // Used by realtime.routes.ts.
  readonly limits: Config['realtime'];
  aliases(): readonly RealtimeAlias[];
  accept(socket: WebSocket, start: ConnectionStart): void;
}

const CLOSE_GRACE_MS = 5_000;

export async function createRealtimeHub(options: RealtimeHubOptions): Promise<RealtimeHub> {
  const { config, logger, metrics } = options;
  const instanceId = options.instanceId ?? randomUUID();
  const now = options.now ?? Date.now;
  const authorizers = new Map<string, ChannelAuthorizer>();
  const aliasList: RealtimeAlias[] = [];
  let aliasesRead = false;
  const connections = new Set<Connection>();
  const subscribers = new Map<string, Set<Connection>>();
  let accepting = true;

  /** Serialises once per event, not once per socket. */
  function deliverLocally(envelope: Envelope): void {
    const targets = subscribers.get(envelope.channel);
    if (!targets) return;
    const frame = JSON.stringify({
      type: 'event',
      channel: envelope.channel,
      event: envelope.event,
      at: envelope.at,
    });
    for (const connection of targets) connection.send(frame);
  }

  const bus: RedisBus | null = options.redisUrl
    ? await createRedisBus({
        url: options.redisUrl,
        redisChannel: options.redisChannel ?? 'caravan:realtime',
        instanceId,
        logger,
        onMessage: deliverLocally,
      })
    : null;

  async function authorize(principal: Principal | null, channel: string): Promise<Authorization> {
    const prefix = channelPrefix(channel);
    const authorizer = prefix === null ? undefined : authorizers.get(prefix);
    if (!authorizer) return 'unknown_channel';
    try {
      return (await authorizer(principal, channel)) ? 'allowed' : 'denied';
    } catch (err) {
      // A failing rule must not open a channel; the client sees "forbidden" and we see the error.
      logger.error({ err, channel }, 'realtime: channel authorizer threw');
      return 'denied';
    }
  }

  const context = {
    limits: config,
    logger,
    metrics,
    now,
    authTimeoutMs: options.authTimeoutMs ?? 5_000,
    verify: (token: string) => options.verifier().verify(token),
    authorize,
    subscribe(connection: Connection, channel: string) {
      const set = subscribers.get(channel);
      if (set) set.add(connection);
      else subscribers.set(channel, new Set([connection]));
    },
    unsubscribe(connection: Connection, channel: string) {
      const set = subscribers.get(channel);
      set?.delete(connection);
      if (set?.size === 0) subscribers.delete(channel);
    },
    closed(connection: Connection, channels: ReadonlySet<string>, code: number) {
      for (const channel of channels) context.unsubscribe(connection, channel);
      if (connections.delete(connection)) metrics.wsConnections.dec();
      metrics.wsClosed.inc({ code: String(code) });
    },
  };

  // One timer for all sockets rather than one per socket.
  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, config.heartbeatMs);
  heartbeat.unref();

  async function closeAll(code: number, reason: string): Promise<void> {
    const open = [...connections];
    for (const connection of open) connection.close(code, reason);
    const allDone = Promise.all(open.map((connection) => connection.done));
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
    });
    await Promise.race([allDone, grace]);
    clearTimeout(timer);
    // A peer that never answers the close handshake would otherwise hold shutdown for ws's 30 s.
    for (const connection of open) connection.terminate();
    await allDone;
  }

  const hub: RealtimeHub = {
    limits: config,

    registerChannel(prefix, authorizer) {
      if (!PREFIX_PATTERN.test(prefix)) throw new Error(`Invalid realtime channel prefix "${prefix}"`);
      if (authorizers.has(prefix))
        throw new Error(`Realtime channel prefix "${prefix}" is already registered`);
      authorizers.set(prefix, authorizer);
    },

    registerAlias(path, toChannel) {
      if (aliasesRead)
        throw new Error(`Realtime alias ${path} registered after the routes; register it first`);
      aliasList.push({ path, toChannel });
    },

    aliases() {
      aliasesRead = true;
      return [...aliasList];
    },

    async publish(channel, event) {
      if (channelPrefix(channel) === null) throw new Error(`Invalid realtime channel "${channel}"`);
      const envelope: Envelope = { origin: instanceId, channel, event, at: new Date(now()).toISOString() };
      // Local sockets get it straight away; other instances through Redis, which skip our own echo.
      deliverLocally(envelope);
      if (!bus) return;
      try {
        await bus.publish(envelope);
      } catch (err) {
        // Events are a best-effort nudge after a committed change (clients refetch on reconnect);
        // a Redis hiccup must not turn the caller's successful request into an error.
        logger.error({ err, channel }, 'realtime: publish to redis failed');
      }
    },

    connectionCount: () => connections.size,

    accept(socket, start) {
      if (!accepting) {
        socket.close(1001, 'server shutting down');
        return;
      }
      connections.add(openConnection(socket, context, start));
      metrics.wsConnections.inc();
    },

    closeAll,

    async close() {
      accepting = false;
      clearInterval(heartbeat);
      await closeAll(1001, 'server shutting down');
      await bus?.close();
    },
  };

  hub.registerChannel('user', (principal, channel) => principal?.userId === channel.slice('user:'.length));
  hub.registerAlias('/ws/auction/:id', (params) => `auction:${params.id}`);
  hub.registerAlias('/ws/chat/:conversationId', (params) => `conversation:${params.conversationId}`);
  return hub;
}
