import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Message, startServer } from './realtime.test-support.ts';

const redisUrl = process.env.REDIS_URL;
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function track<T extends { close(): Promise<void> }>(resource: Promise<T>): Promise<T> {
  const value = await resource;
  opened.push(value);
  return value;
}

const event = (message: Message) => (message.event as { type: string }).type;

describe.skipIf(!redisUrl)('realtime hub across instances (Redis)', () => {
  it('delivers what instance A publishes to a client on instance B, once per client', async () => {
    // A pub/sub channel of our own, so parallel test files sharing this Redis do not cross-talk.
    const redisChannel = `caravan:realtime:test:${randomUUID()}`;
    const a = await track(startServer({ redisUrl, redisChannel, instanceId: 'a' }));
    const b = await track(startServer({ redisUrl, redisChannel, instanceId: 'b' }));
    for (const { hub } of [a, b]) hub.registerChannel('auction', () => true);

    const onA = await track(connect(`${a.url}/ws/auction/5`));
    const onB = await track(connect(`${b.url}/ws/auction/5`));
    for (const client of [onA, onB]) {
      expect(await client.next()).toMatchObject({ type: 'ready' });
      expect(await client.next()).toMatchObject({ type: 'subscribed', channel: 'auction:5' });
    }

    await a.hub.publish('auction:5', { type: 'first', data: { from: 'a' } });
    expect(await onB.next()).toMatchObject({ type: 'event', channel: 'auction:5', event: { type: 'first' } });
    expect(event(await onA.next())).toBe('first');

    // Redis delivers in order per subscriber, so had A's own echo of "first" been delivered again,
    // it would reach onA before "second", which B publishes only after onB saw "first".
    await b.hub.publish('auction:5', { type: 'second' });
    expect(event(await onA.next())).toBe('second');
    expect(event(await onB.next())).toBe('second');
    await a.hub.publish('auction:5', { type: 'third' });
    expect(event(await onB.next())).toBe('third');
    expect(event(await onA.next())).toBe('third');
  });
});
