import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * The wire protocol: JSON text frames. Clients branch on `type` and on error `code`, never on
 * `message`, so both are stable once shipped (see README.md).
 */

/** `<prefix>:<id>`, e.g. `auction:42`. The prefix picks the module that authorizes the channel. */
const CHANNEL_PATTERN = /^([a-z][a-z0-9_-]*):\S+$/;
const MAX_CHANNEL_LENGTH = 200;

const ChannelName = Type.String({
  minLength: 3,
  maxLength: MAX_CHANNEL_LENGTH,
  pattern: CHANNEL_PATTERN.source,
});
const ClientRef = Type.String({ maxLength: 100 });

export const ClientMessageSchema = Type.Union([
  Type.Object({ type: Type.Literal('auth'), token: Type.String({ minLength: 1, maxLength: 8192 }) }),
  Type.Object({ type: Type.Literal('subscribe'), channel: ChannelName, id: Type.Optional(ClientRef) }),
  Type.Object({ type: Type.Literal('unsubscribe'), channel: ChannelName, id: Type.Optional(ClientRef) }),
  Type.Object({ type: Type.Literal('ping') }),
]);
export type ClientMessage = Static<typeof ClientMessageSchema>;

export type RealtimeErrorCode =
  | 'invalid_message'
  | 'unauthenticated'
  | 'forbidden'
  | 'unknown_channel'
  | 'rate_limited';

/** What a module publishes: `type` names the event (`bid.placed`), `data` is its JSON payload. */
export const RealtimeEventSchema = Type.Object({
  type: Type.String({ minLength: 1 }),
  data: Type.Optional(Type.Unknown()),
});
export type RealtimeEvent = Static<typeof RealtimeEventSchema>;

export type ServerMessage =
  | { type: 'ready'; connectionId: string; userId: string | null }
  | { type: 'subscribed'; channel: string; ref?: string }
  | { type: 'unsubscribed'; channel: string; ref?: string }
  | { type: 'error'; code: RealtimeErrorCode; message: string; ref?: string }
  | { type: 'pong' }
  | { type: 'event'; channel: string; event: RealtimeEvent; at: string };

export const MAX_SUBSCRIPTIONS = 100;

/** Close codes the hub uses; 4xxx mirror the HTTP statuses a REST client would see. */
export const CloseCode = {
  goingAway: 1001,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  unauthenticated: 4401,
  forbidden: 4403,
  unknownChannel: 4404,
} as const;

export function parseClientMessage(text: string): ClientMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  return Value.Check(ClientMessageSchema, value) ? value : null;
}

/** The prefix of a well-formed channel name, or null when the name is malformed. */
export function channelPrefix(channel: string): string | null {
  if (channel.length > MAX_CHANNEL_LENGTH) return null;
  return CHANNEL_PATTERN.exec(channel)?.[1] ?? null;
}

export const PREFIX_PATTERN = /^[a-z][a-z0-9_-]*$/;
