import type {
  OrderRequest,
  OrdersController,
  PaymentsController,
  PaypalExperienceUserAction,
} from '@paypal/paypal-server-sdk';
import type { Clock } from '../../../platform/clock/clock.ts';
import type { Config } from '../../../platform/config/config.ts';
import { AppError, isAppError } from '../../../platform/errors/index.ts';
import { minorToDecimalString } from '../../../platform/money/money.ts';
// For its registerErrorCodes: the codes thrown here map to their HTTP statuses.
import './payment-provider.port.ts';
import type { CreatePaymentInput, PaymentProvider, ProviderEvent } from './payment-provider.port.ts';
import { mapPayPalEvent } from './paypal-events.ts';
import { createPayPalRest } from './paypal-rest.ts';
import { createPayPalWebhookVerifier, type FetchPayPalCertificate } from './paypal-webhook-verify.ts';

export type PayPalConfig = NonNullable<Config['payments']['paypal']>;

const API_BASE_URLS = {
  sandbox: 'https://api-m.sandbox.paypal.com',
  production: 'https://api-m.paypal.com',
} as const;
const TIMEOUT_MS = 15_000;
// PayPal's field limits (Orders v2): longer values are refused, not truncated.
const NAME_LIMIT = 127;
const NOTE_LIMIT = 255;
// PayPal documents no maximum page size for the webhooks-events list; stay modest.
const EVENTS_PAGE_SIZE = 100;
const WEBHOOK_EVENTS_PATH = '/v1/notifications/webhooks-events';

/**
 * The PayPal adapter: Orders v2 with intent CAPTURE through the official SDK, webhooks verified
 * offline (paypal-webhook-verify.ts), the webhooks-events list (absent from the SDK) over fetch.
 * The SDK is imported here, lazily, so a server without PayPal keys never loads it.
 */
