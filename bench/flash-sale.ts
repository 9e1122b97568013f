/**
 * Flash sale on PostgreSQL: --buyers concurrent `POST /api/checkout` for one variant with --units
 * in stock, through the real HTTP server (`buildApp`, role `all`, `http.listen` on 127.0.0.1, in
 * this process), local payment provider. The HTTP client runs in a forked process of its own
 * (bench/lib/flash-client.ts), so the server's CPU and event loop serve requests only.
 *
 *   npx tsx bench/flash-sale.ts [--buyers 2000] [--units 100] [--connections 2000] [--warmup 50]
 *                               [--probes 20] [--no-preconnect] [--no-floor] [--timeout-s 60]
 *                               [--in-process-client] [--cpu-profile burst.cpuprofile] [--keep]
 *
 * PostgreSQL: the server in DATABASE_URL (default postgres://postgres@127.0.0.1:5432); the
 * benchmark recreates `caravan_bench_flash` there (or the `caravan_bench_*` database DATABASE_URL
 * names) and drops it at the end unless --keep. DATABASE_POOL_MAX (default 20), REDIS_URL (rate
 * limits in Redis) and LOG_LEVEL (default silent) are taken from this shell; every other setting
 * is fixed here: PAYMENT_PROVIDER=local, rate limit out of the way, default load shedding.
 *
 * 1. Setup (not measured): one seller with one active product whose variant receives --units
 *    (`receiveStock`); --buyers verified buyers inserted in bulk with one precomputed password
 *    hash, each with an open cart holding 1 unit of that variant, each signed in through the
 *    accounts module's `startSession` (a real session and access token).
 * 2. Warm-up (not reported as the result): the client process starts (node:http, a keep-alive
 *    Agent of --connections sockets) and --warmup other buyers check out a second product, 8 at a
 *    time (JIT, pool connections, the session verifier's code paths). Then, unless
 *    --no-preconnect, --connections concurrent `GET /healthz` open every client socket, so the
 *    burst measures checkout rather than TCP handshakes.
 * 3. Burst: the client gets the --buyers requests ahead (each with its own buyer's Bearer token
 *    and a shipping address) and, when told over IPC, issues them all in one synchronous loop
 *    (requests beyond --connections wait in the agent, as a browser's would wait in its
 *    connection). Per request: latency from issue to the last response byte (`latencyMs`, the
 *    headline), and the server's own time from the request's arrival to its response being
 *    written (`serverMs`, without the client-side queue). Wall time from the first issue to the
 *    last response. Both processes stamp times as `performance.timeOrigin + performance.now()`,
 *    so arrivals (server) and issues (client) share one time base.
 * 4. Checks in the database: `stock_levels` of the variant (available 0, held = units, sold 0,
 *    available + held + sold = received - adjusted), the sum of its active holds = held, exactly
 *    --units pending orders with a line of the variant, one per buyer, the same orders the 201
 *    answers named. `ok` is false and the script exits 1 when sold != --units, when a check
 *    fails, or when any answer is neither 201 nor 409 `out_of_stock` (`otherErrors`; the pool and
 *    statement errors behind 500s are in `profile.databaseErrorsDuringBurst`).
 * 5. Profile: `pg.Client#query` and `pg.Pool#connect` of the app's pool are wrapped (pg-boss's own
 *    pool is not counted) and every request's statements, transactions, time in statements and
 *    time waiting for a pool connection are counted against it (AsyncLocalStorage entered when
 *    the request arrives), split by outcome in `profile.burstDb`, and by statement over all
 *    requests in `profile.burstStatements` (send to result: lock waits and the event loop's
 *    delay in reading the answer count); CPU of this process (the server), of the client's
 *    process and of the bench database's postgres backends; pool waiters; event-loop delay.
 *    Then --probes sequential checkouts on the out-of-stock path (refused buyers try again, only
 *    while the variant is sold out) and --probes on the success path (fresh buyers, second
 *    product), one at a time.
 *    --cpu-profile FILE: a V8 CPU profile of the burst (this process), self time by package/file.
 * 6. Floor (unless --no-floor): --buyers `GET /healthz`, then --buyers `GET /api/me` (signed in),
 *    each batch issued at once over the same connections: what this process serves at best on
 *    this machine right now, to read the checkout figures against.
 *
 * --in-process-client: the old mode, client and server in one process and event loop: the client's
 * work then delays the server's and its CPU is in the node figures (`clientCpuMsPerAttempt` null).
 *
 * stdout: one JSON object. stderr: progress notes.
 */

import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { buildApp, type CaravanApp } from '../src/app.ts';
import { accountsContext } from '../src/modules/accounts/accounts.context.ts';
import { users } from '../src/modules/accounts/accounts.tables.ts';
import { startSession } from '../src/modules/accounts/sessions.service.ts';
import type { User } from '../src/modules/accounts/users.repo.ts';
import { cartLines, carts } from '../src/modules/cart/cart.tables.ts';
import { createCategoriesService } from '../src/modules/catalog/categories.service.ts';
import { createProductsService } from '../src/modules/catalog/products.service.ts';
import { receiveStock } from '../src/modules/inventory/index.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import {
  createFlashClient,
  type FlashClient,
  forkFlashClient,
  now,
  type Outcome,
  type RequestSpec,
} from './lib/flash-client.ts';
import {
  databaseName,
  dropBenchDatabase,
  isBenchDatabase,
  recreateBenchDatabase,
  serverVersion,
  withDatabaseName,
} from './lib/pg-admin.ts';
import { note, round, sleep, startCpuMeter, summarize } from './lib/stats.ts';

