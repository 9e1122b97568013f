/**
 * Search and listing latency through HTTP against the bundled server (`node dist/main.js start`).
 *
 *   npm run build && npx tsx bench/search.ts [--duration 15] [--clients 4] [--typos 200]
 *                                            [--small-products 10000] [--connections 50]
 *                                            [--skip-small] [--only-small]
 *
 * Part 1 (big catalog): DATABASE_URL, default postgres://postgres@127.0.0.1:5432/caravan_bench_catalog,
 * must already hold the generated catalog (`npx tsx bench/catalog-seed.ts --keep`, 1,000,000 products
 * by default); it is used as is and not dropped. Measured with --clients concurrent fetch loops:
 * keyword search (1–2 real title words, random), typo search (--typos real titles with one edit in
 * one word: is the intended product in the top 20?), category + price-range listing. EXPLAIN ANALYZE
 * of the candidate query for three sample queries goes to stderr and into the JSON.
 * Part 2 (small catalog): `caravan_bench_catalog_small` is recreated, seeded with --small-products
 * through `caravan seed-catalog`, and GET /api/products?limit=20 and GET /api/products/:id are
 * driven by autocannon at --connections for --duration seconds each (req/s, p99, server RSS); then
 * it is dropped. The server runs with the catalog listing cache as configured by CATALOG_CACHE_ENABLED
 * in this environment (default on): `CATALOG_CACHE_ENABLED=false npx tsx bench/search.ts --only-small`
 * measures without it. The listing's cache lookups (hit, miss, shared, bypass) are reported.
 *
 * stdout: one JSON object. stderr: progress notes and query plans.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import {
  CANDIDATE_CAP,
  candidatesQuery,
  firstMatchOf,
  resolveWords,
  resolveWordsQuery,
  WORD_SIMILARITY_THRESHOLD,
  type WordLookupRow,
  type WordMatch,
  wordLookupsOf,
} from '../src/modules/catalog/search.repo.ts';
import { searchWords } from '../src/modules/catalog/search.service.ts';
import { dropBenchDatabase, recreateBenchDatabase, serverVersion, withDatabaseName } from './lib/pg-admin.ts';
import { freePort, listeningProcess, memoryStatus, processTree } from './lib/proc.ts';
import { note, round, sleep, summarize } from './lib/stats.ts';

interface AutocannonResult {
  errors: number;
  non2xx: number;
  latency: { p50: number; p99: number; average: number };
  requests: { average: number; sent: number };
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests?: Array<{
    method?: string;
    path?: string;
    setupRequest?: (r: { path?: string }) => { path?: string };
  }>;
}) => PromiseLike<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    clients: { type: 'string', default: '4' },
    typos: { type: 'string', default: '200' },
    'small-products': { type: 'string', default: '10000' },
    connections: { type: 'string', default: '50' },
    'skip-small': { type: 'boolean', default: false },
    /** Only part 2 (product list / by id on the small catalog); no big catalog needed. */
    'only-small': { type: 'boolean', default: false },
  },
});
const DURATION_S = Number(args.duration);
const CLIENTS = Number(args.clients);
const TYPOS = Number(args.typos);
const SMALL = Number(args['small-products']);
const CONNECTIONS = Number(args.connections);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/caravan_bench_catalog';
const SMALL_URL = withDatabaseName(BIG_URL, 'caravan_bench_catalog_small');
const GOALS = { searchP95Ms: 20 };

function childEnv(url: string, port: number): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url,
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-bench-search-')),
    PORT: String(port),
    HOST: '127.0.0.1',
    SEED_DEMO_DATA: 'false',
    RATE_LIMIT_MAX: '100000000',
    ...(process.env.CATALOG_CACHE_ENABLED
      ? { CATALOG_CACHE_ENABLED: process.env.CATALOG_CACHE_ENABLED }
      : {}),
  };
}

