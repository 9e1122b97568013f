/**
 * Login and refresh throughput and latency through the real HTTP API, on PostgreSQL, plus the
 * in-process argon2id cost with the server's parameters.
 *
 *   npx tsx bench/auth.ts [--duration 10] [--warmup 2] [--users 64]
 *                         [--login-connections 8,2] [--refresh-connections 8]
 *
 * PostgreSQL: the server in DATABASE_URL (default postgres://postgres@127.0.0.1:5432); the
 * benchmark recreates `caravan_bench_auth` there and drops it at the end. ARGON2_MEMORY_KIB,
 * ARGON2_ITERATIONS and DATABASE_POOL_MAX are passed through to the server when set; every other
 * Caravan setting of this shell is ignored.
 *
 * 1. argon2id: hash and verify, each timed 20 times in this process (median), with the parameters
 *    loadConfig() gives the server; measured before the server starts, on an idle machine.
 * 2. Spawns `node --import tsx src/main.ts start` (one process) with rate limits and the per-IP
 *    login lockout out of the way, waits for /readyz, registers --users accounts.
 * 3. login: autocannon POST /api/auth/login for --duration seconds per connection count, each
 *    request signing in the next account in turn (after a --warmup run that is not reported).
 * 4. refresh: each connection signs in once, then rotates its own session: every response's
 *    `refreshToken` is the next request's body. A token lost or replayed shows as 401s and as
 *    sessions revoked during the run (counted in the database).
 *
 * Every run must answer only 2xx: non-2xx, errors and timeouts are reported (with the first failing
 * answer), listed under `problems`, and make `ok` false. Per run, CPU use over the run (100 = one
 * core busy, from /proc): the server process, every `postgres` process on the machine, this process
 * (autocannon), the whole machine, and the rest ("other": unrelated load, i.e. noise); and the
 * server's and PostgreSQL's CPU milliseconds per request.
 *
 * stdout: one JSON object. stderr: progress notes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createPasswordHasher } from '../src/modules/accounts/passwords.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { EnvSchema } from '../src/platform/config/env.schema.ts';
import { dropBenchDatabase, recreateBenchDatabase, serverVersion, withDatabaseName } from './lib/pg-admin.ts';
import { freePort, isAlive } from './lib/proc.ts';
import { median, note, round, sleep, startCpuMeter } from './lib/stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// --- autocannon (CommonJS, no type declarations): the slice of its API used here -------------

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called before every request; `context` is reset whenever the request list starts over. */
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}

/** One autocannon connection (`setupClient` receives it). */
interface AutocannonClient {
  setRequests(requests: AutocannonRequest[]): void;
}

interface Histogram {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  total: number;
  p50: number;
  p90: number;
  p97_5: number;
  p99: number;
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: Histogram;
  requests: Histogram & { sent: number };
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  timeout?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
  setupClient?: (client: AutocannonClient) => void;
}

type Autocannon = (options: AutocannonOptions) => PromiseLike<AutocannonResult> & { stop(): void };

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// --- settings ----------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    users: { type: 'string', default: '64' },
    'login-connections': { type: 'string', default: '8,2' },
    'refresh-connections': { type: 'string', default: '8' },
  },
});