// --- settings ----------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    buyers: { type: 'string', default: '2000' },
    units: { type: 'string', default: '100' },
    // Default: one socket per buyer, as 2,000 browsers would have. Fewer sockets move the queue
    // from the server (pool waiters) into the client agent.
    connections: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '50' },
    probes: { type: 'string', default: '20' },
    'no-preconnect': { type: 'boolean', default: false },
    // The old mode: the client in the server's process and event loop (costs the server CPU).
    'in-process-client': { type: 'boolean', default: false },
    // After the checks: the same number of GET /healthz, then of GET /api/me (signed in), all
    // issued at once over the same connections: what this process and machine serve at best.
    'no-floor': { type: 'boolean', default: false },
    // Writes a V8 CPU profile of the burst only (this process: server and client) to this file and
    // adds its self time by package / source file to the JSON.
    'cpu-profile': { type: 'string' },
    'timeout-s': { type: 'string', default: '60' },
    keep: { type: 'boolean', default: false },
  },
});

function intInRange(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be an integer ${min}..${max}`);
  return value;
}

const BUYERS = intInRange('buyers', args.buyers, 1, 20_000);
const UNITS = intInRange('units', args.units, 1, 1_000_000);
const CONNECTIONS = intInRange('connections', args.connections, 1, 20_000);
const WARMUP = intInRange('warmup', args.warmup, 0, 1000);
const PROBES = intInRange('probes', args.probes, 0, 1000);
const PRECONNECT = !args['no-preconnect'];
const IN_PROCESS_CLIENT = args['in-process-client'];
const FLOOR = !args['no-floor'];
const CPU_PROFILE = args['cpu-profile'];
const TIMEOUT_MS = intInRange('timeout-s', args['timeout-s'], 1, 600) * 1000;

const GOALS = { attemptsPerSecond: 1000, p99Ms: 300 };
const PASSWORD = 'bench-password-correct-horse';
const PRICE_MINOR = 10_000;
const ADDRESS = {
  name: 'Minji Kim',
  line1: '350 5th Ave',
  city: 'New York',
  region: 'NY',
  postalCode: '10118',
  country: 'US',
};
const BODY = JSON.stringify({ shippingAddress: ADDRESS });

function benchUrl(): string {
  const given = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  return isBenchDatabase(given) ? given : withDatabaseName(given, 'caravan_bench_flash');
}

// --- statement counting (the app's pool only) --------------------------------------------------

/** What one request (or, outside any request, the background work) did with the app's pool. */
interface DbUse {
  statements: number;
  transactions: number;
  /** Time in statements (send to result), summed. */
  dbMs: number;
  /** Time waiting for a pool connection, summed. */
  poolWaitMs: number;
  texts: Map<string, number> | undefined;
}

const newDbUse = (texts = false): DbUse => ({
  statements: 0,
  transactions: 0,
  dbMs: 0,
  poolWaitMs: 0,
  texts: texts ? new Map() : undefined,
});

/**
 * During the burst: time in statements by statement (first 70 characters), over every request,
 * send to result (so a lock wait, and the event loop's delay in reading the answer, count).
 */
let burstStatements: Map<string, { count: number; totalMs: number; maxMs: number }> | undefined;

/** Job workers, crons, setup: statements issued outside any benchmark request. */
const background = newDbUse();
/** The current benchmark request on the server side (entered when Node hands the request over). */
const requestContext = new AsyncLocalStorage<DbUse>();

const isAppPool = (name: string | undefined) => name === 'caravan';

/** Errors from the app's pool (connection timeouts) and statements, by message. */
const databaseErrors = new Map<string, number>();
const recordError = (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  databaseErrors.set(message, (databaseErrors.get(message) ?? 0) + 1);
};

/**
 * Wraps `pg.Client#query` and `pg.Pool#connect` once, counting per request through
 * `requestContext`. The app's pool connects as `application_name = caravan`, pg-boss's as
 * `caravan-jobs`; only the first is counted. Drizzle runs `begin` as a statement.
 */
function countAppStatements(): void {
  type Fn = (this: unknown, ...rest: unknown[]) => unknown;
  const client = pg.Client.prototype as unknown as { query: Fn };
  const query = client.query;
  client.query = function wrappedQuery(this: unknown, ...rest: unknown[]) {
    const params = (this as { connectionParameters?: { application_name?: string } }).connectionParameters;
    if (!isAppPool(params?.application_name)) return query.apply(this, rest);
    const use = requestContext.getStore() ?? background;
    const first = rest[0] as string | { text?: string } | undefined;
    const text = (typeof first === 'string' ? first : (first?.text ?? '')).trim();
    use.statements++;
    if (/^begin\b/i.test(text)) use.transactions++;
    if (use.texts) {
      const key = text.replace(/\s+/g, ' ').slice(0, 110);
      use.texts.set(key, (use.texts.get(key) ?? 0) + 1);
    }
    const started = performance.now();
    const done = (error: unknown) => {
      const took = performance.now() - started;
      use.dbMs += took;
      if (error) recordError(error);
      if (burstStatements && use !== background) {
        const key = text.replace(/\s+/g, ' ').slice(0, 70);
        const entry = burstStatements.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 };
        entry.count++;
        entry.totalMs += took;
        entry.maxMs = Math.max(entry.maxMs, took);
        burstStatements.set(key, entry);
      }
    };
    // `pool.query` passes a callback (and gets no promise back): time it through the callback.
    const last = rest.at(-1);
    if (typeof last === 'function') {
      rest[rest.length - 1] = (error: unknown, ...results: unknown[]) => {
        done(error);
        return (last as (...r: unknown[]) => unknown)(error, ...results);
      };
      return query.apply(this, rest);
    }
    const result = query.apply(this, rest);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => done(undefined),
        (error: unknown) => done(error),
      );
    }
    return result;
  };
  const pool = pg.Pool.prototype as unknown as { connect: Fn };
  const connect = pool.connect;
  pool.connect = function wrappedConnect(this: unknown, ...rest: unknown[]) {
    const options = (this as { options?: { application_name?: string } }).options;
    if (!isAppPool(options?.application_name)) return connect.apply(this, rest);
    const use = requestContext.getStore() ?? background;
    const started = performance.now();
    const done = () => {
      use.poolWaitMs += performance.now() - started;
    };
    const callback = rest[0];
    if (typeof callback === 'function') {
      // `pool.query` runs its statement inside this callback, which the pool calls from whichever
      // request released a connection: bind it to the caller's context so the statement counts
      // for the request that issued it.
      return connect.call(
        this,
        AsyncResource.bind((...results: unknown[]) => {
          done();
          if (results[0]) recordError(results[0]);
          return (callback as (...r: unknown[]) => unknown)(...results);
        }),
      );
    }
    const result = connect.apply(this, rest) as Promise<unknown>;
    result.then(done, (error: unknown) => {
      done();
      recordError(error);
    });
    return result;
  };
}

