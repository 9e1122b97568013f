import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfigFromProcess } from '../../src/platform/config/config.ts';
import { openDatabase } from '../../src/platform/db/client.ts';
import { runMigrations } from '../../src/platform/db/migrator.ts';
import { TEMPLATE_DATABASE, withDatabaseName } from './database-names.ts';

declare module 'vitest' {
  interface ProvidedContext {
    pgliteSnapshot: string;
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
    const admin = new pg.Client({ connectionString: withDatabaseName(config.database.url, 'postgres') });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
      await admin.query(`create database ${TEMPLATE_DATABASE}`);
      const { rows } = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname like 'caravan_test_%' and datname <> $1`,
        [TEMPLATE_DATABASE],
      );
      // Databases left by an aborted earlier run.
      for (const row of rows) await admin.query(`drop database if exists "${row.datname}" with (force)`);
    } finally {
      await admin.end();
    }
    const template = await openDatabase({
      kind: 'postgres',
      url: withDatabaseName(config.database.url, TEMPLATE_DATABASE),
      poolMax: 2,
    });
    await runMigrations(template);
    await template.close();
    project.provide('pgliteSnapshot', '');
    return async () => {};
  }
  const database = await openDatabase({ kind: 'pglite', dataDir: undefined });
  await runMigrations(database);
  const dump = await database.pglite!.dumpDataDir('none');
  await database.close();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-snapshot-'));
  const file = path.join(dir, 'migrated.tar');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteSnapshot', file);
  return async () => fs.rmSync(dir, { recursive: true, force: true });
}
