import Type from 'typebox';
import type { PlatformServices } from '../services.ts';
import { access } from './access.ts';
import type { AppInstance } from './http-app.ts';

const CheckResult = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail'), Type.Literal('skipped')]),
  latencyMs: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String()),
});

const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  checks: Type.Object({ database: CheckResult, redis: CheckResult, jobs: CheckResult }),
});

async function timed(
  check: () => Promise<void>,
): Promise<{ status: 'ok' | 'fail'; latencyMs: number; error?: string }> {
  const started = performance.now();
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('timed out after 2000 ms')), 2000).unref(),
      ),
    ]);
    return { status: 'ok', latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { status: 'fail', latencyMs: Math.round(performance.now() - started), error: String(error) };
  }
}

/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
export function registerOpsRoutes(app: AppInstance, services: PlatformServices): void {
  app.get(
    '/healthz',
    {
      config: { access: access.public('liveness probe') },
      schema: {
        tags: ['ops'],
        summary: 'The process is alive',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: access.public('readiness probe') },
      schema: {
        tags: ['ops'],
        summary: 'The database, Redis (when configured) and the job queue answer',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [database, redis] = await Promise.all([
        timed(() => services.database.ping()),
        services.redis
          ? timed(async () => void (await services.redis?.ping()))
          : Promise.resolve({ status: 'skipped' as const }),
      ]);
      const jobs = services.jobs.isRunning()
        ? { status: 'ok' as const }
        : { status: 'fail' as const, error: 'job queue not started' };
      const ok = database.status === 'ok' && redis.status !== 'fail' && jobs.status === 'ok';
      return reply
        .status(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'fail', checks: { database, redis, jobs } });
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: access.public('Prometheus scrape; restrict at the network edge') },
      schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: true },
    },
    async (_request, reply) => {
      const body = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(body);
    },
  );

  app.get(
    '/openapi.json',
    {
      config: { access: access.public('API description') },
      schema: { tags: ['ops'], summary: 'OpenAPI 3.1 document', hide: true },
    },
    async () => app.swagger(),
  );
}