// --- CPU of the benchmark database's postgres backends (Linux /proc; USER_HZ 100) -------------

/**
 * CPU ticks of every postgres backend connected to `database` (its process title names the
 * database). Other databases' backends (other work on the machine) and the shared background
 * processes (WAL writer, checkpointer) are left out.
 */
function postgresTicks(database: string): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!title.includes(` ${database} `)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // gone meanwhile
    }
  }
  return ticks;
}

/** CPU seconds the database's backends used since the call (backends that exit meanwhile are lost). */
function startPostgresMeter(database: string): () => number {
  const start = postgresTicks(database);
  return () => {
    let ticks = 0;
    for (const [pid, value] of postgresTicks(database)) ticks += value - (start.get(pid) ?? 0);
    return ticks / 100;
  };
}

// --- setup ---------------------------------------------------------------------------------------

interface Buyer {
  readonly index: number;
  readonly userId: string;
  readonly authorization: string;
}

async function createSellerProduct(app: CaravanApp, label: string, units: number): Promise<string> {
  const { db, clock } = app.platform;
  const [seller] = await db
    .insert(users)
    .values({
      email: `flash-seller-${label}@bench.example`,
      passwordHash: null,
      roles: ['seller'],
      displayName: `Flash seller ${label}`,
      emailVerifiedAt: new Date(),
    })
    .returning();
  if (!seller) throw new Error('no seller');
  const category = await createCategoriesService({ db, clock }).create({
    input: { name: `Flash ${label}` },
  });
  const products = createProductsService({ db, clock });
  const actor = { userId: seller.id, roles: seller.roles };
  const product = await products.create({
    actor,
    input: {
      title: `Flash sale ${label}`,
      currency: 'USD',
      categoryId: category.id,
      variants: [{ sku: `FLASH-${label}`, title: 'One size', priceMinor: PRICE_MINOR }],
    },
  });
  await products.publish({ actor, id: product.id });
  const variantId = product.variants[0]?.id;
  if (!variantId) throw new Error('no variant');
  await db.transaction((tx) =>
    receiveStock(tx, { variantId, quantity: units, actorId: null, note: `bench ${label}` }),
  );
  return variantId;
}

/**
 * `count` verified buyers, each with an open cart holding 1 unit of `variantId`, each signed in.
 * Users, carts and lines go in as bulk inserts (one argon2 hash shared by all); the sessions come
 * from `startSession`, 16 at a time.
 */
