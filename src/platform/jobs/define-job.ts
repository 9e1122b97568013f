import type { Static, TSchema } from 'typebox';
import type { Db, DbOrTx } from '../db/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { PlatformServices } from '../services.ts';

export interface JobContext<Payload> {
  readonly payload: Payload;
  readonly jobId: string;
  /** Stable across retries and redeliveries: use it as the idempotency key of the side effect. */
  readonly dedupeKey: string;
  /** 0 on the first try. */
  readonly attempt: number;
  readonly db: Db;
  readonly logger: Logger;
  readonly services: PlatformServices;
  /**
   * Records, inside the handler's own transaction, that this job's effect happened. Returns false
   * when an earlier delivery already committed it: the handler then does nothing.
   */
  claim(tx: DbOrTx): Promise<boolean>;
}

export interface JobOptions {
  /** Attempts after the first. */
  readonly retryLimit?: number;
  /** First retry delay; doubles each retry (with jitter) up to `retryDelayMaxSeconds`. */
  readonly retryDelaySeconds?: number;
  readonly retryDelayMaxSeconds?: number;
  readonly expireInSeconds?: number;
  /** Handlers running at once for this queue in one worker process. */
  readonly concurrency?: number;
  /** Jobs fetched per poll. */
  readonly batchSize?: number;
  /** Derives the dedupe key from the payload; defaults to the key given at enqueue, else the job id. */
  readonly dedupeKey?: (payload: never) => string;
}

export interface JobDefinition<S extends TSchema = TSchema> {
  readonly name: string;
  readonly payload: S;
  readonly handler: (context: JobContext<Static<S>>) => Promise<void>;
  readonly options: JobOptions;
}

const QUEUE_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

/** Declares a background job: a queue name, the payload's schema, and what to do with it. */
export function defineJob<S extends TSchema>(
  name: string,
  payload: S,
  handler: (context: JobContext<Static<S>>) => Promise<void>,
  options: JobOptions = {},
): JobDefinition<S> {
  if (!QUEUE_NAME.test(name) || name.endsWith('.dead')) {
    throw new Error(`Invalid job name "${name}": lowercase letters, digits, . _ - (".dead" is reserved)`);
  }
  return Object.freeze({ name, payload, handler, options: Object.freeze({ ...options }) });
}

export interface CronDefinition {
  /** Identifies the schedule; one schedule per key however many workers declare it. */
  readonly key: string;
  /** Cron expression (5 fields, or 6 with seconds), evaluated in `timeZone`. */
  readonly cron: string;
  readonly job: JobDefinition;
  readonly payload: unknown;
  readonly timeZone?: string;
}

export function defineCron<S extends TSchema>(
  key: string,
  cron: string,
  job: JobDefinition<S>,
  payload: Static<S>,
  timeZone = 'UTC',
): CronDefinition {
  return Object.freeze({ key, cron, job: job as unknown as JobDefinition, payload, timeZone });
}
