import { describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../platform/observability/metrics.ts';
import { createReadCache, type ReadCacheSettings } from './read-cache.ts';

const SETTINGS: ReadCacheSettings = { maxAgeMs: 30_000, maxEntries: 100, maxBytes: 1_000_000 };

/** A cache that listens, on a clock the test moves, and a loader that counts its reads. */
function setup(settings: Partial<ReadCacheSettings> = {}) {
  const metrics = createMetrics({ collectDefaults: false });
  let time = 0;
  const cache = createReadCache({
    name: 'test',
    settings: { ...SETTINGS, ...settings },
    metrics,
    now: () => time,
  });
  cache.handlers.onReset(true);
  const reads: string[] = [];
  const load =
    (key: string, body = `body of ${key}`) =>
    async () => {
      reads.push(key);
      return body;
    };
  const get = async (key: string, body?: string) => (await cache.get(key, load(key, body))).toString();
  return { cache, metrics, reads, load, get, advance: (ms: number) => (time += ms) };
}

async function counted(metrics: Metrics, name: string): Promise<Record<string, number>> {
  const metric = metrics.registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  // Every value carries the cache's name; the other labels tell them apart.
  return Object.fromEntries(
    values.map((value) => {
      const { cache: _cache, ...labels } = value.labels;
      return [Object.values(labels).join(',') || '', value.value];
    }),
  );
}

/** A load the test finishes when it wants. */
function deferred(body: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    load: async () => {
      await done;
      return body;
    },
    finish,
  };
}

describe('catalog read cache', () => {
  it('serves a second get from memory, as the same bytes', async () => {
    const { cache, metrics, reads, get } = setup();
    expect(await get('a')).toBe('body of a');
    expect(await get('a')).toBe('body of a');
    expect(reads).toEqual(['a']);
    expect(cache.size).toEqual({ entries: 1, bytes: Buffer.byteLength('body of a') });
    expect(await counted(metrics, 'caravan_catalog_cache_lookups_total')).toEqual({ miss: 1, hit: 1 });
  });

  it('counts bytes, not characters', async () => {
    const { cache, get } = setup();
    await get('ko', '무선 이어폰');
    expect(cache.size.bytes).toBe(Buffer.byteLength('무선 이어폰'));
    expect(cache.size.bytes).toBeGreaterThan('무선 이어폰'.length);
  });

  it('reads once for concurrent misses of one key', async () => {
    const { cache, metrics } = setup();
    const slow = deferred('shared body');
    let loads = 0;
    const load = () => {
      loads++;
      return slow.load();
    };
    const bodies = Promise.all([cache.get('k', load), cache.get('k', load), cache.get('k', load)]);
    slow.finish();
    expect((await bodies).map(String)).toEqual(['shared body', 'shared body', 'shared body']);
    expect(loads).toBe(1);
    expect(await counted(metrics, 'caravan_catalog_cache_lookups_total')).toEqual({ miss: 1, shared: 2 });
  });

  it('drops everything on a notification', async () => {
    const { cache, metrics, reads, get } = setup();
    await get('a');
    await get('b');
    cache.handlers.onNotify('products');
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
    await get('a');
    expect(reads).toEqual(['a', 'b', 'a']);
    expect(await counted(metrics, 'caravan_catalog_cache_invalidations_total')).toEqual({
      reset: 1,
      notify: 1,
    });
  });

  it('never keeps a read that a notification overlapped, and never lets a later request join it', async () => {
    const { cache, get, reads } = setup();
    const before = deferred('old');
    const first = cache.get('k', before.load);
    cache.handlers.onNotify('product_variants');
    // Arrived after the notification: must not wait for a read that began before it.
    const second = get('k', 'new');
    before.finish();
    expect((await first).toString()).toBe('old');
    expect(await second).toBe('new');
    expect(reads).toEqual(['k']);
    // The overlapped read was not kept; the later one was.
    expect(await get('k', 'newer')).toBe('new');
    expect(cache.size.entries).toBe(1);
  });

  it('serves nothing before the listener listens or after it is lost, until it is back', async () => {
    const metrics = createMetrics({ collectDefaults: false });
    const cache = createReadCache({ name: 'test', settings: SETTINGS, metrics });
    let loads = 0;
    const load = async () => `read ${++loads}`;
    expect(cache.serving).toBe(false);
    expect(String(await cache.get('k', load))).toBe('read 1');
    expect(String(await cache.get('k', load))).toBe('read 2');
    cache.handlers.onReset(true);
    expect(String(await cache.get('k', load))).toBe('read 3');
    expect(String(await cache.get('k', load))).toBe('read 3');
    cache.handlers.onReset(false);
    expect(cache.serving).toBe(false);
    expect(cache.size.entries).toBe(0);
    expect(String(await cache.get('k', load))).toBe('read 4');
    expect(String(await cache.get('k', load))).toBe('read 5');
    cache.handlers.onReset(true);
    expect(String(await cache.get('k', load))).toBe('read 6');
    expect(String(await cache.get('k', load))).toBe('read 6');
    expect(await counted(metrics, 'caravan_catalog_cache_lookups_total')).toEqual({
      bypass: 4,
      miss: 2,
      hit: 2,
    });
  });

  it('does not keep a read that a listener reset overlapped', async () => {
    const { cache, get } = setup();
    const slow = deferred('during the outage');
    const pending = cache.get('k', slow.load);
    cache.handlers.onReset(false);
    cache.handlers.onReset(true);
    slow.finish();
    expect((await pending).toString()).toBe('during the outage');
    expect(await get('k', 'after')).toBe('after');
  });

  it('expires entries by age, counted from the start of their read', async () => {
    const { reads, get, advance } = setup({ maxAgeMs: 1000 });
    await get('k');
    advance(999);
    await get('k');
    expect(reads).toEqual(['k']);
    advance(1);
    await get('k');
    expect(reads).toEqual(['k', 'k']);
  });

  it('evicts the least recently used entry beyond the entry bound', async () => {
    const { cache, metrics, reads, get } = setup({ maxEntries: 2 });
    await get('a');
    await get('b');
    await get('a'); // a is now the most recent
    await get('c'); // evicts b
    expect(cache.size.entries).toBe(2);
    await get('a');
    await get('b');
    expect(reads).toEqual(['a', 'b', 'c', 'b']);
    expect(await counted(metrics, 'caravan_catalog_cache_evictions_total')).toEqual({ '': 2 });
  });

  it('evicts beyond the byte bound and never keeps a body larger than it', async () => {
    const { cache, reads, get } = setup({ maxBytes: 10 });
    await get('a', '12345');
    await get('b', '12345');
    expect(cache.size).toEqual({ entries: 2, bytes: 10 });
    await get('c', '123');
    expect(cache.size).toEqual({ entries: 2, bytes: 8 });
    await get('big', '12345678901');
    expect(cache.size).toEqual({ entries: 2, bytes: 8 });
    await get('big', '12345678901');
    expect(reads.filter((key) => key === 'big')).toHaveLength(2);
  });

  it('does not keep a failed read, and every waiter gets its error', async () => {
    const { cache, get } = setup();
    const failing = async () => {
      throw new Error('no such category');
    };
    const results = await Promise.allSettled([cache.get('k', failing), cache.get('k', failing)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(cache.size.entries).toBe(0);
    expect(await get('k', 'then it works')).toBe('then it works');
  });
});
