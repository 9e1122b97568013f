export type { Connection, ConnectionStart } from './connection.ts';
export {
  type AliasTarget,
  type ChannelAuthorizer,
  createRealtimeHub,
  type RealtimeAlias,
  type RealtimeHub,
  type RealtimeHubOptions,
} from './hub.ts';
export { CloseCode, type RealtimeErrorCode, type RealtimeEvent, type ServerMessage } from './protocol.ts';
export { realtimeWebsocketOptions, registerRealtimeRoutes } from './realtime.routes.ts';
