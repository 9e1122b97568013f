import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifySchema } from 'fastify';
import { AppError } from '../errors/index.ts';
import { loggerOptions } from '../observability/logger.ts';
import { realtimeWebsocketOptions } from '../realtime/index.ts';
import type { PlatformServices } from '../services.ts';
import { access, describeAccess, requireAccess } from './access.ts';
import { installErrorHandling } from './error-handler.ts';
import { registerOpsRoutes } from './ops.routes.ts';

export type AppInstance = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Routes that plugins add for us and whose access is public by nature. */
function pluginRouteReason(method: string, url: string): string | undefined {
  if (url.startsWith('/docs')) return 'API documentation';
  if (method === 'OPTIONS' && url === '*') return 'CORS preflight';
  return undefined;
}

export interface HttpAppOptions {
  readonly services: PlatformServices;
  /** Registers the modules' routes; runs after the platform plugins. */
  readonly registerRoutes: (app: AppInstance) => Promise<void>;
}

/**
 * Boot fails on a route without an access rule (Ghost's rule): forgetting one must not silently
 * publish an endpoint.
 */
function enforceAccessRules(app: AppInstance): void {
  const missing: string[] = [];
  app.addHook('onRoute', (route) => {
    if (route.config?.access) return;
    const url = route.url ?? route.path ?? '';
    const methods = Array.isArray(route.method) ? route.method.join(',') : route.method;
    const reason = pluginRouteReason(methods, url);
    if (reason) route.config = { ...route.config, access: access.public(reason) };
    else missing.push(`${methods} ${url}`);
  });
  app.addHook('onReady', async () => {
    if (missing.length > 0) {
      throw new Error(
        `Routes without an access rule (config.access), refusing to boot: ${missing.join('; ')}`,
      );
    }
  });
}

/**
 * Once close begins, a request that arrives on a kept-alive connection gets 503 `shutting_down`
 * (the load balancer retries it elsewhere) while requests already in flight finish normally.
 * Fastify closes keep-alive connections that are idle when close begins, but one whose request is
 * still in flight becomes idle later and would hold the server open for the whole keep-alive
 * timeout; answering with `Connection: close` lets it go at once.
 */
function drainKeepAliveOnClose(app: AppInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) {
      throw new AppError('shutting_down', 'The server is shutting down; retry', {
        headers: { connection: 'close', 'retry-after': '1' },
      });
    }
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
}

function documentAccess(
  schema: FastifySchema,
  rule: ReturnType<typeof access.public> | undefined,
): FastifySchema {
  if (!rule) return schema;
  const note = `Access: ${describeAccess(rule)}.`;
  const description = (schema as { description?: string }).description;
  return {
    ...schema,
    description: description ? `${description}\n\n${note}` : note,
    ...(rule.kind === 'public' ? {} : { security: [{ bearerAuth: [] }] }),
  } as FastifySchema;
}

export async function buildHttpApp(options: HttpAppOptions): Promise<AppInstance> {
  const { services } = options;
  const { config, metrics } = services;
  const app = Fastify({
    logger: loggerOptions(config.logLevel),
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    // Off: Fastify would otherwise trust any incoming header as is; genReqId validates it first.
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: {
      customOptions: { allErrors: true, removeAdditional: true, coerceTypes: 'array', useDefaults: true },
    },
    forceCloseConnections: 'idle',
    // Our own onRequest hook answers 503 shutting_down in the API's error shape instead.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as AppInstance;

  enforceAccessRules(app);
  installErrorHandling(app);
  drainKeepAliveOnClose(app);
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      request.principal = await services.auth.verifier.verify(header.slice('Bearer '.length).trim());
      if (!request.principal) throw new AppError('unauthenticated', 'The access token is invalid or expired');
    }
    requireAccess(request, reply);
  });

  if (config.telemetry.metricsEnabled) {
    app.addHook('onRequest', async (request) => {
      metrics.httpInFlight.inc();
      (request as { startedAt?: bigint }).startedAt = process.hrtime.bigint();
    });
    app.addHook('onResponse', async (request, reply) => {
      metrics.httpInFlight.dec();
      const startedAt = (request as { startedAt?: bigint }).startedAt;
      if (startedAt === undefined) return;
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.httpDuration.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        seconds,
      );
    });
  }

  await app.register(helmet, { global: true });
  await app.register(cors, {
    origin: config.server.corsOrigins.length > 0 ? [...config.server.corsOrigins] : false,
    credentials: true,
  });
  const rateLimitRedis = services.redis;
  await app.register(rateLimit, {
    max: config.server.rateLimit.max,
    timeWindow: config.server.rateLimit.windowMs,
    ...(rateLimitRedis ? { redis: rateLimitRedis, nameSpace: 'caravan:ratelimit:' } : {}),
    // Probes and scrapes must never be throttled.
    allowList: (request) => ['/healthz', '/readyz', '/metrics'].includes(request.url.split('?')[0] ?? ''),
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `Too many requests; retry after ${context.after}`, {
        details: { retryAfterMs: context.ttl },
      }),
  });
  await app.register(underPressure, {
    maxEventLoopDelay: config.server.maxEventLoopDelayMs,
    exposeStatusRoute: false,
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Caravan API',
        version: '0.1.0',
        description: 'Marketplace backend: every route states its access rule in its description.',
      },
      servers: [{ url: config.server.publicUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: ({ schema, url, route }) => ({
      schema: documentAccess(schema ?? {}, route.config?.access),
      url,
    }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await app.register(websocket, realtimeWebsocketOptions(config.realtime));

  registerOpsRoutes(app, services);
  await options.registerRoutes(app);
  return app;
}
