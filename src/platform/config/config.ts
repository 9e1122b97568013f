import path from 'node:path';
import type { TSchema } from 'typebox';
import Value from 'typebox/value';
import { type Env, EnvSchema } from './env.schema.ts';

export type LogLevel = Env['LOG_LEVEL'];

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly logLevel: LogLevel;
  readonly server: {
    readonly port: number;
    readonly host: string;
    readonly publicUrl: string;
    readonly corsOrigins: readonly string[];
    readonly bodyLimitBytes: number;
    readonly trustProxy: boolean;
    readonly maxEventLoopDelayMs: number;
    readonly shutdownTimeoutMs: number;
    readonly rateLimit: { readonly max: number; readonly windowMs: number };
  };
  readonly secret: string | undefined;
  readonly dataDir: string;
  readonly database: { readonly url: string | undefined; readonly poolMax: number };
  readonly redis: { readonly url: string | undefined };
  readonly jobs: {
    readonly concurrency: number;
    readonly batchSize: number;
    readonly pollIntervalSeconds: number;
    readonly retryLimit: number;
    readonly retryDelaySeconds: number;
    readonly cronIntervalSeconds: number;
  };
  readonly seedDemoData: boolean;
  readonly realtime: {
    readonly maxMessageBytes: number;
    readonly messagesPerSecond: number;
    readonly maxBufferedBytes: number;
    readonly heartbeatMs: number;
  };
  readonly mail: { readonly smtpUrl: string | undefined; readonly from: string };
  readonly sms: {
    readonly twilio:
      | {
          readonly accountSid: string;
          readonly authToken: string;
          readonly from: string;
          readonly apiBaseUrl: string | undefined;
        }
      | undefined;
  };
  readonly locale: { readonly default: 'en' | 'ko'; readonly displayTimeZone: string };
  readonly storage: {
    readonly driver: 'local' | 's3';
    readonly maxUploadBytes: number;
    readonly urlTtlSeconds: number;
    readonly s3:
      | {
          readonly bucket: string;
          readonly region: string;
          readonly endpoint: string | undefined;
          readonly accessKeyId: string | undefined;
          readonly secretAccessKey: string | undefined;
          readonly forcePathStyle: boolean;
        }
      | undefined;
  };
  readonly telemetry: {
    readonly otlpEndpoint: string | undefined;
    readonly serviceName: string;
    readonly metricsEnabled: boolean;
  };
  readonly auth: {
    /** PKCS#8 PEM of an Ed25519 key; generated into DATA_DIR when unset (single server only). */
    readonly jwtPrivateKey: string | undefined;
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlDays: number;
    readonly argon2: { readonly memoryKib: number; readonly iterations: number };
    readonly login: {
      readonly maxFailures: number;
      readonly ipMaxFailures: number;
      readonly windowSeconds: number;
      readonly lockoutSeconds: number;
    };
    readonly emailResendIntervalSeconds: number;
    readonly google: { readonly clientId: string | undefined; readonly jwksUrl: string };
    readonly turnstile: { readonly secret: string | undefined; readonly verifyUrl: string };
  };
  readonly openai: {
    readonly apiKey: string | undefined;
    readonly baseUrl: string | undefined;
    readonly imageModel: string;
  };
  readonly catalog: {
    /** Serialized public product listings, dropped on every catalog NOTIFY (catalog/read-cache.ts). */
    readonly readCache: {
      readonly enabled: boolean;
      readonly maxAgeSeconds: number;
      readonly maxEntries: number;
      readonly maxBytes: number;
    };
  };
  readonly commerce: {
    /** How long checkout holds stock for an unpaid order. */
    readonly holdMinutes: number;
    /** Unpaid orders older than this are cancelled by the hourly payment-timeout job. */
    readonly paymentGraceHours: number;
    readonly checkoutLockout: {
      readonly maxFailures: number;
      readonly windowSeconds: number;
      readonly lockoutSeconds: number;
    };
    /** Flat shipping per order, minor units by currency, until the shipping module quotes rates. */
    readonly shippingFlatRates: Readonly<Record<string, number>>;
  };
  readonly payments: {
    readonly provider: 'local' | 'stripe' | 'paypal';
    readonly stripe:
      | {
          readonly secretKey: string;
          readonly webhookSecret: string;
          readonly apiBaseUrl: string | undefined;
          readonly mode: 'checkout_session' | 'payment_intent';
          readonly toleranceSeconds: number;
        }
      | undefined;
    readonly paypal:
      | {
          readonly clientId: string;
          readonly clientSecret: string;
          readonly webhookId: string;
          readonly environment: 'sandbox' | 'production';
          readonly apiBaseUrl: string | undefined;
        }
      | undefined;
  };
  readonly currency: { readonly provider: 'local' | 'ecb'; readonly ecbUrl: string };
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type RawEnv = Readonly<Record<string, string | undefined>>;

