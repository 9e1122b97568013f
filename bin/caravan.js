#!/usr/bin/env node
// The `caravan` command: the bundle built by `npm run build` (see docs/adr/0003), or the sources
// through tsx when no bundle exists (a checkout that has not been built).
import fs from 'node:fs';

const bundle = new URL('../dist/main.js', import.meta.url);
if (fs.existsSync(bundle)) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
