import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfigFromProcess } from '../../src/platform/config/config.ts';
import { openDatabase } from '../../src/platform/db/client.ts';
import { runMigrations } from '../../src/platform/db/migrator.ts';
import { isStaleTestDatabase, newTestDatabaseName, withDatabaseName } from './database-names.ts';

declare module 'vitest' {
  interface ProvidedContext {
    pgliteSnapshot: string;
    templateDatabase: string;
  }
}

/**
 * Migrates once per run. PostgreSQL: a template database every test file clones (Trigger.dev's
 * pattern). Embedded: a migrated PGlite data directory dumped to a file every test file loads, which
 * skips PGlite's ~2 s initdb per file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = loadConfigFromProcess({ NODE_ENV: 'test' });
  if (config.database.url) {
    const template = newTestDatabaseName('tpl');
    const adminUrl = withDatabaseName(config.database.url, 'postgres');
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname like 'caravan\\_test\\_%'`,
      );
      // Databases left by aborted runs (a live run's are younger than an hour).
      for (const row of rows) {
        if (isStaleTestDatabase(row.datname))
          await admin.query(`drop database if exists "${row.datname}" with (force)`);
      }
      await admin.query(`create database ${template}`);
    } finally {
      await admin.end();
    }
    const database = await openDatabase({
      kind: 'postgres',
      url: withDatabaseName(config.database.url, template),
      poolMax: 2,
    });
    await runMigrations(database);
    await database.close();
    project.provide('templateDatabase', template);
    project.provide('pgliteSnapshot', '');
    return async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${template} with (force)`).finally(() => client.end());
    };
  }
  const database = await openDatabase({ kind: 'pglite', dataDir: undefined });
  await runMigrations(database);
  const dump = await database.pglite!.dumpDataDir('none');
  await database.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-snapshot-'));
  const file = path.join(dir, 'migrated.tar');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteSnapshot', file);
  project.provide('templateDatabase', '');
  return async () => fs.rmSync(dir, { recursive: true, force: true });
}