/** Keeps only our keys and drops empty strings, so `PORT=` in a .env file means "use the default". */
function pickKnownKeys(raw: RawEnv): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = raw[key];
    if (value !== undefined && value.trim() !== '') picked[key] = value.trim();
  }
  return picked;
}

function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  const twilioKeys = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
  const twilioSet = twilioKeys.filter((value) => value !== undefined).length;
  if (twilioSet > 0 && twilioSet < 3) {
    problems.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM: set all three or none');
  }
  if (env.STORAGE_DRIVER === 's3' && !env.S3_BUCKET)
    problems.push('S3_BUCKET: required when STORAGE_DRIVER=s3');
  if (env.NODE_ENV === 'production' && !env.APP_SECRET) {
    problems.push('APP_SECRET: required in production (signs download URLs; share it across instances)');
  }
  if (env.NODE_ENV === 'production' && !env.JWT_PRIVATE_KEY) {
    problems.push('JWT_PRIVATE_KEY: required in production (signs access tokens; share it across instances)');
  }
  if (env.PAYMENT_PROVIDER === 'stripe' && !(env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET)) {
    problems.push('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: required when PAYMENT_PROVIDER=stripe');
  }
  if (
    env.PAYMENT_PROVIDER === 'paypal' &&
    !(env.PAYPAL_CLIENT_ID && env.PAYPAL_CLIENT_SECRET && env.PAYPAL_WEBHOOK_ID)
  ) {
    problems.push(
      'PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID: required when PAYMENT_PROVIDER=paypal',
    );
  }
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// Values of these keys may hold credentials: never echo them in an error.
const SENSITIVE_KEY = /SECRET|TOKEN|ACCESS_KEY|_URL$/;

/** Checked key by key so one bad value cannot hide another. */
function describeProblem(key: string, schema: TSchema, value: unknown): string {
  const got = SENSITIVE_KEY.test(key) ? '' : ` (got ${JSON.stringify(value)})`;
  const options = (schema as { anyOf?: { const?: unknown }[] }).anyOf?.map((member) => member.const);
  if (options?.every((option) => option !== undefined)) return `must be one of ${options.join(', ')}${got}`;
  const [first] = Value.Errors(schema, value);
  return `${first?.message ?? 'is invalid'}${got}`;
}

