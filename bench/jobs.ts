/**
 * pg-boss job throughput and latency on PostgreSQL, through the real platform (`buildApp`).
 *
 *   npx tsx bench/jobs.ts [--jobs 20000] [--producers 4] [--tx-size 100]
 *                         [--latency-jobs 500] [--latency-rate 100] [--timeout-s 60]
 *                         [--drain-jobs 0] [--work-options JSON]
 *
 * Settings come from the usual config keys: JOBS_CONCURRENCY, JOBS_BATCH_SIZE,
 * JOBS_POLL_INTERVAL_SECONDS, DATABASE_POOL_MAX. DATABASE_URL defaults to a fresh
 * `caravan_bench_jobs` database that is dropped afterwards (any `caravan_bench_*` name is
 * recreated and dropped; another database is used as is and only the benchmark's queue is removed).
 *
 * Phase 0 (optional, --drain-jobs N): an API-role instance queues N jobs with no worker running,
 * then the worker starts on the backlog: worker capacity alone, without producers competing.
 * Phase 1 (throughput): producers enqueue --jobs jobs in committed transactions of --tx-size
 * `jobs.enqueue(tx, ...)` calls while the worker runs; end to end = first enqueue to the last handler.
 * Phase 2 (latency): --latency-jobs jobs, one per committed transaction, paced at --latency-rate per
 * second on an idle worker; latency = handler start minus the producer's commit acknowledgement.
 * --work-options merges extra pg-boss work() options into the ones jobs.ts passes (to try a change
 * to jobs.ts without editing it); every figure then says so under settings.experimentalWorkOptions.
 *
 * stdout: one JSON object. stderr: progress notes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import Type from 'typebox';
import { buildApp, type CaravanApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config/config.ts';
import { JOBS_SCHEMA } from '../src/platform/db/migrator.ts';
import { defineJob } from '../src/platform/jobs/define-job.ts';
import type { CaravanModule } from '../src/platform/module.ts';
import { dropBenchDatabase, isBenchDatabase, recreateBenchDatabase, serverVersion } from './lib/pg-admin.ts';
import { note, round, sleep, startCpuMeter, summarize } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    producers: { type: 'string', default: '4' },
    'tx-size': { type: 'string', default: '100' },
    // 'bulk': one jobs.enqueueMany statement per transaction; 'single': one jobs.enqueue per job.
    enqueue: { type: 'string', default: 'bulk' },
    'latency-jobs': { type: 'string', default: '500' },
    'latency-rate': { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '60' },
    // Optional phase 0: jobs enqueued before any worker runs, then drained (worker capacity alone).
    'drain-jobs': { type: 'string', default: '0' },
    // Experiment only: extra pg-boss `work()` options merged into the ones jobs.ts passes, e.g.
    // '{"burstWhenBatchFull":true,"notifyPollingIntervalSeconds":2}', to try a change to jobs.ts
    // without editing it. Reported under settings.experimentalWorkOptions.
    'work-options': { type: 'string' },
  },
});

function positiveInt(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const TOTAL_JOBS = positiveInt('jobs', args.jobs);
const PRODUCERS = positiveInt('producers', args.producers);
const TX_SIZE = positiveInt('tx-size', args['tx-size']);
const ENQUEUE_MODE = args.enqueue === 'single' ? 'single' : 'bulk';
const LATENCY_JOBS = positiveInt('latency-jobs', args['latency-jobs']);
const LATENCY_RATE = positiveInt('latency-rate', args['latency-rate']);
const TIMEOUT_MS = positiveInt('timeout-s', args['timeout-s']) * 1000;
const DRAIN_JOBS = Number(args['drain-jobs']);
if (!Number.isInteger(DRAIN_JOBS) || DRAIN_JOBS < 0) throw new Error('--drain-jobs must be an integer >= 0');
const EXTRA_WORK_OPTIONS = args['work-options']
  ? (JSON.parse(args['work-options']) as Record<string, unknown>)
  : undefined;
// Long enough to see a job that waits out pg-boss's 30 s NOTIFY backstop poll.
const LATENCY_DRAIN_TIMEOUT_MS = 40_000;
const QUEUE = 'bench.jobs';

const GOALS = { throughputJobsPerSec: 2000, latencyP95Ms: 100 };

/** Epoch milliseconds with sub-millisecond resolution (same clock as Date.now()). */
const now = () => performance.timeOrigin + performance.now();