function intInRange(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be ${min}..${max}`);
  return value;
}

const DURATION_S = intInRange('duration', args.duration, 1, 120);
const WARMUP_S = intInRange('warmup', args.warmup, 0, 30);
const USERS = intInRange('users', args.users, 1, 1000);
const LOGIN_CONNECTIONS = args['login-connections']
  .split(',')
  .map((raw) => intInRange('login-connections', raw.trim(), 1, 256));
const REFRESH_CONNECTIONS = intInRange('refresh-connections', args['refresh-connections'], 1, 256);

const DATABASE_URL = withDatabaseName(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  'caravan_bench_auth',
);
const PASSWORD = 'bench-password-correct-horse';
const ARGON2_SAMPLES = 20;
const BOOT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_S = 10;
/** Whole run, whatever happens: leaves room for every phase at --duration 120. */
const WATCHDOG_MS =
  120_000 + (LOGIN_CONNECTIONS.length * 2 + 2) * (DURATION_S + WARMUP_S + REQUEST_TIMEOUT_S) * 1000;
/** Settings of this shell the server may inherit; every other Caravan key is dropped. */
const PASS_THROUGH = ['ARGON2_MEMORY_KIB', 'ARGON2_ITERATIONS', 'DATABASE_POOL_MAX'];

function childEnvironment(port: number, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  const caravanKeys = new Set(Object.keys(EnvSchema.properties));
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && (!caravanKeys.has(key) || PASS_THROUGH.includes(key))) env[key] = value;
  }
  return {
    ...env,
    DATABASE_URL,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    SEED_DEMO_DATA: 'false',
    DATA_DIR: dataDir,
    RATE_LIMIT_MAX: '10000000',
    LOGIN_IP_MAX_FAILURES: '10000000',
  };
}

// --- CPU accounting from /proc (Linux; USER_HZ is 100) ------------------------------------------

const TICKS_PER_SECOND = 100;

function cpuTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: state is [0], utime [11], stime [12].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of every process whose command is `postgres` (server, backends, background workers). */
function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return ticks;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const value = cpuTicks(Number(entry));
    if (value !== undefined) ticks.set(Number(entry), value);
  }
  return ticks;
}

interface CpuUse {
  /** The Caravan server process. */
  server: number | null;
  /** Every postgres process (other databases' work included, if any runs meanwhile). */
  postgres: number | null;
  /** This process: autocannon. */
  loadGenerator: number;
  /** All cores busy = 100 × cpus. */
  machine: number | null;
  /** machine minus the three above: anything else running meanwhile (noise). */
  other: number | null;
}

function startCpuUse(serverPid: number): () => CpuUse {
  const wallStart = performance.now();
  const serverStart = cpuTicks(serverPid);
  const postgresStart = postgresTicks();
  const meter = startCpuMeter();
  return () => {
    const seconds = (performance.now() - wallStart) / 1000;
    const serverEnd = cpuTicks(serverPid);
    let postgres = 0;
    for (const [pid, ticks] of postgresTicks()) postgres += ticks - (postgresStart.get(pid) ?? 0);
    const own = meter();
    const percent = (ticks: number) => round((ticks / TICKS_PER_SECOND / seconds) * 100);
    const cpus = os.availableParallelism();
    const server =
      serverStart === undefined || serverEnd === undefined ? null : percent(serverEnd - serverStart);
    const postgresPercent = postgresStart.size === 0 ? null : percent(postgres);
    const machine = own.machinePercent === null ? null : round(own.machinePercent * cpus);
    return {
      server,
      postgres: postgresPercent,
      loadGenerator: own.processPercent,
      machine,
      other:
        machine === null || server === null || postgresPercent === null
          ? null
          : round(Math.max(0, machine - server - postgresPercent - own.processPercent)),
    };
  };
}

// --- the server ----------------------------------------------------------------------------------

interface Server {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly base: string;
  output(): string;
  stop(): Promise<{ code: number | null; signal: string | null } | undefined>;
}

async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: ROOT,
    env: childEnvironment(port, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the server');
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const server: Server = {
    child,
    pid,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
      if (!exit && isAlive(pid)) {
        note(`server ${pid} still running ${STOP_TIMEOUT_MS} ms after SIGTERM: SIGKILL`);
        child.kill('SIGKILL');
        await exited;
      }
      return exit;
    },
  };
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before /readyz:\n${output}`);
    }
    try {
      const response = await fetch(`${server.base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > BOOT_TIMEOUT_MS) {
      await server.stop();
      throw new Error(`/readyz: no 200 within ${BOOT_TIMEOUT_MS} ms:\n${output}`);
    }
    await sleep(50);
  }
  note(`server ${pid} ready on ${server.base} after ${round(performance.now() - started, 0)} ms`);
  return server;
}

// --- HTTP helpers --------------------------------------------------------------------------------

interface TokenBody {
  refreshToken: string;
}

async function postJson(url: string, body: unknown, expected: number): Promise<TokenBody> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as TokenBody;
}

const emailOf = (index: number) => `bench-user-${index}@example.com`;

async function registerUsers(base: string, count: number): Promise<void> {
  let next = 0;
  // A few at a time: each registration hashes a password (CPU) on the server's thread pool.
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await postJson(
        `${base}/api/auth/register`,
        { email: emailOf(index), password: PASSWORD, displayName: `Bench User ${index}` },
        201,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, count) }, worker));
}

async function login(base: string, index: number): Promise<string> {
  const body = await postJson(`${base}/api/auth/login`, { email: emailOf(index), password: PASSWORD }, 200);
  return body.refreshToken;
}

// --- runs ------------------------------------------------------------------------------------------

/** One connection for the benchmark's own reads of the bench database. */
let statsClient: pg.Client | undefined;

interface RunReport {
  connections: number;
  durationSec: number;
  requests: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p97_5: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  cpuPercent: CpuUse;
  /** CPU time per completed request, in ms: what each request costs, whatever the concurrency. */
  cpuMsPerRequest: { server: number | null; postgres: number | null };
  firstFailure?: string;
}

function report(
  connections: number,
  result: AutocannonResult,
  cpu: CpuUse,
  firstFailure: string | undefined,
): RunReport {
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats)) statusCodes[code] = stats.count;
  const total = result.requests.total;
  const msPerRequest = (percent: number | null) =>
    percent === null || total === 0 ? null : round(((percent / 100) * result.duration * 1000) / total, 2);
  return {
    connections,
    durationSec: round(result.duration, 2),
    requests: total,
    requestsPerSec: round(total / result.duration, 1),
    latencyMs: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: round(result.latency.mean, 2),
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    cpuPercent: cpu,
    cpuMsPerRequest: { server: msPerRequest(cpu.server), postgres: msPerRequest(cpu.postgres) },
    ...(firstFailure === undefined ? {} : { firstFailure }),
  };
}

function describe(kind: string, run: RunReport): string {
  const failures = run.non2xx + run.errors + run.timeouts;
  return (
    `${kind} c=${run.connections}: ${run.requestsPerSec} req/s, p50 ${run.latencyMs.p50} ms, ` +
    `p99 ${run.latencyMs.p99} ms, max ${run.latencyMs.max} ms; CPU% server ${run.cpuPercent.server}, ` +
    `postgres ${run.cpuPercent.postgres}, autocannon ${run.cpuPercent.loadGenerator}, other ` +
    `${run.cpuPercent.other}, machine ${run.cpuPercent.machine}/${os.availableParallelism() * 100}; ` +
    `CPU ms/request server ${run.cpuMsPerRequest.server}, postgres ${run.cpuMsPerRequest.postgres}` +
    (failures > 0
      ? `; FAILURES non2xx ${run.non2xx}, errors ${run.errors}, timeouts ${run.timeouts}: ${run.firstFailure ?? ''}`
      : '')
  );
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The one autocannon run in flight, to stop it on a signal or the watchdog. */
let current: { stop(): void } | undefined;

async function measure(
  server: Server,
  connections: number,
  seconds: number,
  options: Omit<AutocannonOptions, 'url' | 'connections' | 'duration'>,
  failure: { first?: string },
): Promise<RunReport> {
  const cpu = startCpuUse(server.pid);
  const instance = autocannon({
    url: server.base,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: REQUEST_TIMEOUT_S,
    ...options,
  });
  current = instance;
  const result = await instance;
  current = undefined;
  return report(connections, result, cpu(), failure.first);
}

function recordFailure(failure: { first?: string }, status: number, body: string): void {
  if (status >= 200 && status < 300) return;
  failure.first ??= `${status} ${body.slice(0, 300)}`;
}

/** Signs in the next account in turn on every request. */
async function loginRun(server: Server, connections: number, seconds: number): Promise<RunReport> {
  let next = 0;
  const failure: { first?: string } = {};
  const bodies = Array.from({ length: USERS }, (_, index) =>
    JSON.stringify({ email: emailOf(index), password: PASSWORD }),
  );
  return measure(
    server,
    connections,
    seconds,
    {
      requests: [
        {
          method: 'POST',
          path: '/api/auth/login',
          headers: JSON_HEADERS,
          setupRequest: (request) => ({ ...request, body: bodies[next++ % USERS] as string }),
          onResponse: (status, body) => recordFailure(failure, status, body),
        },
      ],
    },
    failure,
  );
}

/**
 * Every connection rotates its own session. autocannon resets `context` each time its request list
 * starts over (after every request, with a list of one), so the token cannot live there: each
 * connection gets its own request list from `setupClient`, holding its token in a closure.
 */
async function refreshRun(server: Server, connections: number, seconds: number): Promise<RunReport> {
  // Fresh sessions: a run that stops mid-request may leave a token used on the server but unseen here.
  const tokens = await Promise.all(
    Array.from({ length: connections }, (_, slot) => login(server.base, slot % USERS)),
  );
  const failure: { first?: string } = {};
  let nextSlot = 0;
  let lost = 0;
  const result = await measure(
    server,
    connections,
    seconds,
    {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{}',
      setupClient: (client) => {
        const slot = nextSlot++ % connections;
        client.setRequests([
          {
            method: 'POST',
            path: '/api/auth/refresh',
            headers: JSON_HEADERS,
            setupRequest: (request) => ({ ...request, body: JSON.stringify({ refreshToken: tokens[slot] }) }),
            onResponse: (status, body) => {
              recordFailure(failure, status, body);
              if (status !== 200) return;
              try {
                tokens[slot] = (JSON.parse(body) as TokenBody).refreshToken;
              } catch {
                lost++;
                failure.first ??= `200 with an unreadable body: ${body.slice(0, 300)}`;
              }
            },
          },
        ]);
      },
    },
    failure,
  );
  if (lost > 0) note(`refresh: ${lost} responses without a readable refreshToken`);
  return result;
}

/** Sessions ended by a replayed refresh token: must be 0 (a token lost or sent twice shows here). */
async function sessionCounts(): Promise<{
  sessions: number;
  revokedSessions: number;
  refreshTokens: number;
}> {
  if (!statsClient) {
    statsClient = new pg.Client({ connectionString: DATABASE_URL });
    await statsClient.connect();
  }
  const { rows } = await statsClient.query<{
    sessions: number;
    revoked: number;
    tokens: number;
  }>(
    `select (select count(*)::int from sessions) as sessions,
            (select count(*)::int from sessions where revoked_at is not null) as revoked,
            (select count(*)::int from refresh_tokens) as tokens`,
  );
  const row = rows[0];
  return {
    sessions: row?.sessions ?? 0,
    revokedSessions: row?.revoked ?? 0,
    refreshTokens: row?.tokens ?? 0,
  };
}

// --- argon2id in process -----------------------------------------------------------------------------

async function measureArgon2(argon2: { memoryKib: number; iterations: number }) {
  const hasher = createPasswordHasher(argon2);
  const hashed = await hasher.hash(PASSWORD); // warm-up (loads the addon, first allocation)
  await hasher.verify(hashed, PASSWORD);
  const hashMs: number[] = [];
  const verifyMs: number[] = [];
  for (let i = 0; i < ARGON2_SAMPLES; i++) {
    let started = performance.now();
    await hasher.hash(PASSWORD);
    hashMs.push(performance.now() - started);
    started = performance.now();
    if (!(await hasher.verify(hashed, PASSWORD))) throw new Error('argon2 verify failed');
    verifyMs.push(performance.now() - started);
  }
  const algorithm = hashed.split('$')[1];
  return {
    algorithm,
    memoryKib: argon2.memoryKib,
    iterations: argon2.iterations,
    parallelism: 1,
    hashMsMedian: round(median(hashMs), 2),
    verifyMsMedian: round(median(verifyMs), 2),
    samples: ARGON2_SAMPLES,
  };
}

// --- main --------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-bench-auth-'));
  // The server's own parameters: the same environment it is given, through the same loader.
  const config = loadConfig(childEnvironment(0, dataDir));
  const argon2 = await measureArgon2(config.auth.argon2);
  note(
    `argon2id m=${argon2.memoryKib} KiB t=${argon2.iterations} p=1: hash ${argon2.hashMsMedian} ms, ` +
      `verify ${argon2.verifyMsMedian} ms (median of ${ARGON2_SAMPLES})`,
  );

  let server: Server | undefined;
  let stopping = false;
  const cleanUp = async () => {
    if (stopping) return;
    stopping = true;
    current?.stop();
    await statsClient?.end().catch(() => {});
    statsClient = undefined;
    if (server) {
      const exit = await server.stop();
      note(`server stopped: ${exit ? `exit ${exit.code ?? exit.signal}` : 'killed'}`);
    }
    await dropBenchDatabase(DATABASE_URL).catch((error: unknown) => note(`drop database: ${String(error)}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    note(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    note(`watchdog: still running after ${WATCHDOG_MS} ms, giving up`);
    void cleanUp().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  watchdog.unref();

  try {
    const postgresVersion = await serverVersion(withDatabaseName(DATABASE_URL, 'postgres'));
    await recreateBenchDatabase(DATABASE_URL);
    server = await startServer(dataDir);
    const started = performance.now();
    await registerUsers(server.base, USERS);
    note(`registered ${USERS} users in ${round(performance.now() - started, 0)} ms`);

    if (WARMUP_S > 0) {
      const warm = await loginRun(server, Math.min(...LOGIN_CONNECTIONS), WARMUP_S);
      note(`warm-up (not reported): ${describe('login', warm)}`);
    }
    const logins: RunReport[] = [];
    for (const connections of LOGIN_CONNECTIONS) {
      const run = await loginRun(server, connections, DURATION_S);
      note(describe('login', run));
      logins.push(run);
    }

    if (WARMUP_S > 0) {
      const warm = await refreshRun(server, REFRESH_CONNECTIONS, WARMUP_S);
      note(`warm-up (not reported): ${describe('refresh', warm)}`);
    }
    const before = await sessionCounts();
    const refresh = await refreshRun(server, REFRESH_CONNECTIONS, DURATION_S);
    note(describe('refresh', refresh));
    const after = await sessionCounts();

    const problems = [...logins.map((run) => ['login', run] as const), ['refresh', refresh] as const]
      .filter(([, run]) => run.non2xx + run.errors + run.timeouts > 0)
      .map(([kind, run]) => `${kind} c=${run.connections}: ${run.non2xx} non-2xx, ${run.errors} errors`);
    if (after.revokedSessions > before.revokedSessions)
      problems.push(`${after.revokedSessions - before.revokedSessions} sessions revoked during refresh`);
    for (const problem of problems) note(`PROBLEM: ${problem}`);

    const verifyBound = round((os.availableParallelism() * 1000) / argon2.verifyMsMedian, 1);
    note(
      `argon2 verify alone caps login at ~${verifyBound}/s on ${os.availableParallelism()} cores ` +
        `(cores × 1000 / verify ms)`,
    );

    const result = {
      benchmark: 'auth',
      database: 'postgres',
      postgresVersion,
      argon2: { ...argon2, loginCeilingPerSec: verifyBound },
      login: logins,
      refresh: {
        ...refresh,
        sessionsRevokedDuringRun: after.revokedSessions - before.revokedSessions,
        refreshTokensIssuedDuringRun: after.refreshTokens - before.refreshTokens,
      },
      ok: problems.length === 0,
      problems,
      settings: {
        durationSec: DURATION_S,
        warmupSec: WARMUP_S,
        users: USERS,
        pipelining: 1,
        databasePoolMax: config.database.poolMax,
        server: 'node --import tsx src/main.ts start (one process)',
        cpuPercentNote:
          '100 = one core busy; postgres = every postgres process on the machine; other = machine minus server, postgres and autocannon (unrelated load: noise)',
      },
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: loadAtStart,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    if (server) note(`server output:\n${server.output().slice(-4000)}`);
    throw error;
  } finally {
    clearTimeout(watchdog);
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
