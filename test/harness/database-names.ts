import { randomBytes } from 'node:crypto';

/**
 * Test databases are named `caravan_test_<unix seconds>_<random>`, so concurrent runs never touch
 * each other's databases and a run can clean up what aborted runs left (anything over an hour old).
 */
export const TEST_DATABASE_PREFIX = 'caravan_test_';
const STALE_AFTER_SECONDS = 3600;

export function newTestDatabaseName(kind: 'tpl' | 'db' = 'db'): string {
  return `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${kind}_${randomBytes(5).toString('hex')}`;
}

export function isStaleTestDatabase(name: string, nowSeconds = Date.now() / 1000): boolean {
  const match = /^caravan_test_(\d+)_/.exec(name);
  return !!match && Number(match[1]) < nowSeconds - STALE_AFTER_SECONDS;
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
