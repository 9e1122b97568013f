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
  return {
    kind: 'postgres',
    db,
    pglite: undefined,
    connectionString: url,
    async ping() {
      await pool.query('select 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
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
    async close() {
      try {
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
