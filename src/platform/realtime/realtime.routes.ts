import type { WebsocketPluginOptions } from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import type { Config } from '../config/config.ts';
import { access } from '../http/access.ts';
import type { ConnectionStart } from './connection.ts';
import type { RealtimeHub } from './hub.ts';

const ConnectQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: 8192 })),
  access_token: Type.Optional(Type.String({ maxLength: 8192 })),
});
type ConnectQuery = Static<typeof ConnectQuery>;

// Anyone may open a socket; each channel's authorizer checks the token when it is subscribed.
const routeConfig = { access: access.public('token checked per channel by the hub') };

/**
 * Options for `app.register(fastifyWebsocket, realtimeWebsocketOptions(config.realtime))`.
 * `maxPayload` makes ws close oversize frames with 1009 before we ever parse them. The error
 * handler replaces the plugin's default, which logs client faults at error level and terminates
 * the socket before the close frame carrying that 1009 can reach the client.
 */
export function realtimeWebsocketOptions(limits: Config['realtime']): WebsocketPluginOptions {
  return {
    options: { maxPayload: limits.maxMessageBytes },
    errorHandler(error, socket, request) {
      // ws has already started the close handshake (with the right code) for protocol faults.
      if (socket.readyState !== socket.OPEN) {
        request.log.debug({ err: error }, 'realtime: websocket closed on a protocol error');
        return;
      }
      request.log.warn({ err: error }, 'realtime: websocket error');
      socket.terminate();
    },
  };
}

/**
 * Adds `/ws` and one route per alias registered on the hub (so register aliases first). The caller
 * must already have registered @fastify/websocket, ideally with `realtimeWebsocketOptions`.
 */
export function registerRealtimeRoutes(app: FastifyInstance, hub: RealtimeHub): void {
  // `request.principal` is set by the app's onRequest hook when the upgrade carried
  // `Authorization: Bearer` (server-side clients); browsers cannot set headers on a WebSocket, so
  // they use `?token=` or the `auth` message.
  const startOf = (request: FastifyRequest<{ Querystring: ConnectQuery }>): ConnectionStart => ({
    principal: request.principal ?? null,
    token: request.query.token ?? request.query.access_token,
  });

  app.get<{ Querystring: ConnectQuery }>(
    '/ws',
    { websocket: true, schema: { querystring: ConnectQuery }, config: routeConfig },
    (socket, request) => hub.accept(socket, startOf(request)),
  );

  for (const alias of hub.aliases()) {
    app.get<{ Querystring: ConnectQuery; Params: Record<string, string> }>(
      alias.path,
      { websocket: true, schema: { querystring: ConnectQuery }, config: routeConfig },
      (socket, request) =>
        hub.accept(socket, { ...startOf(request), aliasChannel: alias.toChannel(request.params) }),
    );
  }
}