async function createBuyers(
  app: CaravanApp,
  prefix: string,
  count: number,
  variantId: string,
  passwordHash: string,
): Promise<Buyer[]> {
  const { db } = app.platform;
  const context = accountsContext(app.platform);
  const chunk = 1000;
  const created: User[] = [];
  for (let first = 0; first < count; first += chunk) {
    const rows = await db
      .insert(users)
      .values(
        Array.from({ length: Math.min(chunk, count - first) }, (_, offset) => ({
          email: `${prefix}-${first + offset}@bench.example`,
          passwordHash,
          roles: ['buyer' as const],
          displayName: `${prefix} ${first + offset}`,
          emailVerifiedAt: new Date(),
        })),
      )
      .returning();
    const cartRows = await db
      .insert(carts)
      .values(rows.map((user) => ({ userId: user.id, currency: 'USD' })))
      .returning({ id: carts.id });
    await db
      .insert(cartLines)
      .values(
        cartRows.map((cart) => ({ cartId: cart.id, variantId, quantity: 1, unitPriceMinor: PRICE_MINOR })),
      );
    created.push(...rows);
  }
  const buyers: Buyer[] = new Array(created.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < created.length) {
        const index = next++;
        const user = created[index] as User;
        const tokens = await startSession(context, db, user, { userAgent: 'bench/flash-sale' });
        buyers[index] = { index, userId: user.id, authorization: `Bearer ${tokens.accessToken}` };
      }
    }),
  );
  return buyers;
}

// --- HTTP (the client runs in bench/lib/flash-client.ts) ---------------------------------------------

function checkoutRequest(buyer: Buyer, seq?: number): RequestSpec {
  return {
    method: 'POST',
    path: '/api/checkout',
    authorization: buyer.authorization,
    body: BODY,
    ...(seq === undefined ? {} : { seq }),
  };
}

interface ServedRequest {
  readonly arrivedAt: number;
  servedMs: number | undefined;
  readonly db: DbUse;
}

/**
 * Per benchmark request (header `x-bench-seq`), on the server side: arrival (Node hands the
 * request over; this listener runs before Fastify's), the time until the response's last byte is
 * written, and what the request did with the pool. The request's async context is entered here,
 * so every statement Fastify's handler issues for it is counted against it.
 */
function watchRequests(app: CaravanApp, texts: (seq: number) => boolean): Map<number, ServedRequest> {
  const served = new Map<number, ServedRequest>();
  app.http.server.prependListener('request', (request, response) => {
    const seq = Number(request.headers['x-bench-seq']);
    if (!Number.isInteger(seq)) return;
    const entry: ServedRequest = {
      arrivedAt: now(),
      servedMs: undefined,
      db: newDbUse(texts(seq)),
    };
    served.set(seq, entry);
    requestContext.enterWith(entry.db);
    response.once('finish', () => {
      entry.servedMs = now() - entry.arrivedAt;
    });
  });
  return served;
}

const ms = (values: number[]) => {
  const summary = summarize(values);
  return { p50: summary.p50, p95: summary.p95, p99: summary.p99, max: summary.max, mean: summary.mean };
};

// --- CPU profile of the burst ---------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** Where a function lives: a package, a source file of ours, a Node internal, or V8's own. */
function bucketOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const ours = /\/((?:src|bench)\/.*)$/.exec(url);
  return ours ? (ours[1] as string) : url;
}

async function startCpuProfile() {
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as unknown as {
        profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
      };
      session.disconnect();
      fs.writeFileSync(CPU_PROFILE as string, JSON.stringify(profile));
      const bucket = new Map(profile.nodes.map((node) => [node.id, bucketOf(node)]));
      const selfUs = new Map<string, number>();
      let totalUs = 0;
      profile.samples.forEach((id, index) => {
        const delta = profile.timeDeltas[index] ?? 0;
        const key = bucket.get(id) ?? '?';
        selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
        totalUs += delta;
      });
      note(`CPU profile of the burst written to ${CPU_PROFILE}`);
      return [...selfUs]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([where, us]) => ({ where, ms: round(us / 1000), percent: round((us / totalUs) * 100) }));
    },
  };
}

/** `count` requests issued at once (GET `path`, optionally signed in as the buyers in turn). */
async function floorRun(
  client: FlashClient,
  served: Map<number, ServedRequest>,
  firstSeq: number,
  path: string,
  count: number,
  buyers?: readonly Buyer[],
) {
  const { outcomes, started } = await client.run(
    Array.from({ length: count }, (_, index) => ({
      method: 'GET' as const,
      path,
      seq: firstSeq + index,
      ...(buyers ? { authorization: (buyers[index % buyers.length] as Buyer).authorization } : {}),
    })),
  );
  const wallMs = Math.max(...outcomes.map((outcome) => outcome.endedAt)) - started;
  return {
    requests: count,
    non200: outcomes.filter((outcome) => outcome.status !== 200).length,
    requestsPerSecond: round((count / wallMs) * 1000),
    latencyMs: ms(outcomes.map((outcome) => outcome.endedAt - outcome.issuedAt)),
    statementsPerRequest: dbSummary(served, outcomes).statements.mean,
  };
}

// --- phases ----------------------------------------------------------------------------------------

/** Sequence numbers of the probes and floor runs (the burst uses 0..buyers-1). */
const PROBE_SEQ = {
  outOfStock: 10_000_000,
  success: 20_000_000,
  floorHealthz: 30_000_000,
  floorMe: 40_000_000,
};

