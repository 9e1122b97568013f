import pg from 'pg';

/** Databases the benchmarks may create and drop: never anything else. */
export const BENCH_DATABASE_PREFIX = 'caravan_bench_';

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export function isBenchDatabase(url: string): boolean {
  return /^caravan_bench_[a-z0-9_]+$/.test(databaseName(url));
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

function assertBenchDatabase(url: string): string {
  const name = databaseName(url);
  if (!isBenchDatabase(url))
    throw new Error(`refusing to create or drop "${name}": not a ${BENCH_DATABASE_PREFIX}* name`);
  return name;
}

/** Drops (if present) and creates the benchmark database named in `url`. */
export async function recreateBenchDatabase(url: string): Promise<void> {
  const name = assertBenchDatabase(url);
  await adminQuery(url, `drop database if exists "${name}" with (force)`);
  await adminQuery(url, `create database "${name}"`);
}

export async function dropBenchDatabase(url: string): Promise<void> {
  const name = assertBenchDatabase(url);
  await adminQuery(url, `drop database if exists "${name}" with (force)`);
}

export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return rows[0]?.v ?? 'unknown';
  } finally {
    await client.end();
  }
}
