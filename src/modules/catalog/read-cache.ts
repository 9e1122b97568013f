import client from 'prom-client';
import type { ListenHandlers } from '../../platform/db/client.ts';
import type { Metrics } from '../../platform/observability/metrics.ts';

/** Migration 0007's triggers notify here (payload: the table) at every committed catalog change. */
export const CATALOG_CHANGED_CHANNEL = 'caravan_catalog_changed';

export interface ReadCacheSettings {
  readonly maxAgeMs: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/**
 * Serialized response bodies by key, valid only while nothing in the catalog can have changed
 * since their read began: the owner subscribes `handlers` to CATALOG_CHANGED_CHANNEL.
 */
export interface ReadCache {
  /**
   * The body for `key`: the cached one while valid, else `load()`'s, read once for every request
   * that asks for the same key meanwhile.
   */
  get(key: string, load: () => Promise<string>): Promise<Buffer>;
  /** For `Database.listen`: a notification drops every entry; so do both kinds of reset. */
  readonly handlers: ListenHandlers;
  /** False until the subscription listens, and whenever it does not: then nothing is served or kept. */
  readonly serving: boolean;
  readonly size: { readonly entries: number; readonly bytes: number };
}

interface Entry {
  readonly body: Buffer;
  readonly generation: number;
  readonly storedAt: number;
}

interface Flight {
  readonly generation: number;
  readonly body: Promise<Buffer>;
}

type Result = 'hit' | 'miss' | 'shared' | 'bypass';

type CacheState = () => { entries: number; bytes: number; serving: boolean };

/** The metric set of one registry; every cache on it reports under its own `cache` label. */
function registryMetrics(metrics: Metrics) {
  const registers = [metrics.registry];
  const caches = new Map<string, CacheState>();
  return {
    caches,
    size: new client.Gauge({
      name: 'caravan_catalog_cache_size',
      help: 'Catalog read cache contents (unit: entries, bytes)',
      labelNames: ['cache', 'unit'],
      registers,
      collect() {
        for (const [cache, read] of caches) {
          const size = read();
          this.set({ cache, unit: 'entries' }, size.entries);
          this.set({ cache, unit: 'bytes' }, size.bytes);
        }
      },
    }),
    serving: new client.Gauge({
      name: 'caravan_catalog_cache_serving',
      help: '1 while the catalog change listener is live and the read cache serves, else 0',
      labelNames: ['cache'],
      registers,
      collect() {
        for (const [cache, read] of caches) this.set({ cache }, read().serving ? 1 : 0);
      },
    }),
    lookups: new client.Counter({
      name: 'caravan_catalog_cache_lookups_total',
      help: 'Catalog read cache lookups: hit, miss (read the database), shared (waited for a miss of the same key), bypass (not serving)',
      labelNames: ['cache', 'result'],
      registers,
    }),
    invalidations: new client.Counter({
      name: 'caravan_catalog_cache_invalidations_total',
      help: 'Catalog read cache drops: notify (a committed catalog change), reset (the listener stopped or started)',
      labelNames: ['cache', 'cause'],
      registers,
    }),
    evictions: new client.Counter({
      name: 'caravan_catalog_cache_evictions_total',
      help: 'Catalog read cache entries evicted for the entry or byte bound',
      labelNames: ['cache'],
      registers,
    }),
  };
}

const metricsByRegistry = new WeakMap<Metrics['registry'], ReturnType<typeof registryMetrics>>();

function cacheMetrics(metrics: Metrics, cache: string, read: CacheState) {
  let shared = metricsByRegistry.get(metrics.registry);
  if (!shared) {
    shared = registryMetrics(metrics);
    metricsByRegistry.set(metrics.registry, shared);
  }
  shared.caches.set(cache, read);
  const { lookups, invalidations, evictions } = shared;
  return {
    lookups: { inc: (labels: { result: Result }) => lookups.inc({ cache, ...labels }) },
    invalidations: {
      inc: (labels: { cause: 'notify' | 'reset' }) => invalidations.inc({ cache, ...labels }),
    },
    evictions: { inc: () => evictions.inc({ cache }) },
  };
}

/**
 * An in-process LRU of serialized bodies, invalidated by the database's NOTIFY.
 *
 * Validity: every notification or listener reset advances `generation` and empties the cache. A
 * read takes the generation before it starts and its body is kept only if the generation has
 * not moved when it ends, so a read that overlapped a change is never served from the cache.
 * Entries also expire after `maxAgeMs`, a bound for anything the listener could miss silently.
 * Bodies are Buffers: sent as they are (no UTF-8 encoding per hit), counted in exact bytes.
 */
export function createReadCache(options: {
  /** The `cache` label of its metrics (one name per cache and registry). */
  name: string;
  settings: ReadCacheSettings;
  metrics: Metrics;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
}): ReadCache {
  const { maxAgeMs, maxEntries, maxBytes } = options.settings;
  const now = options.now ?? (() => performance.now());
  // Insertion order is recency order: a hit moves its entry to the end, eviction takes the first.
  let entries = new Map<string, Entry>();
  let bytes = 0;
  let generation = 0;
  let listening = false;
  const flights = new Map<string, Flight>();
  const counters = cacheMetrics(options.metrics, options.name, () => ({
    entries: entries.size,
    bytes,
    serving: listening,
  }));
  const count = (result: Result) => counters.lookups.inc({ result });

  function invalidate(cause: 'notify' | 'reset'): void {
    generation++;
    entries = new Map();
    bytes = 0;
    counters.invalidations.inc({ cause });
  }

  function remove(key: string, entry: Entry): void {
    entries.delete(key);
    bytes -= entry.body.length;
  }

  function store(key: string, entry: Entry): void {
    if (entry.body.length > maxBytes) return;
    const previous = entries.get(key);
    if (previous) remove(key, previous);
    entries.set(key, entry);
    bytes += entry.body.length;
    while (entries.size > maxEntries || bytes > maxBytes) {
      const [oldestKey, oldest] = entries.entries().next().value as [string, Entry];
      remove(oldestKey, oldest);
      counters.evictions.inc();
    }
  }

  function fresh(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.generation !== generation || now() - entry.storedAt >= maxAgeMs) {
      remove(key, entry);
      return undefined;
    }
    entries.delete(key);
    entries.set(key, entry);
    return entry;
  }