async function warmUp(client: FlashClient, buyers: readonly Buyer[]) {
  const { outcomes } = await client.run(
    buyers.map((buyer) => checkoutRequest(buyer)),
    8,
  );
  const failed = outcomes.filter((outcome) => outcome.status !== 201);
  if (failed.length > 0) {
    throw new Error(
      `warm-up: ${failed.length} checkouts failed, first ${failed[0]?.status} ${failed[0]?.code}`,
    );
  }
  return summarize(outcomes.map((outcome) => outcome.endedAt - outcome.issuedAt));
}

async function preconnect(client: FlashClient): Promise<number> {
  const { notOk, openSockets } = await client.preconnect(CONNECTIONS);
  if (notOk > 0) note(`pre-connect: ${notOk} of ${CONNECTIONS} /healthz requests did not answer 200`);
  return openSockets;
}

async function burst(app: CaravanApp, client: FlashClient, buyers: readonly Buyer[]) {
  await client.stage(buyers.map((buyer, seq) => checkoutRequest(buyer, seq)));
  const database = app.platform.database;
  const pool = { samples: 0, waitingSum: 0, waitingMax: 0, busyMax: 0 };
  const sampler = setInterval(() => {
    const stats = database.poolStats();
    pool.samples++;
    pool.waitingSum += stats.waiting;
    pool.waitingMax = Math.max(pool.waitingMax, stats.waiting);
    pool.busyMax = Math.max(pool.busyMax, stats.total - stats.idle);
  }, 5);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu = startCpuMeter();
  const postgresCpu = startPostgresMeter(databaseName(app.platform.config.database.url ?? ''));
  const backgroundBefore = background.statements;
  databaseErrors.clear();
  burstStatements = new Map();
  const profiler = CPU_PROFILE ? await startCpuProfile() : undefined;
  const { outcomes, started, issuedMs, clientCpuMs } = await client.go();
  const wallMs = Math.max(...outcomes.map((outcome) => outcome.endedAt)) - started;
  const statementTimes = [...(burstStatements ?? [])]
    .sort((a, b) => b[1].totalMs - a[1].totalMs)
    .slice(0, 15)
    .map(([statement, entry]) => ({
      statement,
      count: entry.count,
      totalMs: round(entry.totalMs),
      meanMs: round(entry.totalMs / entry.count, 2),
      maxMs: round(entry.maxMs),
    }));
  burstStatements = undefined;
  const cpuProfileTop = profiler ? await profiler.stop() : null;
  const cpuUse = cpu();
  const postgresCpuSeconds = postgresCpu();
  loop.disable();
  clearInterval(sampler);
  return {
    outcomes,
    wallMs,
    issuedMs,
    started,
    cpu: {
      /** The server's process (with --in-process-client, the client too). */
      nodeProcessPercent: cpuUse.processPercent,
      machinePercentOfAllCores: cpuUse.machinePercent,
      postgresBackendsPercent: round((postgresCpuSeconds / (wallMs / 1000)) * 100),
      /** The forked client's process (null with --in-process-client: it is in nodeProcessPercent). */
      clientProcessPercent: IN_PROCESS_CLIENT ? null : round((clientCpuMs / wallMs) * 100),
      nodeCpuMsPerAttempt: round(((cpuUse.processPercent / 100) * wallMs) / outcomes.length, 2),
      postgresBackendsCpuMsPerAttempt: round((postgresCpuSeconds * 1000) / outcomes.length, 2),
      clientCpuMsPerAttempt: IN_PROCESS_CLIENT ? null : round(clientCpuMs / outcomes.length, 2),
    },
    pool: {
      max: app.platform.config.database.poolMax,
      busyMax: pool.busyMax,
      waitingMax: pool.waitingMax,
      waitingMean: pool.samples === 0 ? 0 : round(pool.waitingSum / pool.samples),
    },
    eventLoopDelayMs: {
      p50: round(loop.percentile(50) / 1e6),
      p99: round(loop.percentile(99) / 1e6),
      max: round(loop.max / 1e6),
    },
    backgroundStatements: background.statements - backgroundBefore,
    statementTimes,
    databaseErrors: Object.fromEntries(databaseErrors),
    cpuProfileTop,
  };
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : round(values.reduce((sum, v) => sum + v, 0) / values.length, 2);

/** Pool use of these requests on the server side (statements, transactions, time). */
function dbSummary(served: Map<number, ServedRequest>, outcomes: readonly Outcome[]) {
  const entries = outcomes
    .map((outcome) => (outcome.seq === undefined ? undefined : served.get(outcome.seq)))
    .filter((entry): entry is ServedRequest => entry !== undefined);
  const statements = entries.map((entry) => entry.db.statements);
  return {
    requests: entries.length,
    statements: { mean: mean(statements), min: Math.min(...statements), max: Math.max(...statements) },
    transactions: mean(entries.map((entry) => entry.db.transactions)),
    /** Requests that opened the reservation transaction (a 409 there was rolled back). */
    transactionsHistogram: entries.reduce<Record<string, number>>((counts, entry) => {
      counts[entry.db.transactions] = (counts[entry.db.transactions] ?? 0) + 1;
      return counts;
    }, {}),
    /** Time inside statements (send to result), per request. */
    inStatementsMs: summarize(
      entries.map((entry) => entry.db.dbMs),
      1,
    ),
    /** Time waiting for a pool connection, per request. */
    poolWaitMs: summarize(
      entries.map((entry) => entry.db.poolWaitMs),
      1,
    ),
  };
}

/** `buyers` one at a time (an idle server apart from background jobs). */
async function probe(
  client: FlashClient,
  served: Map<number, ServedRequest>,
  buyers: readonly Buyer[],
  firstSeq: number,
  expectedStatus: number,
) {
  const { outcomes } = await client.run(
    buyers.map((buyer, index) => checkoutRequest(buyer, firstSeq + index)),
    1,
  );
  const unexpected = outcomes
    .filter((outcome) => outcome.status !== expectedStatus)
    .map((outcome) => `${outcome.status} ${outcome.code}`);
  const last = served.get(firstSeq + buyers.length - 1);
  return {
    requests: outcomes.length,
    unexpected,
    latencyMs: summarize(
      outcomes.map((outcome) => outcome.endedAt - outcome.issuedAt),
      2,
    ),
    db: dbSummary(served, outcomes),
    /** What the last probe ran (first 110 characters of each statement, with counts). */
    statementsOfOneCheckout: last?.db.texts ? Object.fromEntries(last.db.texts) : {},
  };
}

// --- checks ----------------------------------------------------------------------------------------

async function verify(app: CaravanApp, variantId: string, soldOrderIds: readonly string[]) {
  const { db } = app.platform;
  const rows = async <T>(query: ReturnType<typeof sql>) =>
    ((await db.execute(query)) as unknown as { rows: T[] }).rows;
  const [levels] = await rows<{
    received: number;
    adjusted: number;
    available: number;
    held: number;
    sold: number;
  }>(sql`select received, adjusted, available, held, sold from stock_levels where variant_id = ${variantId}`);
  if (!levels) throw new Error('no stock row for the flash variant');
  const [holds] = await rows<{ active: number; units: number }>(
    sql`select count(*)::int as active, coalesce(sum(quantity), 0)::int as units
        from stock_holds where variant_id = ${variantId} and status = 'active'`,
  );
  const [orders] = await rows<{ pending: number; buyers: number; other: number }>(
    sql`select count(distinct o.id) filter (where o.status = 'pending_payment')::int as pending,
               count(distinct o.buyer_id) filter (where o.status = 'pending_payment')::int as buyers,
               count(distinct o.id) filter (where o.status <> 'pending_payment')::int as other
        from orders o join order_lines l on l.order_id = o.id where l.variant_id = ${variantId}`,
  );
  const pendingIds = new Set(
    (
      await rows<{ id: string }>(
        sql`select distinct o.id from orders o join order_lines l on l.order_id = o.id
            where l.variant_id = ${variantId} and o.status = 'pending_payment'`,
      )
    ).map((row) => row.id),
  );
  const [movements] = await rows<{ holds: number }>(
    sql`select count(*)::int as holds from inventory_movements where variant_id = ${variantId} and reason = 'hold'`,
  );
  const stockAfter = {
    received: Number(levels.received),
    adjusted: Number(levels.adjusted),
    available: Number(levels.available),
    held: Number(levels.held),
    sold: Number(levels.sold),
  };
  const invariantHolds =
    stockAfter.available + stockAfter.held + stockAfter.sold === stockAfter.received - stockAfter.adjusted &&
    stockAfter.available >= 0 &&
    stockAfter.held >= 0 &&
    stockAfter.sold >= 0;
  const checks = {
    availableIsZero: stockAfter.available === 0,
    heldEqualsUnits: stockAfter.held === UNITS,
    nothingSoldYet: stockAfter.sold === 0,
    activeHoldsSumToHeld: Number(holds?.units) === stockAfter.held,
    activeHoldCount: Number(holds?.active),
    pendingOrdersEqualUnits: Number(orders?.pending) === UNITS,
    onePendingOrderPerBuyer: Number(orders?.buyers) === Number(orders?.pending),
    answeredOrdersArePending:
      soldOrderIds.length === pendingIds.size && soldOrderIds.every((id) => pendingIds.has(id)),
    holdMovementsEqualUnits: Number(movements?.holds) === UNITS,
    otherOrdersOfVariant: Number(orders?.other),
  };
  const ok =
    invariantHolds &&
    checks.availableIsZero &&
    checks.heldEqualsUnits &&
    checks.nothingSoldYet &&
    checks.activeHoldsSumToHeld &&
    checks.pendingOrdersEqualUnits &&
    checks.onePendingOrderPerBuyer &&
    checks.answeredOrdersArePending &&
    checks.holdMovementsEqualUnits;
  return { stockAfter, invariantHolds, pendingOrders: Number(orders?.pending), checks, ok };
}

// --- main ------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const url = benchUrl();
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  const postgresVersion = await serverVersion(withDatabaseName(url, 'postgres'));
  await recreateBenchDatabase(url);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-bench-flash-'));
  const pick = (key: string) => (process.env[key] ? { [key]: process.env[key] } : {});
  const config = loadConfig({
    ...pick('DATABASE_POOL_MAX'),
    ...pick('REDIS_URL'),
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: 'false',
    PAYMENT_PROVIDER: 'local',
    RATE_LIMIT_MAX: '100000000',
  });
  // The app's logger writes to stdout; the benchmark keeps stdout for its JSON.
  const logger = pino({ level: config.logLevel, base: { service: 'caravan-bench' } }, pino.destination(2));
  countAppStatements();
  let app: CaravanApp | undefined;
  let client: FlashClient | undefined;
  try {
    app = await buildApp(config, { role: 'all', logger, instanceName: 'bench-flash' });
    const setupStarted = performance.now();
    const flashVariant = await createSellerProduct(app, 'main', UNITS);
    const otherVariant = await createSellerProduct(app, 'warmup', WARMUP + PROBES);
    const passwordHash = await accountsContext(app.platform).passwords.hash(PASSWORD);
    const buyers = await createBuyers(app, 'flash-buyer', BUYERS, flashVariant, passwordHash);
    const others = await createBuyers(app, 'warmup-buyer', WARMUP + PROBES, otherVariant, passwordHash);
    const setupMs = performance.now() - setupStarted;
    note(`setup: ${BUYERS} + ${WARMUP + PROBES} buyers, carts and sessions in ${round(setupMs, 0)} ms`);

    await app.http.listen({ port: 0, host: '127.0.0.1' });
    await app.startJobs();
    const address = app.http.server.address();
    if (!address || typeof address !== 'object') throw new Error('not listening');
    const port = address.port;
    const clientOptions = { port, connections: CONNECTIONS, timeoutMs: TIMEOUT_MS };
    client = IN_PROCESS_CLIENT ? createFlashClient(clientOptions) : await forkFlashClient(clientOptions);
    const served = watchRequests(
      app,
      (seq) => seq === PROBE_SEQ.outOfStock + PROBES - 1 || seq === PROBE_SEQ.success + PROBES - 1,
    );

    const warm = WARMUP > 0 ? await warmUp(client, others.slice(0, WARMUP)) : null;
    if (warm) note(`warm-up: ${WARMUP} checkouts of another product, p50 ${warm.p50} ms, max ${warm.max} ms`);
    const openSockets = PRECONNECT ? await preconnect(client) : 0;
    if (PRECONNECT) note(`pre-connect: ${openSockets} sockets open`);
    await sleep(200);

    const loadBeforeBurst = os.loadavg().map((value) => round(value, 2));
    note(`burst: ${BUYERS} checkouts for ${UNITS} units over ${CONNECTIONS} connections`);
    const run = await burst(app, client, buyers);

    const sold = run.outcomes.filter((outcome) => outcome.status === 201);
    const refused = run.outcomes.filter(
      (outcome) => outcome.status === 409 && outcome.code === 'out_of_stock',
    );
    const otherErrors: Record<string, number> = {};
    for (const outcome of run.outcomes) {
      if (outcome.status === 201 || (outcome.status === 409 && outcome.code === 'out_of_stock')) continue;
      const key = `${outcome.status} ${outcome.code ?? ''}`.trim();
      otherErrors[key] = (otherErrors[key] ?? 0) + 1;
    }
    const latency = (list: readonly Outcome[]) => list.map((outcome) => outcome.endedAt - outcome.issuedAt);
    const serverLatency = (list: readonly Outcome[]) =>
      list
        .map((outcome) => (outcome.seq === undefined ? undefined : served.get(outcome.seq)?.servedMs))
        .filter((value): value is number => value !== undefined);
    const arrivals = run.outcomes
      .map((outcome) => served.get(outcome.seq ?? -1)?.arrivedAt)
      .filter((value): value is number => value !== undefined);
    const attemptsPerSecond = round((run.outcomes.length / run.wallMs) * 1000);
    const latencyMs = ms(latency(run.outcomes));
    note(
      `burst: ${sold.length} sold, ${refused.length} out of stock, other ${JSON.stringify(otherErrors)}; ` +
        `${attemptsPerSecond} attempts/s, p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms, max ${latencyMs.max} ms`,
    );

    const checked = await verify(
      app,
      flashVariant,
      sold.map((outcome) => outcome.orderId ?? ''),
    );
    if (!checked.ok) note(`CHECKS FAILED: ${JSON.stringify(checked.checks)}`);

    const refusedBuyers = run.outcomes
      .map((outcome, index) => ({ outcome, buyer: buyers[index] as Buyer }))
      .filter(({ outcome }) => outcome.status === 409 && outcome.code === 'out_of_stock')
      .slice(0, PROBES)
      .map(({ buyer }) => buyer);
    const probes =
      PROBES > 0
        ? {
            // Only while the variant is sold out: with units left the "refused" buyers would buy.
            outOfStockPath:
              checked.stockAfter.available === 0
                ? await probe(client, served, refusedBuyers, PROBE_SEQ.outOfStock, 409)
                : null,
            successPath: await probe(client, served, others.slice(WARMUP), PROBE_SEQ.success, 201),
          }
        : null;
    if (probes) {
      note(
        `probes, one at a time: 409 path p50 ${probes.outOfStockPath?.latencyMs.p50} ms, ` +
          `${probes.outOfStockPath?.db.statements.mean} statements; 201 path p50 ` +
          `${probes.successPath.latencyMs.p50} ms, ${probes.successPath.db.statements.mean} statements`,
      );
    }

    const floor = FLOOR
      ? {
          healthz: await floorRun(client, served, PROBE_SEQ.floorHealthz, '/healthz', BUYERS),
          me: await floorRun(client, served, PROBE_SEQ.floorMe, '/api/me', BUYERS, buyers),
        }
      : null;
    if (floor) {
      note(
        `floor: GET /healthz ${floor.healthz.requestsPerSecond}/s (p99 ${floor.healthz.latencyMs.p99} ms), ` +
          `GET /api/me ${floor.me.requestsPerSecond}/s (p99 ${floor.me.latencyMs.p99} ms)`,
      );
    }

    const soldOk = sold.length === UNITS;
    const result = {
      benchmark: 'flash-sale',
      database: 'postgres',
      postgresVersion,
      attempts: run.outcomes.length,
      units: UNITS,
      sold: sold.length,
      outOfStock: refused.length,
      otherErrors,
      attemptsPerSecond,
      wallMs: round(run.wallMs),
      latencyMs,
      latencyMsByOutcome: { sold: ms(latency(sold)), outOfStock: ms(latency(refused)) },
      /** Arrival at the server to the response written: latencyMs without the client-side queue. */
      serverMs: ms(serverLatency(run.outcomes)),
      serverMsByOutcome: { sold: ms(serverLatency(sold)), outOfStock: ms(serverLatency(refused)) },
      /** When the last sale was answered, and when the server had seen every request, from the first issue. */
      lastSaleAnsweredAtMs: round(Math.max(...sold.map((outcome) => outcome.endedAt)) - run.started),
      allArrivedAtMs: arrivals.length > 0 ? round(Math.max(...arrivals) - run.started) : null,
      issueLoopMs: round(run.issuedMs),
      stockAfter: checked.stockAfter,
      invariantHolds: checked.invariantHolds,
      pendingOrders: checked.pendingOrders,
      checks: checked.checks,
      ok: soldOk && checked.ok && Object.keys(otherErrors).length === 0,
      connections: CONNECTIONS,
      poolMax: config.database.poolMax,
      goals: {
        ...GOALS,
        soldExactlyUnits: soldOk,
        attemptsPerSecondMet: attemptsPerSecond >= GOALS.attemptsPerSecond,
        p99Met: latencyMs.p99 <= GOALS.p99Ms,
      },
      profile: {
        cpu: run.cpu,
        pool: run.pool,
        eventLoopDelayMs: run.eventLoopDelayMs,
        /** Per request, on the server side, during the burst. */
        burstDb: { sold: dbSummary(served, sold), outOfStock: dbSummary(served, refused) },
        /** The burst requests' statements with the most time in them (send to result, summed). */
        burstStatements: run.statementTimes,
        /** Statements of the app's pool outside any request during the burst (job workers). */
        backgroundStatementsDuringBurst: run.backgroundStatements,
        /** Pool and statement errors during the burst (a 500 `internal_error` says no more). */
        databaseErrorsDuringBurst: run.databaseErrors,
        probes,
        /** The same number of requests to GET /healthz and GET /api/me, all at once: the ceiling. */
        floor,
        cpuProfileTop: run.cpuProfileTop,
      },
      settings: {
        buyers: BUYERS,
        connections: CONNECTIONS,
        preconnect: PRECONNECT,
        openSocketsBeforeBurst: openSockets,
        warmupCheckouts: WARMUP,
        warmupLatencyMs: warm,
        probes: PROBES,
        timeoutSeconds: TIMEOUT_MS / 1000,
        DATABASE_POOL_MAX: config.database.poolMax,
        redis: Boolean(config.redis.url),
        server: 'buildApp role all + http.listen in this process',
        client: `node:http Agent keepAlive, maxSockets ${CONNECTIONS}, ${
          IN_PROCESS_CLIENT ? 'in the server process (one event loop)' : 'in a forked process'
        }`,
        setupMs: round(setupMs, 0),
      },
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: loadAtStart,
      loadAverageBeforeBurst: loadBeforeBurst,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (!soldOk) note(`FAILED: sold ${sold.length}, expected exactly ${UNITS}`);
    if (Object.keys(otherErrors).length > 0) note(`FAILED: other answers ${JSON.stringify(otherErrors)}`);
    return result.ok ? 0 : 1;
  } finally {
    await client?.close().catch((error: unknown) => note(`client close: ${String(error)}`));
    await app?.close().catch((error: unknown) => note(`close: ${String(error)}`));
    if (args.keep) note(`kept database ${databaseName(url)}`);
    else await dropBenchDatabase(url).catch((error: unknown) => note(`drop failed: ${String(error)}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  // pg-boss and prom-client may leave timers behind; the benchmark has printed its result.
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
