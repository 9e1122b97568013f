import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { access } from '../../src/platform/http/access.ts';
import { buildTestApp } from '../harness/build-test-app.ts';
import { type CaravanProcess, freePort, spawnCaravan, waitForHttp } from '../harness/spawn-caravan.ts';
import { waitFor } from '../harness/wait-for.ts';

describe('graceful shutdown', () => {
  it('finishes all 50 requests in flight when the app is told to stop', async () => {
    let entered = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = await buildTestApp({
      listen: true,
      extraRoutes: (instance) => {
        instance.get('/test/slow', { config: { access: access.public('test') } }, async () => {
          entered++;
          await released;
          return { done: true };
        });
      },
    });
    const requests = Array.from({ length: 50 }, () =>
      fetch(`${app.baseUrl}/test/slow`).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { done?: boolean },
      })),
    );
    await waitFor(() => entered === 50, { what: '50 requests in flight' });
    const started = Date.now();
    const closing = app.close(); // what the SIGTERM handler calls
    // Once closing has begun the listener is gone: a new request cannot get in.
    await waitFor(() => !app.http.server.listening, { what: 'listener closed' });
    await expect(fetch(`${app.baseUrl}/healthz`, { headers: { connection: 'close' } })).rejects.toThrow();
    release();
    const results = await Promise.all(requests);
    await closing;
    expect(results.filter((result) => result.status === 200 && result.body.done)).toHaveLength(50);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('the caravan CLI as a process', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-cli-'));
  // The embedded database: this is what the data-directory lock protects.
  const env = { DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, SEED_DEMO_DATA: 'false' };
  let server: CaravanProcess | undefined;
  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, refuses a second process on the same DATA_DIR, and exits cleanly on SIGTERM', async () => {
    const port = await freePort();
    server = spawnCaravan(['start'], env, port);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    // Ready follows live once the job runtime is up.
    await waitForHttp(`http://127.0.0.1:${port}/readyz`);

    const second = spawnCaravan(['start'], env, await freePort());
    const secondExit = await second.exited;
    expect(secondExit.code).toBe(1);
    expect(second.stderr()).toMatch(/in use by another Caravan process \(pid \d+\)/);

    // 0: the connection was refused because the listener had already closed (never reached us).
    const inFlight = Array.from({ length: 20 }, () =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (response) => response.status,
        () => 0,
      ),
    );
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    // Each request either completed (200), arrived after the signal and was told to go elsewhere
    // (503 shutting_down), or never got in (0). None failed with anything else.
    for (const status of await Promise.all(inFlight)) expect([0, 200, 503]).toContain(status);

    // The lock went with the process: the next one may open the directory.
    const migrate = spawnCaravan(['migrate'], env);
    expect((await migrate.exited).code).toBe(0);
    expect(migrate.stdout()).toContain('migrations applied: 0');
  }, 90_000);

  it('exits cleanly when SIGTERM arrives while jobs are still starting', async () => {
    const port = await freePort();
    const early = spawnCaravan(
      ['start'],
      { ...env, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-early-')) },
      port,
    );
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    early.child.kill('SIGTERM');
    const exit = await early.exited;
    expect(exit.code, early.stderr()).toBe(0);
  }, 60_000);

  it('lists every bad setting at once and exits 1', async () => {
    const bad = spawnCaravan(['start'], { ...env, PORT: 'abc', LOG_LEVEL: 'loud' });
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr()).toContain('PORT');
    expect(bad.stderr()).toContain('LOG_LEVEL');
  });
});
