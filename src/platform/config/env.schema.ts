import Type, { type Static } from 'typebox';

/**
 * Every setting Caravan reads, in one place. `.env.example` documents the same keys; a test keeps
 * the two in step. Values arrive as strings and are converted (numbers, booleans) before checking.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info' },
  ),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  PUBLIC_URL: Type.Optional(Type.String({ format: 'uri' })),
  DATA_DIR: Type.String({ minLength: 1, default: './.data' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  APP_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  CORS_ORIGINS: Type.String({ default: '' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 300 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  TRUST_PROXY: Type.Boolean({ default: false }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 60_000, default: 9000 }),
  JOBS_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 4 }),
  JOBS_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
  JOBS_POLL_INTERVAL_SECONDS: Type.Number({ minimum: 0.5, default: 2 }),
  JOBS_RETRY_LIMIT: Type.Integer({ minimum: 0, maximum: 100, default: 5 }),
  JOBS_RETRY_DELAY_SECONDS: Type.Integer({ minimum: 1, default: 5 }),
  CRON_INTERVAL_SECONDS: Type.Integer({ minimum: 1, maximum: 60, default: 30 }),
  SEED_DEMO_DATA: Type.Boolean({ default: true }),
  WS_MAX_MESSAGE_BYTES: Type.Integer({ minimum: 128, default: 65_536 }),
  WS_MESSAGES_PER_SECOND: Type.Integer({ minimum: 1, default: 20 }),
  WS_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  WS_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ default: 'Caravan <no-reply@caravan.local>' }),
  TWILIO_ACCOUNT_SID: Type.Optional(Type.String({ minLength: 1 })),
  TWILIO_AUTH_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  TWILIO_FROM: Type.Optional(Type.String({ minLength: 1 })),
  TWILIO_API_BASE_URL: Type.Optional(Type.String({ format: 'uri' })),
  DEFAULT_LOCALE: Type.Union([Type.Literal('en'), Type.Literal('ko')], { default: 'en' }),
  DISPLAY_TIME_ZONE: Type.String({ default: 'UTC' }),
  STORAGE_DRIVER: Type.Union([Type.Literal('local'), Type.Literal('s3')], { default: 'local' }),
  STORAGE_MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1, default: 52_428_800 }),
  STORAGE_URL_TTL_SECONDS: Type.Integer({ minimum: 10, default: 900 }),
  S3_BUCKET: Type.Optional(Type.String({ minLength: 1 })),
  S3_REGION: Type.String({ default: 'us-east-1' }),
  S3_ENDPOINT: Type.Optional(Type.String({ format: 'uri' })),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1 })),
  S3_FORCE_PATH_STYLE: Type.Boolean({ default: false }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(Type.String({ format: 'uri' })),
  OTEL_SERVICE_NAME: Type.String({ default: 'caravan' }),
  METRICS_ENABLED: Type.Boolean({ default: true }),
});

export type Env = Static<typeof EnvSchema>;
