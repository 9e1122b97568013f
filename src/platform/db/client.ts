import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { traced } from '../observability/tracing.ts';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import * as schema from './schema.ts';
import type { DatabaseKind, Db } from './types.ts';

export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** What a `listen` subscription tells its owner. */
export interface ListenHandlers {
  /** A notification on the channel, with its payload. NOTIFY is delivered only after a commit. */
  onNotify(payload: string): void;
  /**
   * The subscription started (`true`: LISTEN is in place, the first time included) or stopped
   * (`false`: the connection carrying it was lost). Notifications sent while it was not listening
   * are lost: whatever they would have invalidated must be dropped on both calls.
   */
  onReset(listening: boolean): void;
  /** A connection or LISTEN failure (the subscription keeps retrying); for logs. */
  onError?(error: Error): void;
}

export interface Subscription {
  /** True while LISTEN is in place on a live connection. */
  readonly listening: boolean;
  /** Stops listening (idempotent). The database's `close` closes every subscription. */
  close(): Promise<void>;
}

/** An open database, whichever engine is behind it. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Set when embedded: pg-boss talks to it directly. */
  readonly pglite: PGlite | undefined;
  /** Set on PostgreSQL. */
  readonly connectionString: string | undefined;
  ping(): Promise<void>;
  poolStats(): PoolStats;
  /**
   * LISTEN on `channel`. PostgreSQL: a dedicated connection outside the pool (application_name
   * `caravan-listen`) that reconnects with backoff when lost. PGlite: the in-process connection.
   * Resolves after the first attempt; `onReset(true)` says when it listens.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Subscription>;
  close(): Promise<void>;
}

export type OpenDatabaseOptions = (
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly poolMax: number;
      readonly applicationName?: string;
    }
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined; readonly loadDataDir?: Blob }
) & { readonly traceQueries?: boolean };

type QueryFn = (...args: never[]) => Promise<unknown>;

/** Replaces `target.query` with one that records a span per statement. */
function traceQueryMethod(system: string, target: { query: QueryFn }): void {
  const original = target.query.bind(target) as (...args: unknown[]) => Promise<unknown>;
  target.query = ((...args: unknown[]) => {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? 'query');
    return traced(system, text, () => original(...args));
  }) as QueryFn;
}

const LISTEN_RETRY_MIN_MS = 100;
const LISTEN_RETRY_MAX_MS = 5_000;

/**
 * One LISTEN on its own connection: a pooled connection would be handed to other queries and its
 * notifications lost. Any error or end of the connection stops the subscription (notifications
 * may be missed from then on) and a new connection is tried with exponential backoff.
 */
async function listenPostgres(url: string, channel: string, handlers: ListenHandlers): Promise<Subscription> {
  let current: pg.Client | undefined;
  let listening = false;
  let closed = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;

  const lost = (client: pg.Client, error?: Error) => {
    // Errors and 'end' of a replaced or closed client arrive late; only the current one counts.
    if (client !== current) return;
    current = undefined;
    client.end().catch(() => {});
    if (error) handlers.onError?.(error);
    if (listening) {
      listening = false;
      handlers.onReset(false);
    }
    if (closed) return;
    const delay = Math.min(LISTEN_RETRY_MAX_MS, LISTEN_RETRY_MIN_MS * 2 ** failures++);
    retry = setTimeout(() => void connect(), delay);
    // A pending retry must not keep the process alive.
    retry.unref();
  };

  async function connect(): Promise<void> {
    retry = undefined;
    const client = new pg.Client({
      connectionString: url,
      application_name: 'caravan-listen',
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    current = client;
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client));
    client.on('notification', (message) => {
      if (message.channel === channel && client === current) handlers.onNotify(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (error) {
      lost(client, error as Error);
      return;
    }
    if (client !== current) return;
    failures = 0;
    listening = true;
    handlers.onReset(true);
  }

  await connect();
  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const client = current;
      current = undefined;
      listening = false;
      await client?.end().catch(() => {});
    },
  };
}

/** Every subscription of one database handle, so closing the database closes them. */
function subscriptions(open: (channel: string, handlers: ListenHandlers) => Promise<Subscription>) {
  const live = new Set<Subscription>();
  return {
    async listen(channel: string, handlers: ListenHandlers): Promise<Subscription> {
      const subscription = await open(channel, handlers);
      const tracked: Subscription = {
        get listening() {
          return subscription.listening;
        },
        async close() {
          live.delete(tracked);
          await subscription.close();
        },
      };
      live.add(tracked);
      return tracked;
    },
    closeAll: () => Promise.all([...live].map((subscription) => subscription.close())),
  };
}

async function openPostgres(
  url: string,
  poolMax: number,
  applicationName: string,
  traceQueries: boolean,
): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    application_name: applicationName,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  if (traceQueries) pool.on('connect', (client) => traceQueryMethod('postgresql', client as never));
  const db = drizzleNodePg({ client: pool, schema }) as unknown as Db;
  const listeners = subscriptions((channel, handlers) => listenPostgres(url, channel, handlers));
  return {
    kind: 'postgres',
    db,
    pglite: undefined,
    connectionString: url,
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: listeners.listen,
    async close() {
      await listeners.closeAll();
      await pool.end();
    },
  };
}

