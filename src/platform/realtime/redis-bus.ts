import { Redis } from 'ioredis';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import type { Logger } from '../observability/logger.ts';
import { RealtimeEventSchema } from './protocol.ts';

/** What travels between instances. `origin` lets the sender skip its own echo. */
const EnvelopeSchema = Type.Object({
  origin: Type.String(),
  channel: Type.String(),
  event: RealtimeEventSchema,
  at: Type.String(),
});
export type Envelope = Static<typeof EnvelopeSchema>;

export interface RedisBus {
  publish(envelope: Envelope): Promise<void>;
  close(): Promise<void>;
}

/**
 * Cross-instance fan-out over Redis pub/sub: one publisher and one subscriber connection per hub.
 *
 * Every event goes through ONE Redis channel (default `caravan:realtime`) and each instance filters
 * by its own subscription map, instead of one Redis channel per hub channel. Per-channel SUBSCRIBE
 * would cost a round trip (and a window where events are lost) each time the first local socket
 * joins a channel, plus bookkeeping to UNSUBSCRIBE later; a single channel keeps the hub stateless
 * towards Redis and correct from the moment `createRedisBus` resolves. The price is that every
 * instance parses every event, which is cheap at marketplace volumes; sharded pub/sub (SSUBSCRIBE)
 * is the next step if that ever shows up in a profile.
 */
export async function createRedisBus(options: {
  url: string;
  redisChannel: string;
  instanceId: string;
  logger: Logger;
  onMessage: (envelope: Envelope) => void;
}): Promise<RedisBus> {
  const { redisChannel, instanceId, logger } = options;
  const publisher = new Redis(options.url, { lazyConnect: true });
  const subscriber = new Redis(options.url, { lazyConnect: true });
  // ioredis reconnects (and re-subscribes) on its own; without a listener an error would crash.
  publisher.on('error', (err) => logger.warn({ err }, 'realtime redis publisher error'));
  subscriber.on('error', (err) => logger.warn({ err }, 'realtime redis subscriber error'));

  subscriber.on('message', (channel: string, payload: string) => {
    if (channel !== redisChannel) return;
    const envelope = parseEnvelope(payload);
    if (!envelope) {
      logger.warn({ redisChannel }, 'realtime: dropped a malformed message from redis');
      return;
    }
    // The publishing instance already delivered to its own sockets (see hub.ts).
    if (envelope.origin === instanceId) return;
    options.onMessage(envelope);
  });

  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    // Resolving only after SUBSCRIBE is acknowledged means no event published afterwards is missed.
    await subscriber.subscribe(redisChannel);
  } catch (err) {
    publisher.disconnect();
    subscriber.disconnect();
    throw err;
  }

  return {
    async publish(envelope) {
      await publisher.publish(redisChannel, JSON.stringify(envelope));
    },
    async close() {
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

function parseEnvelope(payload: string): Envelope | null {
  try {
    const value: unknown = JSON.parse(payload);
    return Value.Check(EnvelopeSchema, value) ? value : null;
  } catch {
    return null;
  }
}