  async function read(key: string, started: number, load: () => Promise<string>): Promise<Buffer> {
    // The age counts from the start of the read: that is how old the data may be.
    const startedAt = now();
    const body = Buffer.from(await load());
    // A notification (or reset) during the read: the body may predate the change. It still
    // answers the requests that were waiting for it, which all arrived before it was read.
    if (listening && started === generation) store(key, { body, generation: started, storedAt: startedAt });
    return body;
  }

  function fly(key: string, load: () => Promise<string>): Promise<Buffer> {
    const started = generation;
    const body = read(key, started, load);
    flights.set(key, { generation: started, body });
    const land = () => {
      if (flights.get(key)?.body === body) flights.delete(key);
    };
    body.then(land, land);
    return body;
  }

  return {
    async get(key, load) {
      // Not listening: a change could go unnoticed, so neither serve nor share an earlier read.
      if (!listening) {
        count('bypass');
        return Buffer.from(await load());
      }
      const entry = fresh(key);
      if (entry) {
        count('hit');
        return entry.body;
      }
      // A read begun before the last notification may miss that change: only a read of the
      // current generation is shared.
      const flight = flights.get(key);
      if (flight && flight.generation === generation) {
        count('shared');
        return flight.body;
      }
      count('miss');
      return fly(key, load);
    },
    handlers: {
      onNotify: () => invalidate('notify'),
      onReset(nowListening) {
        listening = nowListening;
        invalidate('reset');
      },
    },
    get serving() {
      return listening;
    },
    get size() {
      return { entries: entries.size, bytes };
    },
  };
}
