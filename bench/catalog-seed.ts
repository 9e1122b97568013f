/**
 * Catalog generator speed on PostgreSQL, through the real platform (`buildApp`): categories,
 * sellers, N active products with 1–3 variants each, then VACUUM ANALYZE.
 *
 *   npx tsx bench/catalog-seed.ts [--products 1000000] [--concurrency 3] [--keep]
 *
 * DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/caravan_bench_catalog, which is
 * recreated first and dropped afterwards unless --keep (bench/search.ts reuses a kept one).
 * Only `caravan_bench_*` databases are ever created or dropped.
 *
 * stdout: one JSON object. stderr: the generator's progress line.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { buildApp } from '../src/app.ts';
import { generateCatalog } from '../src/modules/catalog/catalog.generator.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { dropBenchDatabase, isBenchDatabase, recreateBenchDatabase, serverVersion } from './lib/pg-admin.ts';
import { note, round } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    products: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const PRODUCTS = Number(args.products);
const CONCURRENCY = Number(args.concurrency);
const URL_ = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/caravan_bench_catalog';
const GOAL = { productsPerRun: 1_000_000, seconds: 180 };

async function main(): Promise<void> {
  const bench = isBenchDatabase(URL_);
  if (bench) await recreateBenchDatabase(URL_);
  const config = loadConfig({
    NODE_ENV: 'development',
    DATABASE_URL: URL_,
    DATA_DIR: '/tmp/caravan-bench-catalog',
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_MAX: String(CONCURRENCY + 2),
  });
  const app = await buildApp(config, { role: 'api', logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    note(`generating ${PRODUCTS} products on ${CONCURRENCY} connections`);
    const started = performance.now();
    const result = await generateCatalog(app.platform, {
      products: PRODUCTS,
      concurrency: CONCURRENCY,
      progress: true,
    });
    const totalMs = performance.now() - started;
    const size = (await app.platform.db.execute(
      sql`select pg_size_pretty(pg_total_relation_size('products')) as products,
        pg_size_pretty(pg_relation_size('products_search_trgm_idx')) as search_index`,
    )) as unknown as { rows: Array<Record<string, string>> };
    const perSecond = result.products / (result.insertMs / 1000);
    console.log(
      JSON.stringify(
        {
          bench: 'catalog-seed',
          postgres: await serverVersion(URL_),
          settings: { products: PRODUCTS, concurrency: CONCURRENCY, batch: 5000 },
          result: {
            ...result,
            totalSeconds: round(totalMs / 1000, 1),
            productsPerSecond: Math.round(perSecond),
            extrapolatedSecondsFor1M: round(
              1_000_000 / perSecond + (result.vacuumMs / 1000) * (1_000_000 / result.products),
              0,
            ),
            sizes: size.rows[0],
          },
          goal: GOAL,
          meetsGoal: PRODUCTS >= GOAL.productsPerRun ? totalMs / 1000 <= GOAL.seconds : null,
        },
        null,
        2,
      ),
    );
  } finally {
    await app.close();
    if (bench && !args.keep) await dropBenchDatabase(URL_);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
