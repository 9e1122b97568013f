import client from 'prom-client';

/**
 * One Prometheus registry per app instance (tests build several apps in one process, so nothing
 * here is global). Platform parts record into these; modules may add their own with `registry`.
 */
export interface Metrics {
  readonly registry: client.Registry;
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  readonly httpInFlight: client.Gauge;
  readonly jobsProcessed: client.Counter<'queue' | 'outcome'>;
  readonly jobDuration: client.Histogram<'queue'>;
  readonly wsConnections: client.Gauge;
  readonly wsMessages: client.Counter<'direction'>;
  readonly wsClosed: client.Counter<'code'>;
}

export function createMetrics(options: { collectDefaults?: boolean } = {}): Metrics {
  const registry = new client.Registry();
  if (options.collectDefaults ?? true)
    client.collectDefaultMetrics({ register: registry, prefix: 'caravan_' });
  return {
    registry,
    httpDuration: new client.Histogram({
      name: 'caravan_http_request_duration_seconds',
      help: 'HTTP request latency by route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    httpInFlight: new client.Gauge({
      name: 'caravan_http_requests_in_flight',
      help: 'HTTP requests being handled right now',
      registers: [registry],
    }),
    jobsProcessed: new client.Counter({
      name: 'caravan_jobs_processed_total',
      help: 'Jobs handled by queue and outcome (completed, failed, skipped, invalid)',
      labelNames: ['queue', 'outcome'],
      registers: [registry],
    }),
    jobDuration: new client.Histogram({
      name: 'caravan_job_duration_seconds',
      help: 'Time spent in job handlers by queue',
      labelNames: ['queue'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    wsConnections: new client.Gauge({
      name: 'caravan_ws_connections',
      help: 'Open WebSocket connections on this instance',
      registers: [registry],
    }),
    wsMessages: new client.Counter({
      name: 'caravan_ws_messages_total',
      help: 'WebSocket messages by direction (in, out)',
      labelNames: ['direction'],
      registers: [registry],
    }),
    wsClosed: new client.Counter({
      name: 'caravan_ws_closed_total',
      help: 'WebSocket connections closed, by close code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}

/** Database pool gauges read on scrape, so they cost nothing between scrapes. */
export function registerPoolMetrics(
  metrics: Metrics,
  readStats: () => { total: number; idle: number; waiting: number },
): void {
  new client.Gauge({
    name: 'caravan_db_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting clients)',
    labelNames: ['state'],
    registers: [metrics.registry],
    collect() {
      const stats = readStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
}
