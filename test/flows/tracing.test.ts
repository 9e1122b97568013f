import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOtlpCollector, startFakeOtlpCollector } from '../fakes/otlp-collector.ts';
import { freePort, spawnCaravan, waitForHttp } from '../harness/spawn-caravan.ts';

describe('OpenTelemetry export', () => {
  let collector: FakeOtlpCollector;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-otel-'));
  beforeAll(async () => {
    collector = await startFakeOtlpCollector();
  });
  afterAll(async () => {
    await collector?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('exports HTTP and database spans over OTLP/HTTP when an endpoint is set', async () => {
    const port = await freePort();
    const server = spawnCaravan(
      ['start'],
      {
        DATA_DIR: dataDir,
        // Embedded: a spawned server must not migrate the shared PostgreSQL admin database.
        DATABASE_URL: undefined,
        REDIS_URL: undefined,
        SEED_DEMO_DATA: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: 'caravan-test',
      },
      port,
    );
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      server.child.kill('SIGTERM'); // shutdown flushes the span batch
      const exit = await server.exited;
      expect(exit.code, server.stderr() + server.stdout()).toBe(0);
    }
    expect(collector.spans.length).toBeGreaterThan(0);
    expect(collector.spans.every((span) => span.serviceName === 'caravan-test')).toBe(true);
    const http = collector.spans.find((span) => span.attributes['http.route'] === '/readyz');
    expect(http).toBeDefined();
    const database = collector.spans.find((span) => typeof span.attributes['db.system.name'] === 'string');
    expect(database?.attributes['db.query.text']).toBeTypeOf('string');
  }, 60_000);
});