async function startServer(url: string): Promise<{ base: string; child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--max-semi-space-size=4', '--max-old-space-size=1024', 'dist/main.js', 'start'],
    {
      cwd: ROOT,
      env: childEnv(url, port),
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-5000);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited before /readyz:\n${output}`);
    if (Date.now() > deadline) throw new Error('server not ready in 120 s');
    try {
      const response = await fetch(`${base}/readyz`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  return { base, child, port };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/**
 * GET over a keep-alive connection, the body read and dropped; resolves with the status. node:http
 * rather than fetch: the load generator shares the server's 2 cores, and fetch cost it twice the
 * CPU (0.29 against 0.15 of a core at ~420 searches/s), which showed up in the server's latency.
 */
function get(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        response.on('data', () => {});
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

/** `clients` loops, each issuing `next()` until the time is up; latencies in ms. */
async function load(base: string, next: () => string, seconds: number, clients: number) {
  const latencies: number[] = [];
  let errors = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        if ((await get(base + next(), agent)) !== 200) errors++;
        latencies.push(performance.now() - started);
      }
    }),
  );
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    rps: round(latencies.length / seconds, 0),
    ...summarize(latencies),
  };
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;

/** One edit (substitution, deletion or transposition) inside the longest word of 4+ letters. */
function withTypo(title: string): string {
  const words = title.split(' ');
  let index = 0;
  words.forEach((word, i) => {
    if ([...word].length > [...(words[index] as string)].length) index = i;
  });
  const chars = [...(words[index] as string)];
  if (chars.length < 3) return title;
  const at = 1 + Math.floor(Math.random() * (chars.length - 2));
  const kind = Math.floor(Math.random() * 3);
  if (kind === 0) chars.splice(at, 1);
  else if (kind === 1) [chars[at], chars[at - 1]] = [chars[at - 1] as string, chars[at] as string];
  else chars[at] = /[가-힣]/.test(chars[at] as string) ? '가' : chars[at] === 'x' ? 'z' : 'x';
  words[index] = chars.join('');
  return words.join(' ');
}

/** EXPLAIN ANALYZE of the first candidate query the service runs for `q` (after the vocabulary lookup). */
async function explain(client: pg.Client, q: string): Promise<string> {
  const dialect = new PgDialect();
  const words = searchWords(q);
  const resolved = await resolveWords(async (texts) => {
    if (texts.length === 0) return new Map();
    const lookup = dialect.sqlToQuery(resolveWordsQuery(texts));
    return wordLookupsOf(
      texts,
      (await client.query<WordLookupRow>(lookup.sql, lookup.params as unknown[])).rows,
    );
  }, words);
  const matches = new Map<string, WordMatch>([...resolved].map(([text, word]) => [text, firstMatchOf(word)]));
  const query = dialect.sqlToQuery(candidatesQuery(words, matches, {}));
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(
    `explain (analyze, buffers) ${query.sql}`,
    query.params as unknown[],
  );
  const described = [...resolved].map(
    ([text, word]) =>
      `${text}: ${word.exact ? `exact${word.terms ? ` → terms ${word.terms.join(', ')}` : ' (substring)'}` : `fuzzy → ${word.alternatives.map((a) => a.word).join(', ') || '(none)'}`}`,
  );
  return [described.join('; '), ...rows.map((row) => row['QUERY PLAN'])].join('\n');
}

async function bigCatalog() {
  const client = new pg.Client({ connectionString: BIG_URL });
  await client.connect();
  try {
    const { rows: countRows } = await client.query<{ n: string }>(
      `select count(*) as n from products where status = 'active'`,
    );
    const products = Number(countRows[0]?.n);
    if (!products) throw new Error(`no products in ${BIG_URL}: run bench/catalog-seed.ts --keep first`);
    const { rows: sample } = await client.query<{ id: string; title: string }>(
      `select id, title from products tablesample system (1) where status = 'active' limit 2000`,
    );
    const { rows: categories } = await client.query<{ slug_path: string }>(
      `select slug_path from categories`,
    );
    const words = [...new Set(sample.flatMap((row) => row.title.split(' ')).filter((w) => w.length >= 2))];
    note(`big catalog: ${products} products, ${words.length} distinct title words sampled`);

    const plans: Record<string, string> = {};
    for (const q of ['wireless earbuds', '무선 이어폰', 'ergonomc keybord']) {
      plans[q] = await explain(client, q);
      note(`EXPLAIN ANALYZE candidates for "${q}":\n${plans[q]}`);
    }

    const server = await startServer(BIG_URL);
    try {
      const serverPid = listeningProcess(processTree(server.child.pid as number), server.port);
      // Warm-up: caches, JIT, connection pool.
      await load(server.base, () => `/api/search?q=${encodeURIComponent(pick(words))}`, 3, CLIENTS);
      note('keyword search');
      // Search answers are cached (catalog README "Listing cache"): how often the cache answered
      // is reported next to the latencies.
      const { result: keyword, lookups: keywordCache } = await lookupsDuring(server.base, 'search', () =>
        load(
          server.base,
          () => {
            const q = Math.random() < 0.5 ? pick(words) : `${pick(words)} ${pick(words)}`;
            return `/api/search?q=${encodeURIComponent(q)}`;
          },
          DURATION_S,
          CLIENTS,
        ),
      );
      note('typo search');
      let hits = 0;
      let sameTitle = 0;
      const typoLatencies: number[] = [];
      const typoSample = sample.slice(0, TYPOS);
      const misses: string[] = [];
      for (const row of typoSample) {
        const q = withTypo(row.title);
        const started = performance.now();
        const response = await fetch(`${server.base}/api/search?q=${encodeURIComponent(q)}&limit=20`);
        const body = (await response.json()) as { items: Array<{ id: string; title: string }> };
        typoLatencies.push(performance.now() - started);
        if (body.items.some((item) => item.id === row.id)) hits++;
        else if (misses.length < 10) misses.push(`${q} (for ${row.title})`);
        if (body.items.some((item) => item.title === row.title)) sameTitle++;
      }
      note('category + price listing');
      const { result: listing, lookups: listingCache } = await lookupsDuring(server.base, 'listing', () =>
        load(
          server.base,
          () => {
            const min = pick([0, 10_000, 50_000, 100_000]);
            return `/api/products?category=${encodeURIComponent(pick(categories).slug_path)}&minPrice=${min}&maxPrice=${min * 5 + 50_000}`;
          },
          DURATION_S,
          CLIENTS,
        ),
      );
      return {
        products,
        keywordSearch: { ...keyword, cacheLookups: keywordCache },
        typoSearch: {
          queries: typoSample.length,
          intendedInTop20: round(hits / typoSample.length, 3),
          sameTitleInTop20: round(sameTitle / typoSample.length, 3),
          latency: summarize(typoLatencies),
          sampleMisses: misses,
        },
        categoryPriceListing: { ...listing, cacheLookups: listingCache },
        serverRssMb: serverPid ? round((memoryStatus(serverPid)?.rssKb ?? 0) / 1024, 0) : null,
        plans,
      };
    } finally {
      await stopServer(server.child);
    }
  } finally {
    await client.end();
  }
}

/** The server's catalog cache lookups by result, from its /metrics. */
/** The server's catalog cache lookups by result (hit, miss, shared, bypass) for one cache. */
async function cacheLookups(base: string, cache = 'listing'): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const lookups: Record<string, number> = {};
  const line = /^caravan_catalog_cache_lookups_total\{cache="(\w+)",result="(\w+)"\} (\d+)/gm;
  for (const match of text.matchAll(line))
    if (match[1] === cache) lookups[match[2] as string] = Number(match[3]);
  return lookups;
}

/** Lookups of `cache` made while `run` ran (after minus before). */
async function lookupsDuring<T>(base: string, cache: string, run: () => Promise<T>) {
  const before = await cacheLookups(base, cache);
  const result = await run();
  const after = await cacheLookups(base, cache);
  const delta = Object.fromEntries(
    Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]),
  ) as Record<string, number>;
  return { result, lookups: delta };
}

async function smallCatalog() {
  await recreateBenchDatabase(SMALL_URL);
  try {
    note(`seeding ${SMALL} products into caravan_bench_catalog_small`);
    execFileSync(process.execPath, ['dist/main.js', 'seed-catalog', '--products', String(SMALL)], {
      cwd: ROOT,
      env: childEnv(SMALL_URL, 0),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const client = new pg.Client({ connectionString: SMALL_URL });
    await client.connect();
    const { rows } = await client.query<{ id: string }>(
      `select id from products order by random() limit 1000`,
    );
    await client.end();
    const ids = rows.map((row) => row.id);
    const server = await startServer(SMALL_URL);
    try {
      const serverPid = listeningProcess(processTree(server.child.pid as number), server.port);
      const run = async (name: string, requests: Parameters<Autocannon>[0]['requests']) => {
        note(`${name}: ${CONNECTIONS} connections, ${DURATION_S} s`);
        const result = await autocannon({
          url: server.base,
          connections: CONNECTIONS,
          duration: DURATION_S,
          requests,
        });
        return {
          reqPerSec: round(result.requests.average, 0),
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          errors: result.errors,
          non2xx: result.non2xx,
          serverRssMb: serverPid ? round((memoryStatus(serverPid)?.rssKb ?? 0) / 1024, 0) : null,
        };
      };
      const list = await run('list', [{ method: 'GET', path: '/api/products?limit=20' }]);
      const listCache = await cacheLookups(server.base);
      const byId = await run('by id', [
        { method: 'GET', setupRequest: (request) => ({ ...request, path: `/api/products/${pick(ids)}` }) },
      ]);
      return {
        products: SMALL,
        connections: CONNECTIONS,
        catalogCache: process.env.CATALOG_CACHE_ENABLED ?? 'true (default)',
        list: { ...list, cacheLookups: listCache },
        byId,
      };
    } finally {
      await stopServer(server.child);
    }
  } finally {
    await dropBenchDatabase(SMALL_URL);
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('run `npm run build` first');
  const big = args['only-small'] ? null : await bigCatalog();
  const small = args['skip-small'] ? null : await smallCatalog();
  console.log(
    JSON.stringify(
      {
        bench: 'search',
        postgres: await serverVersion(withDatabaseName(BIG_URL, 'postgres')),
        machine: { cpus: os.cpus().length, node: process.version },
        settings: {
          durationS: DURATION_S,
          clients: CLIENTS,
          candidateCap: CANDIDATE_CAP,
          threshold: WORD_SIMILARITY_THRESHOLD,
        },
        big,
        small,
        goals: GOALS,
        meetsSearchGoal: big ? big.keywordSearch.p95 <= GOALS.searchP95Ms : null,
      },
      null,
      2,
    ),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
