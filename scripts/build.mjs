// Bundles the server into dist/main.js (see docs/adr/0003). `--if-stale` rebuilds only when a
// source file, the lock file or this script is newer than the bundle.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isStale() {
  if (!fs.existsSync(outfile)) return true;
  const built = fs.statSync(outfile).mtimeMs;
  const inputs = [
    newestMtime(path.join(root, 'src')),
    fs.statSync(path.join(root, 'package-lock.json')).mtimeMs,
  ];
  inputs.push(fs.statSync(fileURLToPath(import.meta.url)).mtimeMs);
  return inputs.some((mtime) => mtime > built);
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const started = Date.now();
await build({
  entryPoints: [path.join(root, 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  logLevel: 'warning',
  // Stay in node_modules: packages that load files beside themselves at run time (WASM, static
  // assets, native addons), and vendor SDKs that are imported only when configured (so a server
  // that does not use them neither parses nor holds them: ~60 MB of RSS).
  external: [
    '@electric-sql/pglite',
    '@fastify/swagger-ui',
    '@node-rs/argon2',
    'pg-native',
    'tsx',
    'nodemailer',
    'twilio',
    'openai',
    'stripe',
    '@paypal/paypal-server-sdk',
    '@aws-sdk/*',
    '@opentelemetry/sdk-node',
    '@opentelemetry/exporter-trace-otlp-http',
  ],
  // Bundled CommonJS dependencies still call require().
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
});
// A migrated empty PGlite data directory: a first embedded start loads it instead of running initdb
// in WASM and every migration (measured: initdb alone 4.2 s; loading the snapshot 1.0 s). Made by
// the bundle's own `migrate` on a scratch directory, so it matches the migrations it ships with.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-snapshot-'));
try {
  execFileSync(process.execPath, [outfile, 'migrate'], {
    env: {
      ...process.env,
      DATA_DIR: scratch,
      DATABASE_URL: '',
      REDIS_URL: '',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const { PGlite } = await import('@electric-sql/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const migrated = await PGlite.create({ dataDir: path.join(scratch, 'pgdata'), extensions: { pg_trgm } });
  const snapshot = await migrated.dumpDataDir('gzip');
  await migrated.close();
  fs.writeFileSync(
    path.join(root, 'dist', 'pglite-initial.tar.gz'),
    Buffer.from(await snapshot.arrayBuffer()),
  );
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
console.error(`built ${path.relative(root, outfile)} and the PGlite snapshot in ${Date.now() - started} ms`);