export async function createPayPalProvider(options: {
  readonly config: PayPalConfig;
  readonly clock: Clock;
  /** Resolves relative return/cancel URLs. */
  readonly publicUrl: string;
  /** Tests and special deployments only; defaults to an https fetch with redirects refused. */
  readonly fetchCertificate?: FetchPayPalCertificate;
}): Promise<PaymentProvider> {
  const { config, clock, publicUrl } = options;
  const sdk = await import('@paypal/paypal-server-sdk');
  const rest = createPayPalRest({
    baseUrl: config.apiBaseUrl ?? API_BASE_URLS[config.environment],
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    clock,
  });
  const verifier = createPayPalWebhookVerifier({
    webhookId: config.webhookId,
    apiBaseUrl: config.apiBaseUrl,
    clock,
    fetchCertificate: options.fetchCertificate,
  });

  const client = new sdk.Client({
    environment: config.environment === 'production' ? sdk.Environment.Production : sdk.Environment.Sandbox,
    timeout: TIMEOUT_MS,
    // The SDK's own token refresh keeps a failed token request as its token for good (every later
    // call rethrows it, measured with one 503 from the token endpoint), and judges expiry by
    // Date.now(). So it gets a placeholder it never refreshes, and the interceptor below puts our
    // token (one cache for SDK and fetch calls, retried after a failure) on every request.
    clientCredentialsAuthCredentials: {
      oAuthClientId: '',
      oAuthClientSecret: '',
      oAuthToken: { accessToken: 'set-per-request', tokenType: 'Bearer' },
    },
  });
  const baseFactory = client.getRequestBuilderFactory();
  const routedClient: ConstructorParameters<typeof OrdersController>[0] = {
    getRequestBuilderFactory: () => (method, path) => {
      const builder = baseFactory(method, path);
      // Added last, so it runs innermost: right before the request leaves.
      builder.intercept(async (request, requestOptions, next) => {
        // The SDK knows only PayPal's two hosts; PAYPAL_API_BASE_URL (a fake in tests) re-points
        // every request it builds. Same paths, bodies and headers.
        const url = config.apiBaseUrl ? rebase(request.url, rest.baseUrl) : request.url;
        const send = (accessToken: string) => {
          const headers = Object.fromEntries(
            Object.entries(request.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'authorization'),
          );
          headers.Authorization = `Bearer ${accessToken}`;
          return next({ ...request, url, headers }, requestOptions);
        };
        const token = await rest.accessToken();
        const context = await send(token.accessToken);
        if (context.response.statusCode !== 401) return context;
        // A token PayPal no longer takes (revoked, expired early): one retry with a fresh one. Safe
        // for POSTs too: they carry PayPal-Request-Id.
        rest.forget(token.accessToken);
        const fresh = await rest.accessToken();
        return fresh.accessToken === token.accessToken ? context : send(fresh.accessToken);
      });
      return builder;
    },
  };
  const orders: OrdersController = new sdk.OrdersController(routedClient);
  const payments: PaymentsController = new sdk.PaymentsController(routedClient);

  async function captureIdOf(orderId: string): Promise<string> {
    const { result } = await orders.getOrder({ id: orderId });
    const captureId = result.purchaseUnits?.[0]?.payments?.captures?.[0]?.id;
    if (!captureId) {
      throw new AppError('payment_provider_error', 'PayPal order has no capture to refund', {
        details: { operation: 'refund', orderId, orderStatus: result.status ?? null },
      });
    }
    return captureId;
  }

  return {
    name: 'paypal',

    async createPayment(input) {
      const body = orderRequest(input, {
        intent: sdk.CheckoutPaymentIntent.Capture,
        userAction: sdk.PaypalExperienceUserAction.PayNow,
        publicUrl,
      });
      const { result } = await sdkCall('create_order', sdk.ApiError, () =>
        orders.createOrder({ body, paypalRequestId: input.idempotencyKey, prefer: 'return=representation' }),
      );
      const redirect = result.links?.find((link) => link.rel === 'payer-action' || link.rel === 'approve');
      if (!result.id || !redirect) {
        throw new AppError('payment_provider_error', 'PayPal created an order without an approval link', {
          details: { operation: 'create_order', orderId: result.id ?? null },
        });
      }
      return { providerRef: result.id, redirectUrl: redirect.href, clientSecret: null };
    },

    async capturePayment({ providerRef, idempotencyKey }) {
      try {
        await sdkCall('capture_order', sdk.ApiError, () =>
          orders.captureOrder({ id: providerRef, paypalRequestId: idempotencyKey, prefer: 'return=minimal' }),
        );
      } catch (error) {
        // A capture that already happened (lost response, second worker) is the outcome we wanted;
        // its PAYMENT.CAPTURE.COMPLETED event carries the facts.
        if (isAppError(error) && error.details?.issue === 'ORDER_ALREADY_CAPTURED') return;
        throw error;
      }
    },

    async refund(input) {
      const currency = input.currency.toUpperCase();
      const captureId =
        input.secondaryRef ??
        (await sdkCall('get_order', sdk.ApiError, () => captureIdOf(input.providerRef)));
      const { result } = await sdkCall('refund', sdk.ApiError, () =>
        payments.refundCapturedPayment({
          captureId,
          paypalRequestId: input.idempotencyKey,
          prefer: 'return=representation',
          body: {
            amount: { currencyCode: currency, value: minorToDecimalString(input.amountMinor, currency) },
            // Not custom_id: PayPal's refund events echo custom_id, and there it must stay our payment id.
            invoiceId: `refund-${input.refundId}`,
            ...(input.reason ? { noteToPayer: input.reason.slice(0, NOTE_LIMIT) } : {}),
          },
        }),
      );
      if (!result.id) {
        throw new AppError('payment_provider_error', 'PayPal refund answered without an id', {
          details: { operation: 'refund', captureId },
        });
      }
      const status =
        result.status === 'COMPLETED' ? 'succeeded' : result.status === 'PENDING' ? 'pending' : 'failed';
      return { refundRef: result.id, status };
    },

    /*
     * Nothing to call. With intent CAPTURE no money moves until *we* capture: an order the buyer never
     * approved expires on its own (PayPal voids it), and Orders v2 has no "void" for an order — the
     * void endpoint exists only for authorizations (intent AUTHORIZE). An APPROVED-but-uncaptured
     * order is no different: the approval lapses unless captured, and the payments core never
     * captures a payment it has canceled. So compensation is "do not capture", which cannot fail.
     */
    async cancelPayment() {},

    async verifyWebhook(request) {
      const event = await verifier.verify(request);
      const mapped = mapPayPalEvent(event);
      if (!mapped) {
        throw new AppError('webhook_signature_invalid', 'PayPal webhook rejected: not an event', {
          details: { reason: 'not an event' },
        });
      }
      return mapped;
    },

    async listEvents({ since, limit }) {
      const query = new URLSearchParams({
        start_time: since.toISOString(),
        page_size: String(Math.min(Math.max(limit, 1), EVENTS_PAGE_SIZE)),
      });
      // PayPal lists newest first: read every page (bounded), then hand back the oldest `limit`, so a
      // reconciliation run that cannot take everything still advances from the oldest gap.
      const maxScanned = Math.max(limit, 1) * 10;
      const mapped: ProviderEvent[] = [];
      let next: string | null = `${WEBHOOK_EVENTS_PATH}?${query}`;
      let scanned = 0;
      while (next && scanned < maxScanned) {
        const page = await rest.getJson(next, 'list_webhook_events');
        const events = Array.isArray(page.events) ? page.events : [];
        for (const raw of events) {
          scanned++;
          if (typeof raw !== 'object' || raw === null) continue;
          const event = mapPayPalEvent(raw as Record<string, unknown>);
          if (event && event.occurredAt.getTime() >= since.getTime()) mapped.push(event);
        }
        next = events.length > 0 ? nextLink(page.links) : null;
      }
      const unique = new Map(mapped.map((event) => [event.eventId, event]));
      return [...unique.values()]
        .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime())
        .slice(0, limit);
    },
  };
}

