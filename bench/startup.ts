/**
 * Cold start, readiness, idle memory and graceful stop of the real CLI (`tsx src/main.ts start`),
 * on embedded PGlite and on PostgreSQL, first boot (fresh database: migrations run) and warm boot
 * (already migrated).
 *
 *   npx tsx bench/startup.ts [--runs 3] [--idle-ms 3000] [--launcher bundle|tsx|node|node-import-tsx]
 *                            [--databases pglite,postgres]
 *
 * PostgreSQL: the server in DATABASE_URL (default postgres://postgres@127.0.0.1:5432); the
 * benchmark recreates `caravan_bench_startup` there for every first boot and drops it at the end.
 *
 * Per boot: spawn, poll GET /healthz every 10 ms until 200 (cold start), then /readyz every 10 ms
 * until 200, stay idle --idle-ms, read VmRSS from /proc, send SIGTERM to the spawned process and
 * time its exit. The RSS headline is the server process: the one holding the listening socket,
 * which under tsx is tsx's child node process; the tsx wrapper and the tree total are listed beside it.
 *
 * --launcher: `bundle` (default) is `node dist/main.js start`, what `npm start` runs once the bundle
 * is built (run `npm run build` first); `tsx` is node_modules/.bin/tsx src/main.ts start (`npm run
 * dev` without watch); `node` runs src/main.ts with Node's own type stripping (no tsx, one process);
 * `node-import-tsx` is `node --import tsx src/main.ts start` (tsx's loader, one process).
 *
 * stdout: one JSON object. stderr: progress notes.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EnvSchema } from '../src/platform/config/env.schema.ts';
import { dropBenchDatabase, recreateBenchDatabase, serverVersion, withDatabaseName } from './lib/pg-admin.ts';
import { commandLine, freePort, isAlive, listeningProcess, memoryStatus, processTree } from './lib/proc.ts';
import { median, note, round, sleep } from './lib/stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'idle-ms': { type: 'string', default: '3000' },
    launcher: { type: 'string', default: 'bundle' },
    databases: { type: 'string', default: 'pglite,postgres' },
  },
});

const RUNS = Number(args.runs);
const IDLE_MS = Number(args['idle-ms']);
if (!Number.isInteger(RUNS) || RUNS < 1 || RUNS > 20) throw new Error('--runs must be 1..20');
if (!Number.isFinite(IDLE_MS) || IDLE_MS < 0 || IDLE_MS > 60_000)
  throw new Error('--idle-ms must be 0..60000');
const LAUNCHERS = {
  // What `npm start` runs after its (skipped when fresh) build step: the esbuild bundle.
  bundle: {
    command: path.join(BIN, 'node'),
    args: ['--max-semi-space-size=4', '--max-old-space-size=1024', 'dist/main.js', 'start'],
  },
  tsx: { command: path.join(BIN, 'tsx'), args: ['src/main.ts', 'start'] },
  node: { command: path.join(BIN, 'node'), args: ['src/main.ts', 'start'] },
  'node-import-tsx': { command: path.join(BIN, 'node'), args: ['--import', 'tsx', 'src/main.ts', 'start'] },
} as const;
type LauncherName = keyof typeof LAUNCHERS;
if (!(args.launcher in LAUNCHERS)) throw new Error(`--launcher must be one of ${Object.keys(LAUNCHERS)}`);
const LAUNCHER = args.launcher as LauncherName;
type DatabaseKind = 'pglite' | 'postgres';
const DATABASES = args.databases.split(',').map((name) => name.trim()) as DatabaseKind[];
for (const name of DATABASES) {
  if (name !== 'pglite' && name !== 'postgres') throw new Error(`unknown database "${name}"`);
}

const POSTGRES_URL = withDatabaseName(
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  'caravan_bench_startup',
);
const BOOT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const POLL_MS = 10;
const GOALS = { coldStartMs: { postgres: 1500, pglite: 3000 }, idleRssMb: 150 };

/** The child's environment: ours minus every Caravan setting, plus the ones under test. */
function childEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(EnvSchema.properties)) delete env[key];
  // The project's Node (the `node` package) first, as under npm/npx.
  env.PATH = `${BIN}${path.delimiter}${process.env.PATH ?? ''}`;
  return { ...env, ...overrides };
}

