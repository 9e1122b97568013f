import { Redis } from 'ioredis';
import { type Clock, systemClock } from './clock/clock.ts';
import type { Config } from './config/config.ts';
import { type Database, openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrator.ts';
import { rejectAllTokens } from './http/principal.ts';
import { createJobs } from './jobs/jobs.ts';
import { createEmailTransport } from './notify/email.transport.ts';
import { createNotifier } from './notify/notify.service.ts';
import { createSmsTransport } from './notify/sms.transport.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, registerPoolMetrics } from './observability/metrics.ts';
import { createRealtimeHub } from './realtime/index.ts';
import { resolveSecret } from './secret.ts';
import type { PlatformServices } from './services.ts';
import { createStorage } from './storage/index.ts';

export interface PlatformOptions {
  /** An already open database (the test harness passes a per-file one). */
  readonly database?: Database;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly instanceName?: string;
  /** Skip migrations when the caller already ran them. */
  readonly migrate?: boolean;
}

export interface Platform extends PlatformServices {
  close(): Promise<void>;
}

export function openConfiguredDatabase(config: Config, poolMax = config.database.poolMax): Promise<Database> {
  const traceQueries = config.telemetry.otlpEndpoint !== undefined;
  return config.database.url
    ? openDatabase({ kind: 'postgres', url: config.database.url, poolMax, traceQueries })
    : openDatabase({ kind: 'pglite', dataDir: config.dataDir, traceQueries });
}

/** Opens every platform part in dependency order; `close()` shuts them in reverse. */
export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics({ collectDefaults: config.telemetry.metricsEnabled });
  const database = options.database ?? (await openConfiguredDatabase(config));
  const closers: (() => Promise<void>)[] = [() => database.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) {
      await close().catch((error) => logger.error({ err: error }, 'error while closing'));
    }
  };
  try {
    if (options.migrate ?? true) {
      const { applied } = await runMigrations(database);
      if (applied > 0) logger.info({ applied }, 'database migrated');
    }
    registerPoolMetrics(metrics, () => database.poolStats());
    const secret = resolveSecret(config.secret, config.dataDir);
    const redis = config.redis.url ? new Redis(config.redis.url, { maxRetriesPerRequest: 2 }) : undefined;
    if (redis) {
      redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
      closers.push(async () => void (await redis.quit()));
    }
    const auth = { verifier: rejectAllTokens };
    const jobs = createJobs({
      database,
      settings: config.jobs,
      logger,
      metrics,
      instanceName: options.instanceName,
    });
    closers.push(() => jobs.stop({ timeoutMs: config.server.shutdownTimeoutMs }));
    const hub = await createRealtimeHub({
      config: config.realtime,
      redisUrl: config.redis.url,
      logger,
      metrics,
      verifier: () => auth.verifier,
    });
    closers.push(() => hub.close());
    const notifier = createNotifier({
      jobs,
      email: createEmailTransport(config.mail),
      sms: createSmsTransport(config.sms),
      locale: config.locale,
    });
    closers.push(() => notifier.close());
    const clock = options.clock ?? systemClock;
    const storage = await createStorage({
      storage: config.storage,
      dataDir: config.dataDir,
      publicUrl: config.server.publicUrl,
      secret,
      now: () => clock.now(),
    });
    return {
      config,
      secret,
      database,
      db: database.db,
      jobs,
      hub,
      notifier,
      storage,
      metrics,
      logger,
      clock,
      auth,
      redis,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
