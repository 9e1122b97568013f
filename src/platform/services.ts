import type { Redis } from 'ioredis';
import type { Clock } from './clock/clock.ts';
import type { Config } from './config/config.ts';
import type { Database } from './db/client.ts';
import type { Db } from './db/types.ts';
import type { AccessTokenVerifier } from './http/principal.ts';
import type { Jobs } from './jobs/jobs.ts';
import type { Notifier } from './notify/notify.service.ts';
import type { Logger } from './observability/logger.ts';
import type { Metrics } from './observability/metrics.ts';
import type { RealtimeHub } from './realtime/index.ts';
import type { StoragePort } from './storage/index.ts';

/**
 * The platform parts every module builds on, created once per process by `createPlatform` and
 * passed explicitly (no container, no globals).
 */
export interface PlatformServices {
  readonly config: Config;
  /** Signs URLs and tokens; from APP_SECRET, else generated once into DATA_DIR. */
  readonly secret: string;
  readonly database: Database;
  readonly db: Db;
  readonly jobs: Jobs;
  readonly hub: RealtimeHub;
  readonly notifier: Notifier;
  readonly storage: StoragePort;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly auth: { verifier: AccessTokenVerifier };
  /** General-purpose Redis client (rate limits, readiness) when REDIS_URL is set. */
  readonly redis: Redis | undefined;
}