async function get(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // not listening yet
  }
}

/** Polls `url` every POLL_MS until 200; the milliseconds since `since` (performance.now()). */
async function pollUntil200(url: string, since: number, child: ChildProcess): Promise<number> {
  for (;;) {
    const attempt = performance.now();
    if ((await get(url)) === 200) return performance.now() - since;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    }
    if (performance.now() - since > BOOT_TIMEOUT_MS)
      throw new Error(`${url}: no 200 within ${BOOT_TIMEOUT_MS} ms`);
    await sleep(Math.max(0, POLL_MS - (performance.now() - attempt)));
  }
}

interface BootRun {
  readonly coldStartMs: number;
  readonly readyMs: number;
  /** The server process (holds the listening socket). */
  readonly idleRssMb: number;
  /** Peak RSS of the server process during boot and idle. */
  readonly peakRssMb: number;
  /** Every other process in the tree: tsx's wrapper and its esbuild service, when launched by tsx. */
  readonly wrapperRssMb: number;
  readonly treeRssMb: number;
  readonly processes: number;
  readonly shutdownMs: number;
  readonly exitCode: number | null;
  readonly exitSignal: string | null;
  readonly serverExited: boolean;
}

const mb = (kb: number) => round(kb / 1024, 1);

async function boot(database: DatabaseKind, dataDir: string): Promise<BootRun> {
  const port = await freePort();
  const env = childEnvironment({
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ...(database === 'postgres' ? { DATABASE_URL: POSTGRES_URL } : {}),
  });
  const launcher = LAUNCHERS[LAUNCHER];
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const started = performance.now();
  const child = spawn(launcher.command, [...launcher.args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${launcher.command}`);
  let serverPid: number | undefined;
  let tree: number[] = [pid];
  try {
    const coldStartMs = await pollUntil200(`${base}/healthz`, started, child);
    const readyMs = await pollUntil200(`${base}/readyz`, started, child);
    await sleep(IDLE_MS);
    tree = processTree(pid);
    serverPid = listeningProcess(tree, port);
    const memory = new Map(tree.map((member) => [member, memoryStatus(member)]));
    const server = serverPid === undefined ? undefined : memory.get(serverPid);
    const treeKb = [...memory.values()].reduce((sum, status) => sum + (status?.rssKb ?? 0), 0);
    sampleTree ??= tree.map((member) => ({
      role: member === serverPid ? 'server' : member === pid ? 'wrapper' : 'other',
      rssMb: mb(memory.get(member)?.rssKb ?? 0),
      command: commandLine(member).replace(`${ROOT}/`, ''),
    }));
    const stopAt = performance.now();
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, sleep(STOP_TIMEOUT_MS).then(() => undefined)]);
    if (!exit) throw new Error(`no exit within ${STOP_TIMEOUT_MS} ms of SIGTERM`);
    // tsx exits once its child has; give a straggler a moment before calling it out.
    const serverExited =
      serverPid === undefined ||
      (await (async () => {
        for (let i = 0; i < 100 && isAlive(serverPid as number); i++) await sleep(20);
        return !isAlive(serverPid as number);
      })());
    return {
      coldStartMs: round(coldStartMs),
      readyMs: round(readyMs),
      idleRssMb: mb(server?.rssKb ?? Number.NaN),
      peakRssMb: mb(server?.hwmKb ?? Number.NaN),
      wrapperRssMb: mb(treeKb - (server?.rssKb ?? 0)),
      treeRssMb: mb(treeKb),
      processes: tree.length,
      shutdownMs: round(exit.at - stopAt),
      exitCode: exit.code,
      exitSignal: exit.signal,
      serverExited,
    };
  } catch (error) {
    note(`boot failed: ${String(error)}\n${output.slice(-4000)}`);
    throw error;
  } finally {
    // Whatever happened, leave nothing of ours running: only the pids this boot spawned.
    for (const member of new Set([...tree, ...(serverPid === undefined ? [] : [serverPid])])) {
      if (isAlive(member)) {
        try {
          process.kill(member, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (output.trim()) note(`server output (${database}):\n${output.trim().slice(0, 2000)}`);
  }
}

/** The process tree of the first boot, to show which process the RSS figure is about. */
let sampleTree: { role: 'server' | 'wrapper' | 'other'; rssMb: number; command: string }[] | undefined;

interface CaseRuns {
  readonly database: DatabaseKind;
  readonly boot: 'first' | 'warm';
  readonly runs: BootRun[];
}

function summarizeCase({ database, boot: bootKind, runs }: CaseRuns) {
  const pick = (key: keyof BootRun) => runs.map((run) => run[key] as number);
  const cold = median(pick('coldStartMs'));
  const rss = median(pick('idleRssMb'));
  const exitCodes = [...new Set(runs.map((run) => run.exitCode))];
  return {
    database,
    boot: bootKind,
    coldStartMs: { median: round(cold), runs: pick('coldStartMs') },
    readyMs: round(median(pick('readyMs'))),
    idleRssMb: round(rss),
    peakRssMb: round(median(pick('peakRssMb'))),
    treeRssMb: round(median(pick('treeRssMb'))),
    shutdownMs: round(median(pick('shutdownMs'))),
    exitCode: exitCodes.length === 1 ? exitCodes[0] : exitCodes,
    goals: {
      coldStartMs: GOALS.coldStartMs[database],
      coldStartMet: cold <= GOALS.coldStartMs[database],
      idleRssMb: GOALS.idleRssMb,
      idleRssMet: rss <= GOALS.idleRssMb,
    },
    runs,
  };
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  // The first fetch loads undici: pay for it before any clock runs.
  await get(`http://127.0.0.1:${await freePort()}/`);
  const serverNode = execFileSync(path.join(BIN, 'node'), ['--version'], { encoding: 'utf8' }).trim();
  const postgresVersion = DATABASES.includes('postgres')
    ? await serverVersion(withDatabaseName(POSTGRES_URL, 'postgres'))
    : null;
  const cases: CaseRuns[] = [];
  for (const database of DATABASES) {
    cases.push({ database, boot: 'first', runs: [] }, { database, boot: 'warm', runs: [] });
  }
  const caseFor = (database: DatabaseKind, kind: 'first' | 'warm') =>
    cases.find((entry) => entry.database === database && entry.boot === kind) as CaseRuns;
  const tempDirs: string[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      // Interleaved so that noise from the rest of the machine spreads over every case.
      for (const database of DATABASES) {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-bench-startup-'));
        tempDirs.push(dataDir);
        if (database === 'postgres') await recreateBenchDatabase(POSTGRES_URL);
        for (const kind of ['first', 'warm'] as const) {
          const result = await boot(database, dataDir);
          caseFor(database, kind).runs.push(result);
          note(
            `${database} ${kind} #${run}: healthz ${result.coldStartMs} ms, readyz ${result.readyMs} ms, ` +
              `RSS ${result.idleRssMb} MB (tree ${result.treeRssMb}), stop ${result.shutdownMs} ms, exit ${result.exitCode}`,
          );
        }
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    if (DATABASES.includes('postgres')) await dropBenchDatabase(POSTGRES_URL).catch(() => {});
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  const result = {
    benchmark: 'startup',
    launcher: LAUNCHER,
    command: [path.relative(ROOT, LAUNCHERS[LAUNCHER].command), ...LAUNCHERS[LAUNCHER].args].join(' '),
    runsPerCase: RUNS,
    idleMs: IDLE_MS,
    rssMeasuredOn:
      'idleRssMb/peakRssMb: the server process, i.e. the one holding the listening socket (under tsx, the ' +
      "node child tsx spawns); treeRssMb: the spawned process and all its descendants (tsx's wrapper included)",
    processTree: sampleTree,
    cases: cases.map(summarizeCase),
    postgresVersion,
    node: process.version,
    serverNode,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverageAtStart: loadAtStart,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