/**
 * The bundle ships a data directory already initialized and migrated (scripts/build.mjs); a first
 * start loads it instead of running initdb and every migration. Running from the sources there is
 * none, and PGlite runs initdb.
 */
function emptyDataDirSnapshot(dataDir: string): Blob | undefined {
  if (fs.existsSync(path.join(dataDir, 'pgdata', 'PG_VERSION'))) return undefined;
  const snapshot = new URL('./pglite-initial.tar.gz', import.meta.url);
  return fs.existsSync(snapshot) ? new Blob([fs.readFileSync(snapshot)]) : undefined;
}

async function openPglite(
  dataDir: string | undefined,
  loadDataDir: Blob | undefined,
  traceQueries: boolean,
): Promise<Database> {
  // The lock comes first: two processes on one data dir silently lose writes.
  const lock: DataDirLock | undefined = dataDir ? lockDataDir(dataDir) : undefined;
  let pglite: PGlite;
  try {
    const initial = loadDataDir ?? (dataDir ? emptyDataDirSnapshot(dataDir) : undefined);
    pglite = await PGlite.create({
      ...(dataDir ? { dataDir: `${dataDir}/pgdata` } : {}),
      ...(initial ? { loadDataDir: initial } : {}),
      extensions: { pg_trgm },
      // PGlite's default 128 MB of shared buffers is most of its memory; an embedded server's
      // working set is far smaller (measured: RSS 324 → 195 MB, open 0.8 → 0.5 s).
      postgresqlconf: ['shared_buffers=16MB'],
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  if (traceQueries) traceQueryMethod('pglite', pglite as never);
  const db = drizzlePglite({ client: pglite, schema }) as unknown as Db;
  let inFlight = 0;
  // In process: the connection cannot be lost, so a subscription listens until it is closed.
  const listeners = subscriptions(async (channel, handlers) => {
    const unlisten = await pglite.listen(channel, (payload) => handlers.onNotify(payload));
    let listening = true;
    handlers.onReset(true);
    return {
      get listening() {
        return listening;
      },
      async close() {
        if (!listening) return;
        listening = false;
        // Nothing to undo once the database is closed, and a failed UNLISTEN only wastes a callback.
        if (!pglite.closed) await unlisten().catch(() => {});
      },
    };
  });
  return {
    kind: 'pglite',
    db,
    pglite,
    connectionString: undefined,
    async ping() {
      inFlight++;
      try {
        await db.execute(sql`select 1`);
      } finally {
        inFlight--;
      }
    },
    poolStats: () => ({ total: 1, idle: inFlight === 0 ? 1 : 0, waiting: Math.max(0, inFlight - 1) }),
    listen: listeners.listen,
    async close() {
      try {
        await listeners.closeAll();
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

export function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const traceQueries = options.traceQueries ?? false;
  return options.kind === 'postgres'
    ? openPostgres(options.url, options.poolMax, options.applicationName ?? 'caravan', traceQueries)
    : openPglite(options.dataDir, options.loadDataDir, traceQueries);
}