// --- what the handler records ---------------------------------------------------------------

interface Counter {
  handled: number;
  duplicates: number;
  firstHandledAt: number;
  lastHandledAt: number;
  readonly seen: Uint8Array;
}
const counter = (size: number): Counter => ({
  handled: 0,
  duplicates: 0,
  firstHandledAt: 0,
  lastHandledAt: 0,
  seen: new Uint8Array(size),
});
const throughput = counter(TOTAL_JOBS);
const drain = counter(DRAIN_JOBS);
const latency = {
  handled: 0,
  duplicates: 0,
  startedAt: new Float64Array(LATENCY_JOBS),
  committedAt: new Float64Array(LATENCY_JOBS),
  sentAt: new Float64Array(LATENCY_JOBS),
};

const BenchPayload = Type.Object({
  phase: Type.Union([Type.Literal('drain'), Type.Literal('throughput'), Type.Literal('latency')]),
  seq: Type.Integer({ minimum: 0 }),
  /** Taken inside the enqueuing transaction, just before the insert. */
  sentAt: Type.Number(),
});

const benchJob = defineJob(
  QUEUE,
  BenchPayload,
  async ({ payload }) => {
    const startedAt = now();
    if (payload.phase !== 'latency') {
      const count = payload.phase === 'drain' ? drain : throughput;
      if (count.seen[payload.seq]) count.duplicates++;
      else {
        count.seen[payload.seq] = 1;
        count.handled++;
      }
      count.firstHandledAt ||= startedAt;
      count.lastHandledAt = startedAt;
    } else if (latency.startedAt[payload.seq]) latency.duplicates++;
    else {
      latency.startedAt[payload.seq] = startedAt;
      latency.handled++;
    }
  },
  { retryLimit: 0 },
);

const benchModule: CaravanModule = { name: 'bench', jobs: [benchJob] };

// --- phases ---------------------------------------------------------------------------------

