import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { Config } from '../../src/platform/config/config.ts';
import { type Database, openDatabase } from '../../src/platform/db/client.ts';
import { newTestDatabaseName, withDatabaseName } from './database-names.ts';

export interface TestDatabase {
  readonly database: Database;
  /** Set on PostgreSQL: the clone's URL, for a second app instance on the same data. */
  readonly url: string | undefined;
  /** Another handle on the same data, for a second app instance. */
  openAnother(): Promise<Database>;
  drop(): Promise<void>;
}

async function adminQuery(url: string, text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** A private database for one test file: a clone of the migrated template, or a fresh PGlite. */
export async function createTestDatabase(config: Config): Promise<TestDatabase> {
  const baseUrl = config.database.url;
  if (baseUrl) {
    const name = newTestDatabaseName();
    await adminQuery(baseUrl, `create database ${name} template ${inject('templateDatabase')}`);
    const url = withDatabaseName(baseUrl, name);
    const opened: Database[] = [];
    const open = async () => {
      const database = await openDatabase({ kind: 'postgres', url, poolMax: 10 });
      opened.push(database);
      return database;
    };
    const database = await open();
    return {
      database,
      url,
      openAnother: open,
      async drop() {
        for (const handle of opened) await handle.close().catch(() => {});
        await adminQuery(baseUrl, `drop database if exists ${name} with (force)`);
      },
    };
  }
  const snapshot = inject('pgliteSnapshot');
  const loadDataDir = new Blob([fs.readFileSync(snapshot)]);
  const database = await openDatabase({ kind: 'pglite', dataDir: undefined, loadDataDir });
  return {
    database,
    url: undefined,
    // PGlite is one in-process connection: a second app instance shares the handle itself and
    // must not close it (the first instance does).
    openAnother: async () => ({ ...database, close: async () => {} }),
    drop: () => database.close().catch(() => {}),
  };
}
