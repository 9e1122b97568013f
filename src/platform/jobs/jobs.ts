import { sql } from 'drizzle-orm';
import { fromDrizzle, fromPglite, type Job, type JobResult, PgBoss } from 'pg-boss';
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import type { Database } from '../db/client.ts';
import { JOBS_SCHEMA } from '../db/migrator.ts';
import type { DbOrTx } from '../db/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { PlatformServices } from '../services.ts';
import type { CronDefinition, JobDefinition } from './define-job.ts';
import { findDoneKeys, recordEffects } from './job-effects.repo.ts';

/** What travels in pg-boss's `data`: the payload plus the key that makes its effect idempotent. */
interface Envelope {
  readonly p: unknown;
  readonly k: string | null;
}

export interface EnqueueOptions {
  /** Two enqueues with one key have one effect. Defaults to the job's `dedupeKey(payload)`, else the job id. */
  readonly dedupeKey?: string;
  readonly startAfter?: Date | number;
  readonly priority?: number;
}

export interface JobsSettings {
  readonly concurrency: number;
  readonly batchSize: number;
  readonly pollIntervalSeconds: number;
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  readonly cronIntervalSeconds: number;
}

export interface Jobs {
  register(definitions: readonly JobDefinition[], crons?: readonly CronDefinition[]): void;
  /** Installs queues; `work` starts handlers, `schedule` runs the cron clock. Ready once it resolves. */
  start(options: { work: boolean; schedule: boolean; services: PlatformServices }): Promise<void>;
  /**
   * Sends a job through `executor`: pass the open transaction and the job exists only if it
   * commits. The payload is checked against the job's schema first.
   */
  enqueue<S extends TSchema>(
    executor: DbOrTx,
    job: JobDefinition<S>,
    payload: Static<S>,
    options?: EnqueueOptions,
  ): Promise<string | null>;
  /**
   * Sends many jobs of one kind in a single statement through `executor` (same transactional
   * guarantee as `enqueue`); for fan-out and bulk work, about 16× cheaper per job in PostgreSQL.
   */
  enqueueMany<S extends TSchema>(
    executor: DbOrTx,
    job: JobDefinition<S>,
    items: readonly { payload: Static<S>; dedupeKey?: string; startAfter?: Date | number }[],
  ): Promise<void>;
  /** Stops fetching, waits for running handlers up to `timeoutMs`, then closes. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  isRunning(): boolean;
  readonly boss: PgBoss;
}

function assertPayload(job: JobDefinition, payload: unknown): void {
  if (Value.Check(job.payload, payload)) return;
  const problems = [...Value.Errors(job.payload, payload)].map((e) => `${e.instancePath} ${e.message}`);
  throw new Error(`Payload for job ${job.name} is invalid: ${problems.join('; ')}`);
}

export function isPermanentError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}

export function deadLetterQueue(name: string): string {
  return `${name}.dead`;
}

export function createJobs(options: {
  database: Database;
  settings: JobsSettings;
  logger: Logger;
  metrics: Metrics;
  instanceName?: string;
}): Jobs {
  const { database, settings, logger, metrics } = options;
  const definitions = new Map<string, JobDefinition>();
  const crons = new Map<string, CronDefinition>();
  // `started`: pg-boss is up and must be stopped; `ready`: queues, workers and schedules are in place.
  let started = false;
  let ready = false;
  let working = false;

  const boss = new PgBoss({
    schema: JOBS_SCHEMA,
    ...(database.pglite
      ? { db: fromPglite(database.pglite), backend: 'pglite' as const }
      : { connectionString: database.connectionString, max: 4, application_name: 'caravan-jobs' }),
    useListenNotify: true,
    instanceName: options.instanceName ?? 'caravan',
    cronWorkerIntervalSeconds: settings.cronIntervalSeconds,
  });
  boss.on('error', (error) => logger.error({ err: error }, 'job queue error'));

  function dedupeKeyFor(job: JobDefinition, payload: unknown, given: string | undefined): string | null {
    if (given) return given;
    const derive = job.options.dedupeKey as ((payload: unknown) => string) | undefined;
    return derive ? derive(payload) : null;
  }

  async function runBatch(job: JobDefinition, batch: Job<Envelope>[], services: PlatformServices) {
    const { db } = database;
    const keyed = batch.map((item) => ({ item, key: item.data?.k ?? item.id }));
    // A first delivery keyed by its own job id cannot have run before: only redeliveries (pg-boss
    // raises retryCount on every one) and caller-given keys need the lookup.
    const mayBeDone = keyed.filter((entry) => entry.item.data?.k != null || entry.item.retryCount > 0);
    const done = await findDoneKeys(
      db,
      job.name,
      mayBeDone.map((entry) => entry.key),
    );
    const results: JobResult[] = [];
    const succeeded: { dedupeKey: string; jobId: string }[] = [];
    await Promise.all(
      keyed.map(async ({ item, key }) => {
        if (done.has(key)) {
          metrics.jobsProcessed.inc({ queue: job.name, outcome: 'skipped' });
          results.push({ id: item.id, status: 'completed', output: { skipped: 'already done' } });
          return;
        }
        const payload = item.data?.p;
        if (!Value.Check(job.payload, payload)) {
          // A payload that does not fit will never fit: straight to the dead-letter queue.
          metrics.jobsProcessed.inc({ queue: job.name, outcome: 'invalid' });
          results.push({
            id: item.id,
            status: 'deadletter',
            output: { error: 'payload does not match schema' },
          });
          return;
        }
        const jobLogger = logger.child({ job: job.name, jobId: item.id, attempt: item.retryCount });
        const stopTimer = metrics.jobDuration.startTimer({ queue: job.name });
        try {
          await job.handler({
            payload,
            jobId: item.id,
            dedupeKey: key,
            attempt: item.retryCount,
            db,
            logger: jobLogger,
            services,
            claim: async (tx) =>
              (await recordEffects(tx, job.name, [{ dedupeKey: key, jobId: item.id }])).size > 0,
          });
          succeeded.push({ dedupeKey: key, jobId: item.id });
          metrics.jobsProcessed.inc({ queue: job.name, outcome: 'completed' });
          results.push({ id: item.id, status: 'completed' });
        } catch (error) {
          // An error that says it is permanent (an invalid phone number, a missing template) would
          // fail the same way on every retry: it goes straight to the dead-letter queue.
          const permanent = isPermanentError(error);
          jobLogger.warn({ err: error, permanent }, 'job failed');
          metrics.jobsProcessed.inc({ queue: job.name, outcome: permanent ? 'dead' : 'failed' });
          results.push({
            id: item.id,
            status: permanent ? 'deadletter' : 'failed',
            output: { error: String(error) },
          });
        } finally {
          stopTimer();
        }
      }),
    );
    // Handlers that claimed inside their own transaction already have a row; this is a no-op then.
    await recordEffects(db, job.name, succeeded);
    return results;
  }

  return {
    boss,
    register(newDefinitions, newCrons = []) {
      for (const definition of newDefinitions) {
        if (definitions.has(definition.name)) throw new Error(`Job ${definition.name} is registered twice`);
        definitions.set(definition.name, definition);
      }
      for (const cron of newCrons) {
        if (crons.has(cron.key)) throw new Error(`Cron ${cron.key} is registered twice`);
        if (!definitions.has(cron.job.name)) definitions.set(cron.job.name, cron.job);
        crons.set(cron.key, cron);
      }
    },

    async start({ work, schedule, services }) {
      await boss.start();
      started = true;
      for (const job of definitions.values()) {
        const dead = deadLetterQueue(job.name);
        await boss.createQueue(dead, { retentionSeconds: 30 * 24 * 3600 });
        await boss.createQueue(job.name, {
          retryLimit: job.options.retryLimit ?? settings.retryLimit,
          retryDelay: job.options.retryDelaySeconds ?? settings.retryDelaySeconds,
          retryBackoff: true,
          retryDelayMax: job.options.retryDelayMaxSeconds ?? 3600,
          expireInSeconds: job.options.expireInSeconds ?? 15 * 60,
          deadLetter: dead,
          notify: true,
        });
      }
      if (work) {
        working = true;
        for (const job of definitions.values()) {
          await boss.work<Envelope>(
            job.name,
            {
              batchSize: job.options.batchSize ?? settings.batchSize,
              localConcurrency: job.options.concurrency ?? settings.concurrency,
              pollingIntervalSeconds: settings.pollIntervalSeconds,
              // LISTEN/NOTIFY wakes workers for new jobs, but nothing notifies when a delayed job or
              // a retry comes due: without this pg-boss would look only every 30 s.
              notifyPollingIntervalSeconds: settings.pollIntervalSeconds,
              // NOTIFY only wakes idle workers: keep fetching while batches come back full, or a
              // backlog would drain one batch per worker per polling interval.
              burstWhenBatchFull: true,
              perJobResults: true,
            },
            (batch) => runBatch(job, batch, services),
          );
        }
      }
      if (schedule) {
        const existing = await boss.getSchedules();
        for (const cron of crons.values()) {
          await boss.schedule(cron.job.name, cron.cron, { p: cron.payload, k: null } satisfies Envelope, {
            key: cron.key,
            tz: cron.timeZone ?? 'UTC',
          });
        }
        // A schedule removed from the code stops firing.
        for (const old of existing) {
          const declared = [...crons.values()].some(
            (cron) => cron.job.name === old.name && cron.key === old.key,
          );
          if (!declared && definitions.has(old.name)) await boss.unschedule(old.name, old.key);
        }
      }
      ready = true;
    },

    async enqueue(executor, job, payload, enqueueOptions = {}) {
      assertPayload(job, payload);
      const envelope: Envelope = { p: payload, k: dedupeKeyFor(job, payload, enqueueOptions.dedupeKey) };
      return boss.send(job.name, envelope, {
        db: fromDrizzle(executor as unknown as Parameters<typeof fromDrizzle>[0], sql),
        ...(enqueueOptions.startAfter !== undefined
          ? { startAfter: new Date(enqueueOptions.startAfter) }
          : {}),
        ...(enqueueOptions.priority !== undefined ? { priority: enqueueOptions.priority } : {}),
      });
    },

    async enqueueMany(executor, job, items) {
      if (items.length === 0) return;
      for (const item of items) assertPayload(job, item.payload);
      await boss.insert(
        job.name,
        items.map((item) => ({
          data: { p: item.payload, k: dedupeKeyFor(job, item.payload, item.dedupeKey) } satisfies Envelope,
          ...(item.startAfter !== undefined ? { startAfter: new Date(item.startAfter) } : {}),
        })),
        { db: fromDrizzle(executor as unknown as Parameters<typeof fromDrizzle>[0], sql) },
      );
    },

    async stop({ timeoutMs = 8000 } = {}) {
      if (!started) return;
      started = false;
      ready = false;
      await boss.stop({ graceful: working, timeout: timeoutMs, close: true });
    },

    isRunning: () => ready,
  };
}