function orderRequest(
  input: CreatePaymentInput,
  options: {
    intent: OrderRequest['intent'];
    userAction: PaypalExperienceUserAction;
    publicUrl: string;
  },
): OrderRequest {
  const currency = input.currency.toUpperCase();
  const money = (minor: number) => ({ currencyCode: currency, value: minorToDecimalString(minor, currency) });
  const itemTotal = input.lines.reduce((sum, line) => sum + line.unitPriceMinor * line.quantity, 0);
  // PayPal checks amount = item_total + shipping + handling + tax − discount; whatever the order adds
  // on top of its lines (shipping, fees) goes in as shipping, a reduction as discount.
  const rest = input.amountMinor - itemTotal;
  const breakdown =
    input.lines.length === 0
      ? undefined
      : {
          itemTotal: money(itemTotal),
          ...(rest > 0 ? { shipping: money(rest) } : {}),
          ...(rest < 0 ? { discount: money(-rest) } : {}),
        };
  return {
    intent: options.intent,
    purchaseUnits: [
      {
        referenceId: input.orderId,
        customId: input.paymentId,
        invoiceId: `order-${input.orderNumber}-${input.paymentId.slice(0, 8)}`,
        ...(input.description ? { description: input.description.slice(0, NAME_LIMIT) } : {}),
        amount: { ...money(input.amountMinor), ...(breakdown ? { breakdown } : {}) },
        ...(breakdown
          ? {
              items: input.lines.map((line) => ({
                name: line.title.slice(0, NAME_LIMIT),
                quantity: String(line.quantity),
                unitAmount: money(line.unitPriceMinor),
              })),
            }
          : {}),
      },
    ],
    paymentSource: {
      paypal: {
        experienceContext: {
          returnUrl: new URL(input.returnUrl, options.publicUrl).href,
          cancelUrl: new URL(input.cancelUrl, options.publicUrl).href,
          userAction: options.userAction,
        },
      },
    },
  };
}

/**
 * Runs an SDK call and turns its failures into `payment_provider_error` carrying PayPal's error
 * name, first issue and debug_id (what PayPal support asks for). Neither the SDK error nor the
 * request it holds is attached: the request carries the bearer token.
 */
async function sdkCall<T>(
  operation: string,
  apiError: abstract new (...args: never[]) => Error,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAppError(error)) throw error;
    if (error instanceof apiError) {
      const failure = error as Error & { statusCode?: number; result?: unknown; body?: unknown };
      const result = parsedBody(failure.result ?? failure.body);
      const details = Array.isArray(result.details) ? result.details : [];
      const first = (details[0] ?? {}) as Record<string, unknown>;
      const name = stringOrNull(result.name) ?? stringOrNull(result.error);
      const issue = stringOrNull(first.issue);
      throw new AppError(
        'payment_provider_error',
        `PayPal ${operation} failed: ${issue ?? name ?? failure.statusCode}`,
        {
          details: {
            operation,
            status: failure.statusCode ?? null,
            name,
            issue,
            description: stringOrNull(first.description) ?? stringOrNull(result.message),
            debugId: stringOrNull(result.debug_id),
          },
        },
      );
    }
    // Network failures, timeouts, and answers the SDK could not read (it validates every response).
    throw new AppError('payment_provider_error', `PayPal ${operation} failed: no usable answer`, {
      details: { operation, reason: error instanceof Error ? error.message : String(error) },
    });
  }
}

function parsedBody(value: unknown): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = null;
    }
  }
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function rebase(url: string, baseUrl: string): string {
  const target = new URL(url);
  return `${baseUrl}${target.pathname}${target.search}`;
}

/**
 * The "next" link's path and query, to be resolved against our configured base URL: PayPal's
 * HATEOAS links may name another of its hosts (api.paypal.com for api-m.paypal.com), and the
 * bearer token is never sent anywhere a response points to.
 */
function nextLink(value: unknown): string | null {
  if (!Array.isArray(value)) return null;
  for (const link of value) {
    if (typeof link !== 'object' || link === null || (link as { rel?: unknown }).rel !== 'next') continue;
    const href = (link as { href?: unknown }).href;
    if (typeof href !== 'string' || !href) continue;
    const url = new URL(href, 'https://api-m.paypal.com');
    if (url.pathname === WEBHOOK_EVENTS_PATH) return `${url.pathname}${url.search}`;
  }
  return null;
}
