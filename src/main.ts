#!/usr/bin/env node
import closeWithGrace from 'close-with-grace';
import { buildApp, type CaravanApp, modules, type Role, runSeeds } from './app.ts';
import { type Config, ConfigError, loadConfigFromProcess } from './platform/config/config.ts';
import { DataDirLockedError } from './platform/db/data-dir-lock.ts';
import { runMigrations } from './platform/db/migrator.ts';
import { CommandError } from './platform/module.ts';
import { createLogger } from './platform/observability/logger.ts';
import { startTracing } from './platform/observability/tracing.ts';
import { openConfiguredDatabase } from './platform/platform.ts';

const USAGE = `Usage: caravan <command>

Commands:
  start          API + job worker + scheduler in one process (default)
  api            HTTP and WebSocket API only (jobs are enqueued, not run)
  worker         job worker and scheduler (serves /healthz, /readyz and /metrics on PORT)
  migrate        apply database migrations and exit
  seed           load demo data and exit; seed --products N also generates a catalog of N products
  seed-catalog   generate a demo catalog: seed-catalog --products N [--concurrency 3] [--seed 1]
  create-admin   create an administrator: caravan create-admin <email> [--name NAME] [--password-stdin]
                 (prints a generated password unless one is piped with --password-stdin)
  help           show this text

Settings come from the environment; see .env.example.`;

async function serve(config: Config, role: Role): Promise<void> {
  const logger = createLogger(config.logLevel);
  const tracing = await startTracing(config.telemetry);
  const started = performance.now();
  const app = await buildApp(config, { role, logger, instanceName: role });
  let shuttingDown = false;
  // A second signal, or the deadline, force the exit: SHUTDOWN_TIMEOUT_MS keeps the total under 10 s.
  closeWithGrace(
    { delay: config.server.shutdownTimeoutMs, logger: { error: (m: string) => logger.error(m) } },
    async ({ signal, err }) => {
      if (shuttingDown) return;
      shuttingDown = true;
      if (err) logger.error({ err }, 'shutting down after an unexpected error');
      else logger.info({ signal }, 'shutting down');
      await app.close();
      await tracing.shutdown();
    },
  );
  await app.http.listen({ port: config.server.port, host: config.server.host });
  try {
    await app.startJobs();
    if (role !== 'api' && config.seedDemoData) await runSeeds(app);
  } catch (error) {
    // A SIGTERM that lands while jobs are still starting stops them under our feet: not a failure.
    if (!shuttingDown) throw error;
    return;
  }
  logger.info(
    {
      role,
      port: config.server.port,
      database: app.platform.database.kind,
      ms: Math.round(performance.now() - started),
    },
    'caravan ready',
  );
}

async function migrate(config: Config): Promise<void> {
  const database = await openConfiguredDatabase(config, 2);
  try {
    const { applied } = await runMigrations(database);
    console.log(`migrations applied: ${applied}`);
  } finally {
    await database.close();
  }
}

async function withApp(config: Config, run: (app: CaravanApp) => Promise<void>): Promise<void> {
  const app = await buildApp(config, { role: 'api', logger: createLogger(config.logLevel) });
  try {
    await app.startJobs();
    await run(app);
  } finally {
    await app.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command = 'start'] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return;
  }
  const config = loadConfigFromProcess();
  switch (command) {
    case 'start':
      return serve(config, 'all');
    case 'api':
      return serve(config, 'api');
    case 'worker':
      return serve(config, 'worker');
    case 'migrate':
      return migrate(config);
    case 'seed':
      return withApp(config, async (app) => {
        await runSeeds(app);
        // `caravan seed --products N [...]` also runs the catalog generator with those arguments.
        const generator = modules.find((module) => module.commands?.['seed-catalog'])?.commands?.[
          'seed-catalog'
        ];
        if (argv.length > 1 && generator) await generator.run(app.platform, argv.slice(1));
        console.log('demo data loaded');
      });
    default: {
      const owner = modules.find((module) => module.commands?.[command]);
      const moduleCommand = owner?.commands?.[command];
      if (!moduleCommand) {
        console.error(`Unknown command "${command}".\n\n${USAGE}`);
        process.exitCode = 2;
        return;
      }
      return withApp(config, (app) => moduleCommand.run(app.platform, argv.slice(1)));
    }
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Expected refusals (bad settings, a locked data dir) read best as one clear message.
  const expected =
    error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof CommandError;
  console.error(expected ? (error as Error).message : error);
  process.exit(1);
});
