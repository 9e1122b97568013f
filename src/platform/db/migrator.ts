import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { getConstructionPlans } from 'pg-boss';
import type { Database } from './client.ts';

/**
 * The committed migrations: the nearest `migrations/` above this file, so the path holds both when
 * running the sources (src/platform/db) and the bundle (dist/).
 */
export const MIGRATIONS_FOLDER = findMigrationsFolder(path.dirname(fileURLToPath(import.meta.url)));

function findMigrationsFolder(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'migrations');
    if (fs.existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`No migrations folder above ${from}`);
  }
}
export const JOBS_SCHEMA = 'pgboss';

// Any constant works; it only has to be the same in every Caravan process.
const MIGRATION_LOCK_ID = 7_411_203_911;

interface RawExecutor {
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
}

async function installJobSchema(executor: RawExecutor): Promise<void> {
  const { rows } = await executor.query(`select to_regclass('${JOBS_SCHEMA}.version') as version`);
  if (rows[0]?.version) return; // an installed pg-boss upgrades its own schema on start
  await executor.query(getConstructionPlans(JOBS_SCHEMA));
}

const COUNT_APPLIED = `select count(*)::int as n from drizzle.__drizzle_migrations`;

async function countApplied(executor: RawExecutor): Promise<number> {
  const { rows } = await executor.query(`select to_regclass('drizzle.__drizzle_migrations') as t`);
  if (!rows[0]?.t) return 0;
  return Number((await executor.query(COUNT_APPLIED)).rows[0]?.n ?? 0);
}

async function migratePostgres(url: string): Promise<number> {
  // One dedicated session: the advisory lock is per session, so lock, migrate and unlock share it.
  const client = new pg.Client({ connectionString: url, application_name: 'caravan-migrate' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query('create extension if not exists pg_trgm');
    const before = await countApplied(client);
    await migrateNodePg(drizzleNodePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    await installJobSchema(client);
    const applied = (await countApplied(client)) - before;
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    return applied;
  } finally {
    await client.end();
  }
}

async function migrateEmbedded(pglite: PGlite): Promise<number> {
  const executor: RawExecutor = {
    query: async (text) => {
      const results = await pglite.exec(text);
      return { rows: (results.at(-1)?.rows ?? []) as Record<string, unknown>[] };
    },
  };
  await pglite.exec('create extension if not exists pg_trgm');
  const before = await countApplied(executor);
  await migratePglite(drizzlePglite({ client: pglite }), { migrationsFolder: MIGRATIONS_FOLDER });
  await installJobSchema(executor);
  return (await countApplied(executor)) - before;
}

/**
 * The app's own migrator (drizzle-kit's cannot load extensions on PGlite): extensions, the committed
 * SQL migrations, the job queue's schema, then fresh planner statistics when anything changed (PGlite
 * has no autovacuum).
 * On PostgreSQL an advisory lock makes concurrent starts take turns.
 */
export async function runMigrations(database: Database): Promise<{ applied: number }> {
  let applied = 0;
  if (database.pglite) applied = await migrateEmbedded(database.pglite);
  else if (database.connectionString) applied = await migratePostgres(database.connectionString);
  // Only after a change: a full VACUUM ANALYZE on every boot would cost seconds on a big catalog.
  if (applied > 0) await vacuumAnalyze(database);
  return { applied };
}

export async function vacuumAnalyze(database: Database): Promise<void> {
  if (database.pglite) await database.pglite.exec('vacuum analyze');
  else if (database.connectionString) {
    const client = new pg.Client({ connectionString: database.connectionString });
    await client.connect();
    try {
      await client.query('vacuum analyze');
    } finally {
      await client.end();
    }
  }
}