async function waitUntil(done: () => boolean, deadline: number, intervalMs = 2): Promise<boolean> {
  while (!done()) {
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}

async function jobStates(app: CaravanApp, phase: string): Promise<Record<string, number>> {
  const result = (await app.platform.db.execute(
    sql`select state::text as state, count(*)::int as n from ${sql.identifier(JOBS_SCHEMA)}.job
        where name = ${QUEUE} and data->'p'->>'phase' = ${phase} group by state`,
  )) as unknown as { rows: { state: string; n: number }[] };
  return Object.fromEntries(result.rows.map((row) => [row.state, Number(row.n)]));
}

/** `PRODUCERS` concurrent producers enqueue `total` jobs in committed transactions of `TX_SIZE`. */
function startProducers(app: CaravanApp, phase: 'drain' | 'throughput', total: number, deadline: number) {
  const { db, jobs } = app.platform;
  const state = { committed: 0, lastCommitAt: 0, txDurations: [] as number[] };
  let next = 0;
  async function producer(): Promise<void> {
    while (next < total && Date.now() < deadline) {
      const first = next;
      const end = Math.min(total, first + TX_SIZE);
      next = end;
      const txStart = now();
      await db.transaction(async (tx) => {
        if (ENQUEUE_MODE === 'bulk') {
          const sentAt = now();
          const items = [];
          for (let seq = first; seq < end; seq++) items.push({ payload: { phase, seq, sentAt } });
          await jobs.enqueueMany(tx, benchJob, items);
          return;
        }
        for (let seq = first; seq < end; seq++) {
          await jobs.enqueue(tx, benchJob, { phase, seq, sentAt: now() });
        }
      });
      state.lastCommitAt = now();
      state.txDurations.push(state.lastCommitAt - txStart);
      state.committed += end - first;
    }
  }
  return { state, done: Promise.all(Array.from({ length: PRODUCERS }, producer)) };
}

/**
 * Phase 0: a separate API-role instance (no workers) fills the queue, then the measured instance
 * starts its workers on the backlog. Returns the running app for the later phases.
 */
async function drainPhase(makeApp: (role: 'api' | 'all') => Promise<CaravanApp>) {
  const deadline = Date.now() + TIMEOUT_MS;
  const filler = await makeApp('api');
  await filler.startJobs();
  const fillStart = now();
  const { state, done } = startProducers(filler, 'drain', DRAIN_JOBS, deadline);
  await done;
  const fillMs = now() - fillStart;
  await filler.close();
  note(`phase 0: ${state.committed} jobs queued in ${round(fillMs)} ms; starting workers`);
  const app = await makeApp('all');
  const cpu = startCpuMeter();
  const startedAt = now();
  await app.startJobs();
  const startJobsMs = now() - startedAt;
  const drained = await waitUntil(() => drain.handled >= state.committed, deadline, 5);
  const elapsed = (drained ? drain.lastHandledAt : now()) - startedAt;
  return {
    app,
    result: {
      jobs: DRAIN_JOBS,
      queued: state.committed,
      handled: drain.handled,
      duplicates: drain.duplicates,
      timedOut: !drained,
      fillJobsPerSec: round((state.committed / fillMs) * 1000),
      startJobsMs: round(startJobsMs),
      firstHandlerAfterMs: round(drain.firstHandledAt ? drain.firstHandledAt - startedAt : Number.NaN),
      drainMs: round(elapsed),
      drainJobsPerSec: round((drain.handled / elapsed) * 1000),
      cpu: cpu(),
    },
  };
}

async function throughputPhase(app: CaravanApp) {
  const startedAt = now();
  const deadline = Date.now() + TIMEOUT_MS;
  const cpu = startCpuMeter();
  const { state, done } = startProducers(app, 'throughput', TOTAL_JOBS, deadline);
  const progress = setInterval(
    () => note(`throughput: committed ${state.committed}/${TOTAL_JOBS}, handled ${throughput.handled}`),
    2000,
  );
  try {
    await done;
    const { committed, lastCommitAt, txDurations } = state;
    const enqueueMs = lastCommitAt - startedAt;
    const enqueueCpu = cpu();
    const handledAtCommitEnd = throughput.handled;
    const drained = await waitUntil(() => throughput.handled >= committed, deadline);
    // A phase that timed out ran until the deadline, whatever the last handler's time.
    const endToEndMs = (drained ? throughput.lastHandledAt : now()) - startedAt;
    const cpuUse = cpu();
    // pg-boss marks a batch completed after its handlers return: wait for that too (bounded).
    const settleStart = now();
    let states = await jobStates(app, 'throughput');
    while ((states.completed ?? 0) < throughput.handled && now() - settleStart < 10_000) {
      await sleep(50);
      states = await jobStates(app, 'throughput');
    }
    return {
      jobs: TOTAL_JOBS,
      committed,
      handled: throughput.handled,
      duplicates: throughput.duplicates,
      timedOut: !drained || committed < TOTAL_JOBS,
      endToEndMs: round(endToEndMs),
      throughputJobsPerSec: round((throughput.handled / endToEndMs) * 1000),
      enqueueMs: round(enqueueMs),
      enqueueJobsPerSec: round((committed / enqueueMs) * 1000),
      handledWhenEnqueueEnded: handledAtCommitEnd,
      backlogWhenEnqueueEnded: committed - handledAtCommitEnd,
      drainAfterEnqueueMs: round(Math.max(0, throughput.lastHandledAt - lastCommitAt)),
      enqueueTxMs: summarize(txDurations),
      completedInPgBossAfterMs: round(now() - startedAt),
      pgBossStates: states,
      cpu: { enqueueWindow: enqueueCpu, wholePhase: cpuUse },
    };
  } finally {
    clearInterval(progress);
  }
}

async function latencyPhase(app: CaravanApp) {
  const { db, jobs } = app.platform;
  const intervalMs = 1000 / LATENCY_RATE;
  const startedAt = now();
  const cpu = startCpuMeter();
  for (let seq = 0; seq < LATENCY_JOBS; seq++) {
    const due = startedAt + seq * intervalMs;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const sentAt = now();
    latency.sentAt[seq] = sentAt;
    await db.transaction(async (tx) => {
      await jobs.enqueue(tx, benchJob, { phase: 'latency', seq, sentAt });
    });
    latency.committedAt[seq] = now();
  }
  const enqueueMs = now() - startedAt;
  const drained = await waitUntil(
    () => latency.handled >= LATENCY_JOBS,
    Date.now() + LATENCY_DRAIN_TIMEOUT_MS,
  );
  const cpuUse = cpu();
  const fromCommit: number[] = [];
  const fromSend: number[] = [];
  const commitTx: number[] = [];
  let unhandled = 0;
  for (let seq = 0; seq < LATENCY_JOBS; seq++) {
    const started = latency.startedAt[seq] as number;
    const committed = latency.committedAt[seq] as number;
    const sent = latency.sentAt[seq] as number;
    commitTx.push(committed - sent);
    if (!started) {
      unhandled++;
      continue;
    }
    fromCommit.push(started - committed);
    fromSend.push(started - sent);
  }
  return {
    jobs: LATENCY_JOBS,
    handled: latency.handled,
    unhandled,
    duplicates: latency.duplicates,
    timedOut: !drained,
    targetRatePerSec: LATENCY_RATE,
    achievedRatePerSec: round((LATENCY_JOBS / enqueueMs) * 1000),
    /** Handler start minus the moment the producer saw COMMIT acknowledged (the headline figure). */
    commitToStartMs: summarize(fromCommit),
    /** Handler start minus the timestamp taken inside the transaction just before the insert. */
    sendToStartMs: summarize(fromSend),
    /** The producer's own transaction (begin, insert, commit) duration. */
    enqueueTxMs: summarize(commitTx),
    cpu: cpuUse,
  };
}

/** pg-boss `work()` options: wrap the call jobs.ts makes so an experiment can add to them. */
function mergeWorkOptions(app: CaravanApp, extra: Record<string, unknown>): void {
  const boss = app.platform.jobs.boss as unknown as {
    work: (name: string, options: object, handler: unknown) => Promise<string>;
  };
  const original = boss.work.bind(boss);
  boss.work = (name, options, handler) => original(name, { ...options, ...extra }, handler);
}

/** Jobs a timed-out throughput phase left queued would sit in front of the latency phase's. */
async function deleteLeftovers(app: CaravanApp): Promise<number> {
  const result = (await app.platform.db.execute(
    sql`delete from ${sql.identifier(JOBS_SCHEMA)}.job where name = ${QUEUE} and state < 'active'`,
  )) as unknown as { rowCount: number | null };
  return result.rowCount ?? 0;
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/caravan_bench_jobs';
  const ownDatabase = isBenchDatabase(url);
  const loadAtStart = os.loadavg().map((value) => round(value, 2));
  if (ownDatabase) await recreateBenchDatabase(url);
  else
    note(`using existing database ${new URL(url).pathname}; only the ${QUEUE} queue is removed afterwards`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-bench-jobs-'));
  const pick = (key: string) => (process.env[key] ? { [key]: process.env[key] } : {});
  const config = loadConfig({
    ...pick('JOBS_CONCURRENCY'),
    ...pick('JOBS_BATCH_SIZE'),
    ...pick('JOBS_POLL_INTERVAL_SECONDS'),
    ...pick('DATABASE_POOL_MAX'),
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    SEED_DEMO_DATA: 'false',
  });
  // The app's logger writes to stdout; the benchmark keeps stdout for its JSON.
  const logger = pino({ level: config.logLevel, base: { service: 'caravan-bench' } }, pino.destination(2));
  let app: CaravanApp | undefined;
  try {
    const pgVersion = await serverVersion(url);
    const makeApp = async (role: 'api' | 'all') => {
      const built = await buildApp(config, { role, modules: [benchModule], logger, instanceName: 'bench' });
      if (EXTRA_WORK_OPTIONS) mergeWorkOptions(built, EXTRA_WORK_OPTIONS);
      return built;
    };
    let d: Awaited<ReturnType<typeof drainPhase>>['result'] | null = null;
    if (DRAIN_JOBS > 0) {
      note(`phase 0: ${DRAIN_JOBS} jobs queued first, then drained`);
      const drained = await drainPhase(makeApp);
      app = drained.app;
      d = drained.result;
      note(`phase 0: drained at ${d.drainJobsPerSec} jobs/s${d.timedOut ? ' (timed out)' : ''}`);
      if (d.timedOut) await deleteLeftovers(app);
    } else {
      app = await makeApp('all');
      await app.startJobs();
    }
    note(
      `worker: concurrency ${config.jobs.concurrency}, batch ${config.jobs.batchSize}, ` +
        `poll ${config.jobs.pollIntervalSeconds}s; ${PRODUCERS} producers x ${TX_SIZE} jobs/tx`,
    );

    note(`phase 1: ${TOTAL_JOBS} jobs`);
    const t = await throughputPhase(app);
    note(`phase 1: ${t.throughputJobsPerSec} jobs/s end to end, ${t.enqueueJobsPerSec} jobs/s enqueue`);

    const leftovers = t.timedOut ? await deleteLeftovers(app) : 0;
    if (leftovers > 0) note(`phase 1 timed out: deleted ${leftovers} queued jobs before phase 2`);
    await sleep(1000); // let the workers go idle (waiting on their poll/NOTIFY) before measuring latency
    note(`phase 2: ${LATENCY_JOBS} jobs at ${LATENCY_RATE}/s, one per transaction`);
    const l = await latencyPhase(app);
    note(
      `phase 2: p50 ${l.commitToStartMs.p50} ms, p95 ${l.commitToStartMs.p95} ms, max ${l.commitToStartMs.max}`,
    );

    const result = {
      benchmark: 'jobs',
      database: 'postgres',
      postgresVersion: pgVersion,
      jobs: TOTAL_JOBS,
      throughputJobsPerSec: t.throughputJobsPerSec,
      enqueueJobsPerSec: t.enqueueJobsPerSec,
      latencyMs: {
        p50: l.commitToStartMs.p50,
        p95: l.commitToStartMs.p95,
        p99: l.commitToStartMs.p99,
        max: l.commitToStartMs.max,
      },
      goals: {
        ...GOALS,
        throughputMet: !t.timedOut && t.throughputJobsPerSec >= GOALS.throughputJobsPerSec,
        latencyMet: !l.timedOut && l.commitToStartMs.p95 <= GOALS.latencyP95Ms,
      },
      settings: {
        JOBS_CONCURRENCY: config.jobs.concurrency,
        JOBS_BATCH_SIZE: config.jobs.batchSize,
        JOBS_POLL_INTERVAL_SECONDS: config.jobs.pollIntervalSeconds,
        DATABASE_POOL_MAX: config.database.poolMax,
        pgBossPoolMax: 4, // fixed in src/platform/jobs/jobs.ts
        useListenNotify: true,
        queueNotify: true,
        producers: PRODUCERS,
        jobsPerTransaction: TX_SIZE,
        enqueue: ENQUEUE_MODE,
        latencyJobs: LATENCY_JOBS,
        latencyRatePerSec: LATENCY_RATE,
        drainJobs: DRAIN_JOBS,
        timeoutSeconds: TIMEOUT_MS / 1000,
        experimentalWorkOptions: EXTRA_WORK_OPTIONS ?? null,
      },
      drain: d,
      throughput: { ...t, leftoverJobsDeletedBeforeLatencyPhase: leftovers },
      latency: l,
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      // Other work on the machine skews every figure: the 1/5/15-minute load when the run began.
      loadAverageAtStart: loadAtStart,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (app) {
      if (!ownDatabase) {
        await app.platform.jobs.boss.deleteQueue(QUEUE).catch(() => {});
      }
      await app.close();
    }
    if (ownDatabase) await dropBenchDatabase(url).catch((error) => note(`drop failed: ${error}`));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  // pg-boss and prom-client may leave timers behind; the benchmark has printed its result.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
