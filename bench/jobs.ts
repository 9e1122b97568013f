/**
 * pg-boss job throughput and latency on PostgreSQL, through the real platform (`buildApp`).
 *
 *   npx tsx bench/jobs.ts [--jobs 20000] [--producers 4] [--tx-size 100]
 *                         [--latency-jobs 500] [--latency-rate 100] [--timeout-s 120]
 *
 * Settings come from the usual config keys: JOBS_CONCURRENCY, JOBS_BATCH_SIZE,
 * JOBS_POLL_INTERVAL_SECONDS, DATABASE_POOL_MAX. DATABASE_URL defaults to a fresh
 * `caravan_bench_jobs` database that is dropped afterwards (any `caravan_bench_*` name is
 * recreated and dropped; another database is used as is and only the benchmark's queue is removed).
 *
 * Phase 1 (throughput): producers enqueue --jobs jobs in committed transactions of --tx-size
 * `jobs.enqueue(tx, ...)` calls while the worker runs; end to end = first enqueue to the last handler.
 * Phase 2 (latency): --latency-jobs jobs, one per committed transaction, paced at --latency-rate per
 * second on an idle worker; latency = handler start minus the producer's commit acknowledgement.
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
import { note, round, sleep, summarize } from './lib/stats.ts';

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    producers: { type: 'string', default: '4' },
    'tx-size': { type: 'string', default: '100' },
    'latency-jobs': { type: 'string', default: '500' },
    'latency-rate': { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '120' },
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
const LATENCY_JOBS = positiveInt('latency-jobs', args['latency-jobs']);
const LATENCY_RATE = positiveInt('latency-rate', args['latency-rate']);
const TIMEOUT_MS = positiveInt('timeout-s', args['timeout-s']) * 1000;
// Long enough to see a job that waits out pg-boss's 30 s NOTIFY backstop poll.
const LATENCY_DRAIN_TIMEOUT_MS = 40_000;
const QUEUE = 'bench.jobs';

const GOALS = { throughputJobsPerSec: 2000, latencyP95Ms: 100 };

/** Epoch milliseconds with sub-millisecond resolution (same clock as Date.now()). */
const now = () => performance.timeOrigin + performance.now();

// --- what the handler records ---------------------------------------------------------------

const throughput = { handled: 0, duplicates: 0, lastHandledAt: 0, seen: new Uint8Array(TOTAL_JOBS) };
const latency = {
  handled: 0,
  duplicates: 0,
  startedAt: new Float64Array(LATENCY_JOBS),
  committedAt: new Float64Array(LATENCY_JOBS),
  sentAt: new Float64Array(LATENCY_JOBS),
};

const BenchPayload = Type.Object({
  phase: Type.Union([Type.Literal('throughput'), Type.Literal('latency')]),
  seq: Type.Integer({ minimum: 0 }),
  /** Taken inside the enqueuing transaction, just before the insert. */
  sentAt: Type.Number(),
});

const benchJob = defineJob(
  QUEUE,
  BenchPayload,
  async ({ payload }) => {
    const startedAt = now();
    if (payload.phase === 'throughput') {
      if (throughput.seen[payload.seq]) throughput.duplicates++;
      else {
        throughput.seen[payload.seq] = 1;
        throughput.handled++;
      }
      throughput.lastHandledAt = startedAt;
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

async function jobStates(app: CaravanApp): Promise<Record<string, number>> {
  const result = await app.platform.db.execute<{ state: string; n: number }>(
    sql`select state::text as state, count(*)::int as n from ${sql.identifier(JOBS_SCHEMA)}.job
        where name = ${QUEUE} group by state`,
  );
  return Object.fromEntries(result.rows.map((row) => [row.state, Number(row.n)]));
}

async function throughputPhase(app: CaravanApp) {
  const { db, jobs } = app.platform;
  let next = 0;
  let committed = 0;
  let lastCommitAt = 0;
  const txDurations: number[] = [];
  const startedAt = now();
  const deadline = Date.now() + TIMEOUT_MS;

  async function producer(): Promise<void> {
    while (next < TOTAL_JOBS && Date.now() < deadline) {
      const first = next;
      const end = Math.min(TOTAL_JOBS, first + TX_SIZE);
      next = end;
      const txStart = now();
      await db.transaction(async (tx) => {
        for (let seq = first; seq < end; seq++) {
          await jobs.enqueue(tx, benchJob, { phase: 'throughput', seq, sentAt: now() });
        }
      });
      lastCommitAt = now();
      txDurations.push(lastCommitAt - txStart);
      committed += end - first;
    }
  }

  const progress = setInterval(
    () => note(`throughput: committed ${committed}/${TOTAL_JOBS}, handled ${throughput.handled}`),
    2000,
  );
  try {
    await Promise.all(Array.from({ length: PRODUCERS }, producer));
    const enqueueMs = lastCommitAt - startedAt;
    const handledAtCommitEnd = throughput.handled;
    const drained = await waitUntil(() => throughput.handled >= committed, deadline);
    const endToEndMs = throughput.lastHandledAt - startedAt;
    // pg-boss marks a batch completed after its handlers return: wait for that too (bounded).
    const settleStart = now();
    let states = await jobStates(app);
    while ((states.completed ?? 0) < throughput.handled && now() - settleStart < 10_000) {
      await sleep(50);
      states = await jobStates(app);
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
    };
  } finally {
    clearInterval(progress);
  }
}

async function latencyPhase(app: CaravanApp) {
  const { db, jobs } = app.platform;
  const intervalMs = 1000 / LATENCY_RATE;
  const startedAt = now();
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
  const drained = await waitUntil(() => latency.handled >= LATENCY_JOBS, Date.now() + LATENCY_DRAIN_TIMEOUT_MS);
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
  };
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/caravan_bench_jobs';
  const ownDatabase = isBenchDatabase(url);
  if (ownDatabase) await recreateBenchDatabase(url);
  else note(`using existing database ${new URL(url).pathname}; only the ${QUEUE} queue is removed afterwards`);
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
    app = await buildApp(config, { role: 'all', modules: [benchModule], logger, instanceName: 'bench' });
    await app.startJobs();
    note(
      `worker: concurrency ${config.jobs.concurrency}, batch ${config.jobs.batchSize}, ` +
        `poll ${config.jobs.pollIntervalSeconds}s; ${PRODUCERS} producers x ${TX_SIZE} jobs/tx`,
    );

    note(`phase 1: ${TOTAL_JOBS} jobs`);
    const t = await throughputPhase(app);
    note(`phase 1: ${t.throughputJobsPerSec} jobs/s end to end, ${t.enqueueJobsPerSec} jobs/s enqueue`);

    await sleep(1000); // let the workers go idle (waiting on their poll/NOTIFY) before measuring latency
    note(`phase 2: ${LATENCY_JOBS} jobs at ${LATENCY_RATE}/s, one per transaction`);
    const l = await latencyPhase(app);
    note(`phase 2: p50 ${l.commitToStartMs.p50} ms, p95 ${l.commitToStartMs.p95} ms, max ${l.commitToStartMs.max}`);

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
        latencyJobs: LATENCY_JOBS,
        latencyRatePerSec: LATENCY_RATE,
        timeoutSeconds: TIMEOUT_MS / 1000,
      },
      throughput: t,
      latency: l,
      node: process.version,
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
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
