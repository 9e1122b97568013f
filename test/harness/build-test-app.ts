import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BuildAppOptions, buildApp, type CaravanApp, type Role } from '../../src/app.ts';
import { type Config, loadConfigFromProcess } from '../../src/platform/config/config.ts';
import type { Database } from '../../src/platform/db/client.ts';
import { createLogger } from '../../src/platform/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

export interface TestAppOptions extends Omit<BuildAppOptions, 'database' | 'role'> {
  /** Environment overrides (strings, as in a real environment). */
  readonly env?: Record<string, string>;
  readonly role?: Role;
  /** Start the job runtime (workers + schedules for role `all`). Default true. */
  readonly startJobs?: boolean;
  /** Listen on 127.0.0.1 on a free port (for WebSocket and real HTTP clients). Default false. */
  readonly listen?: boolean;
  /** Share another test app's database (a second instance on the same data). */
  readonly sameDatabaseAs?: TestApp;
}

export interface TestApp extends CaravanApp {
  readonly config: Config;
  readonly testDatabase: TestDatabase;
  /** `http://127.0.0.1:<port>` when `listen` was set. */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * The real app on a private database: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set,
 * otherwise PGlite and the in-process hub. Nothing is mocked; vendors point at loopback fakes.
 */
export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-test-'));
  const config = loadConfigFromProcess({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    SEED_DEMO_DATA: 'false',
    // PGlite's WASM and parallel test files stall the event loop; load shedding would turn that into 503s.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_MAX: '100000',
    JOBS_POLL_INTERVAL_SECONDS: '0.5',
    CRON_INTERVAL_SECONDS: '1',
    // The catalog read caches drop entries on NOTIFY, which on PostgreSQL arrives just after the
    // commit: a test that writes and reads the same thing at once would race it. The caches' own
    // tests (and search's) turn them on and wait where the staleness bound allows it.
    CATALOG_CACHE_ENABLED: 'false',
    ...options.env,
  });
  const owned = !options.sameDatabaseAs;
  const testDatabase = options.sameDatabaseAs?.testDatabase ?? (await createTestDatabase(config));
  let database: Database = testDatabase.database;
  if (!owned) database = await testDatabase.openAnother();
  const app = await buildApp(config, {
    ...options,
    role: options.role ?? 'all',
    database,
    migrate: false,
    logger: options.logger ?? createLogger(config.logLevel),
  });
  let baseUrl = '';
  if (options.listen) {
    await app.http.listen({ port: 0, host: '127.0.0.1' });
    const address = app.http.server.address();
    if (address && typeof address === 'object') baseUrl = `http://127.0.0.1:${address.port}`;
  }
  if (options.startJobs ?? true) await app.startJobs();
  return {
    ...app,
    config,
    testDatabase,
    baseUrl,
    async close() {
      await app.close();
      if (owned) await testDatabase.drop().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
