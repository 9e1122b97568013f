#!/usr/bin/env node
// The `caravan` command: runs the TypeScript sources through tsx (see docs/adr/0001).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