/** Validates the environment once; every bad key is listed in one error. */
export function loadConfig(raw: RawEnv): Config {
  const converted = Value.Default(EnvSchema, Value.Convert(EnvSchema, pickKnownKeys(raw))) as Record<
    string,
    unknown
  >;
  const schemaProblems = Object.entries(EnvSchema.properties).flatMap(([key, schema]) => {
    const value = converted[key];
    if (value === undefined || Value.Check(schema, value)) return [];
    return [`${key}: ${describeProblem(key, schema, value)}`];
  });
  if (schemaProblems.length > 0) throw new ConfigError(schemaProblems);
  const env = converted as Env;
  const crossProblems = crossFieldProblems(env);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);

  const port = env.PORT;
  const publicUrl = (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  return deepFreeze<Config>({
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    server: {
      port,
      host: env.HOST,
      publicUrl,
      corsOrigins: env.CORS_ORIGINS.split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      trustProxy: env.TRUST_PROXY,
      maxEventLoopDelayMs: env.MAX_EVENT_LOOP_DELAY_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    },
    secret: env.APP_SECRET,
    dataDir: path.resolve(env.DATA_DIR),
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX },
    redis: { url: env.REDIS_URL },
    jobs: {
      concurrency: env.JOBS_CONCURRENCY,
      batchSize: env.JOBS_BATCH_SIZE,
      pollIntervalSeconds: env.JOBS_POLL_INTERVAL_SECONDS,
      retryLimit: env.JOBS_RETRY_LIMIT,
      retryDelaySeconds: env.JOBS_RETRY_DELAY_SECONDS,
      cronIntervalSeconds: env.CRON_INTERVAL_SECONDS,
    },
    seedDemoData: env.SEED_DEMO_DATA,
    realtime: {
      maxMessageBytes: env.WS_MAX_MESSAGE_BYTES,
      messagesPerSecond: env.WS_MESSAGES_PER_SECOND,
      maxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      heartbeatMs: env.WS_HEARTBEAT_MS,
    },
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
    sms: {
      twilio:
        env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.TWILIO_FROM
          ? {
              accountSid: env.TWILIO_ACCOUNT_SID,
              authToken: env.TWILIO_AUTH_TOKEN,
              from: env.TWILIO_FROM,
              apiBaseUrl: env.TWILIO_API_BASE_URL,
            }
          : undefined,
    },
    locale: { default: env.DEFAULT_LOCALE, displayTimeZone: env.DISPLAY_TIME_ZONE },
    storage: {
      driver: env.STORAGE_DRIVER,
      maxUploadBytes: env.STORAGE_MAX_UPLOAD_BYTES,
      urlTtlSeconds: env.STORAGE_URL_TTL_SECONDS,
      s3: env.S3_BUCKET
        ? {
            bucket: env.S3_BUCKET,
            region: env.S3_REGION,
            endpoint: env.S3_ENDPOINT,
            accessKeyId: env.S3_ACCESS_KEY_ID,
            secretAccessKey: env.S3_SECRET_ACCESS_KEY,
            forcePathStyle: env.S3_FORCE_PATH_STYLE,
          }
        : undefined,
    },
    telemetry: {
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
      metricsEnabled: env.METRICS_ENABLED,
    },
    auth: {
      jwtPrivateKey: env.JWT_PRIVATE_KEY?.replaceAll('\\n', '\n'),
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
      argon2: { memoryKib: env.ARGON2_MEMORY_KIB, iterations: env.ARGON2_ITERATIONS },
      login: {
        maxFailures: env.LOGIN_MAX_FAILURES,
        ipMaxFailures: env.LOGIN_IP_MAX_FAILURES,
        windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
        lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS,
      },
      emailResendIntervalSeconds: env.EMAIL_RESEND_INTERVAL_SECONDS,
      google: { clientId: env.GOOGLE_CLIENT_ID, jwksUrl: env.GOOGLE_JWKS_URL },
      turnstile: { secret: env.TURNSTILE_SECRET, verifyUrl: env.TURNSTILE_VERIFY_URL },
    },
    openai: { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL, imageModel: env.OPENAI_IMAGE_MODEL },
    catalog: {
      readCache: {
        enabled: env.CATALOG_CACHE_ENABLED,
        maxAgeSeconds: env.CATALOG_CACHE_MAX_AGE_SECONDS,
        maxEntries: env.CATALOG_CACHE_MAX_ENTRIES,
        maxBytes: env.CATALOG_CACHE_MAX_BYTES,
      },
    },
    commerce: {
      holdMinutes: env.CHECKOUT_HOLD_MINUTES,
      paymentGraceHours: env.ORDER_PAYMENT_GRACE_HOURS,
      checkoutLockout: {
        maxFailures: env.CHECKOUT_MAX_PAYMENT_FAILURES,
        windowSeconds: env.CHECKOUT_FAILURE_WINDOW_SECONDS,
        lockoutSeconds: env.CHECKOUT_LOCKOUT_SECONDS,
      },
      shippingFlatRates: parseFlatRates(env.SHIPPING_FLAT_RATES),
    },
    payments: {
      provider: env.PAYMENT_PROVIDER,
      stripe:
        env.STRIPE_SECRET_KEY && env.STRIPE_WEBHOOK_SECRET
          ? {
              secretKey: env.STRIPE_SECRET_KEY,
              webhookSecret: env.STRIPE_WEBHOOK_SECRET,
              apiBaseUrl: env.STRIPE_API_BASE_URL,
              mode: env.STRIPE_CHECKOUT_MODE,
              toleranceSeconds: env.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
            }
          : undefined,
      paypal:
        env.PAYPAL_CLIENT_ID && env.PAYPAL_CLIENT_SECRET && env.PAYPAL_WEBHOOK_ID
          ? {
              clientId: env.PAYPAL_CLIENT_ID,
              clientSecret: env.PAYPAL_CLIENT_SECRET,
              webhookId: env.PAYPAL_WEBHOOK_ID,
              environment: env.PAYPAL_ENVIRONMENT,
              apiBaseUrl: env.PAYPAL_API_BASE_URL,
            }
          : undefined,
    },
    currency: { provider: env.EXCHANGE_RATES_PROVIDER, ecbUrl: env.ECB_RATES_URL },
  });
}

/** `USD:500,KRW:4000` → { USD: 500, KRW: 4000 } (minor units per order). */
function parseFlatRates(value: string): Readonly<Record<string, number>> {
  return Object.fromEntries(
    value.split(',').map((pair) => {
      const [currency, amount] = pair.split(':');
      return [currency, Number(amount)];
    }),
  );
}

/** The one place that reads process.env. */
export function loadConfigFromProcess(overrides: RawEnv = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}
