import { FastifyOtelInstrumentation } from '@fastify/otel';
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Config } from '../config/config.ts';

export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry only when OTEL_EXPORTER_OTLP_ENDPOINT is set: HTTP spans from @fastify/otel
 * (registered on every Fastify instance created afterwards), job spans from pg-boss's own
 * instrumentation, database spans from `traced` below. Without an endpoint every span is a no-op.
 */
export async function startTracing(telemetry: Config['telemetry']): Promise<Tracing> {
  if (!telemetry.otlpEndpoint) return { enabled: false, shutdown: async () => {} };
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const sdk = new NodeSDK({
    serviceName: telemetry.serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${telemetry.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: [new FastifyOtelInstrumentation({ registerOnInitialization: true })],
  });
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}

const tracer = trace.getTracer('caravan');

/** Wraps a database call in a client span named after the statement's first word. */
export async function traced<T>(system: string, statement: string, run: () => Promise<T>): Promise<T> {
  const operation = statement.trimStart().split(/\s/, 1)[0]?.toUpperCase() ?? 'QUERY';
  return tracer.startActiveSpan(
    `${system} ${operation}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': system, 'db.query.text': statement.slice(0, 2000) },
    },
    async (span: Span) => {
      try {
        return await run();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
