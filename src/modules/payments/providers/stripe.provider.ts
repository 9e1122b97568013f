import type Stripe from 'stripe';
import type { Clock } from '../../../platform/clock/clock.ts';
import type { Config } from '../../../platform/config/config.ts';
import { AppError } from '../../../platform/errors/index.ts';
// Loaded for its side effect as well as its types: it registers the error codes thrown here.
import './payment-provider.port.ts';
import type {
  CreatedPayment,
  CreatePaymentInput,
  PaymentProvider,
  ProviderEvent,
  RefundResult,
  WebhookRequest,
} from './payment-provider.port.ts';
import { toStripeAmount } from './stripe-amounts.ts';
import { mapStripeEvent, STRIPE_EVENT_TYPES } from './stripe-events.ts';

export interface StripeProviderOptions {
  readonly config: NonNullable<Config['payments']['stripe']>;
  readonly clock: Clock;
  /** Resolves relative return / cancel URLs. */
  readonly publicUrl: string;
}

/** A signature timestamp further ahead of our clock than this is refused (clock skew allowance). */
const MAX_FUTURE_SKEW_SECONDS = 30;
// Checkout allows at most 100 line items in payment mode.
const MAX_LINE_ITEMS = 100;
const STRIPE_REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

/**
 * Stripe behind the payment port: Checkout Sessions (hosted page) or PaymentIntents (client-side
 * confirmation), signed webhooks, refunds, and the events read-back for reconciliation.
 * The SDK is imported here, on first use, so a server without Stripe configured never loads it.
 */
export async function createStripeProvider(options: StripeProviderOptions): Promise<PaymentProvider> {
  const { config, clock } = options;
  const { default: StripeSdk } = await import('stripe');
  const stripe = new StripeSdk(config.secretKey, {
    ...endpoint(config.apiBaseUrl),
    // Every POST carries our idempotency key, so the SDK's retries (409, 5xx, network) are safe;
    // longer outages are the caller's job retries.
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'Caravan' },
  });

  return {
    name: 'stripe',

    async createPayment(input) {
      try {
        return config.mode === 'payment_intent'
          ? await createPaymentIntent(stripe, input)
          : await createCheckoutSession(stripe, input, options.publicUrl);
      } catch (error) {
        throw providerError('could not create the payment', error);
      }
    },

    async verifyWebhook(request: WebhookRequest): Promise<ProviderEvent> {
      const header = headerValue(request.headers, 'stripe-signature');
      if (!header) throw signatureInvalid('the stripe-signature header is missing');
      const timestamp = signedTimestamp(header);
      if (timestamp === null) throw signatureInvalid('the stripe-signature header has no single timestamp');
      const receivedAt = clock.now().getTime();
      // The SDK only bounds the age; a timestamp from the future means a wrong clock or a forgery.
      if (timestamp - Math.floor(receivedAt / 1000) > MAX_FUTURE_SKEW_SECONDS) {
        throw signatureInvalid('the signature timestamp is in the future');
      }
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(
          request.rawBody,
          header,
          config.webhookSecret,
          config.toleranceSeconds,
          undefined,
          receivedAt,
        );
      } catch (error) {
        // SignatureVerificationError (bad signature, stale timestamp) or a body that is not JSON.
        throw signatureInvalid(`the signature does not verify: ${messageOf(error)}`);
      }
      if (!isEventEnvelope(event)) throw signatureInvalid('the body is not a Stripe event');
      return mapStripeEvent(event);
    },

    async refund(input): Promise<RefundResult> {
      try {
        const paymentIntent = await paymentIntentOf(stripe, input.providerRef, input.secondaryRef);
        const knownReason = input.reason !== null && STRIPE_REFUND_REASONS.has(input.reason);
        const refund = await stripe.refunds.create(
          {
            payment_intent: paymentIntent,
            amount: toStripeAmount(input.amountMinor, input.currency),
            metadata: {
              refund_id: input.refundId,
              ...(input.reason && !knownReason ? { reason: input.reason.slice(0, 500) } : {}),
            },
            ...(knownReason ? { reason: input.reason as Stripe.RefundCreateParams.Reason } : {}),
          },
          { idempotencyKey: input.idempotencyKey },
        );
        return { refundRef: refund.id, status: refundStatus(refund.status) };
      } catch (error) {
        throw providerError('could not refund the payment', error);
      }
    },

    async cancelPayment(input) {
      const { providerRef, idempotencyKey } = input;
      try {
        if (isCheckoutSession(providerRef)) {
          await stripe.checkout.sessions.expire(providerRef, {}, { idempotencyKey });
        } else {
          await stripe.paymentIntents.cancel(providerRef, {}, { idempotencyKey });
        }
      } catch (error) {
        if (await nothingToCancel(stripe, providerRef, error)) return;
        throw providerError('could not cancel the payment', error);
      }
    },

    async listEvents({ since, limit }) {
      if (limit <= 0) return [];
      const newestFirst: Stripe.Event[] = [];
      try {
        // Stripe lists newest first. When the window holds more than `limit`, the newest are kept:
        // reconciliation reads a sliding window, so older events were covered by earlier runs,
        // while the newest are the ones a lost webhook can still be missing.
        for await (const event of stripe.events.list({
          created: { gte: Math.floor(since.getTime() / 1000) },
          types: [...STRIPE_EVENT_TYPES],
          limit: Math.min(limit, 100),
        })) {
          newestFirst.push(event);
          if (newestFirst.length >= limit) break;
        }
      } catch (error) {
        throw providerError('could not list events', error);
      }
      return newestFirst.reverse().map(mapStripeEvent);
    },
  };
}

async function createCheckoutSession(
  stripe: Stripe,
  input: CreatePaymentInput,
  publicUrl: string,
): Promise<CreatedPayment> {
  const metadata = paymentMetadata(input);
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      line_items: checkoutLines(input),
      client_reference_id: input.paymentId,
      metadata,
      // Copied onto the PaymentIntent and its charge, so their events name our payment too.
      payment_intent_data: { metadata, description: input.description },
      customer_email: input.buyerEmail,
      success_url: new URL(input.returnUrl, publicUrl).toString(),
      cancel_url: new URL(input.cancelUrl, publicUrl).toString(),
      // No expires_at: Stripe compares a retried request's parameters with the first one's, and a
      // deadline computed from "now" would differ on the retry. Sessions end after Stripe's 24 h, or
      // earlier through cancelPayment when the order gives up.
    },
    { idempotencyKey: input.idempotencyKey },
  );
  if (!session.url) throw new Error(`checkout session ${session.id} came back without a URL`);
  return { providerRef: session.id, redirectUrl: session.url, clientSecret: null };
}

async function createPaymentIntent(stripe: Stripe, input: CreatePaymentInput): Promise<CreatedPayment> {
  const paymentIntent = await stripe.paymentIntents.create(
    {
      amount: toStripeAmount(input.amountMinor, input.currency),
      currency: input.currency.toLowerCase(),
      description: input.description,
      metadata: paymentMetadata(input),
      automatic_payment_methods: { enabled: true },
    },
    { idempotencyKey: input.idempotencyKey },
  );
  return { providerRef: paymentIntent.id, redirectUrl: null, clientSecret: paymentIntent.client_secret };
}

function paymentMetadata(input: CreatePaymentInput): Record<string, string> {
  return { payment_id: input.paymentId, order_id: input.orderId, order_number: String(input.orderNumber) };
}

/**
 * The order's lines as Checkout shows them. What the lines do not cover (shipping, fees) becomes
 * one more line so the total is exactly `amountMinor`; Checkout has no negative lines, so a
 * discounted order (or one with too many lines) is shown as a single line for the whole order.
 */
function checkoutLines(input: CreatePaymentInput): Stripe.Checkout.SessionCreateParams.LineItem[] {
  const currency = input.currency.toLowerCase();
  const line = (name: string, quantity: number, unitMinor: number) => ({
    quantity,
    price_data: {
      currency,
      unit_amount: toStripeAmount(unitMinor, input.currency),
      product_data: { name: name.trim() || `Order #${input.orderNumber}` },
    },
  });
  const linesTotal = input.lines.reduce((sum, item) => sum + item.quantity * item.unitPriceMinor, 0);
  const rest = input.amountMinor - linesTotal;
  if (input.lines.length === 0 || rest < 0 || input.lines.length + (rest > 0 ? 1 : 0) > MAX_LINE_ITEMS) {
    return [line(`Order #${input.orderNumber}`, 1, input.amountMinor)];
  }
  const lines = input.lines.map((item) => line(item.title, item.quantity, item.unitPriceMinor));
  if (rest > 0) lines.push(line('Shipping and fees', 1, rest));
  return lines;
}

/** The PaymentIntent to refund: a Checkout Session's is learnt from events or read back. */
async function paymentIntentOf(
  stripe: Stripe,
  providerRef: string,
  secondaryRef: string | null,
): Promise<string> {
  // Decided by the id, not the configured mode: payments made before a mode change keep theirs.
  if (!isCheckoutSession(providerRef)) return providerRef;
  if (secondaryRef) return secondaryRef;
  const session = await stripe.checkout.sessions.retrieve(providerRef);
  const paymentIntent = session.payment_intent;
  if (!paymentIntent) {
    throw new AppError('payment_provider_error', 'The Stripe checkout session has no payment to refund', {
      details: { provider: 'stripe', sessionStatus: session.status, paymentStatus: session.payment_status },
    });
  }
  return typeof paymentIntent === 'string' ? paymentIntent : paymentIntent.id;
}

/**
 * After a refused expire / cancel: true when the object is already past the point where there is
 * anything to cancel (expired, canceled, or paid: a paid one is settled by its capture event, and
 * refunded by whoever handles that, not undone here), or does not exist.
 */
async function nothingToCancel(stripe: Stripe, providerRef: string, error: unknown): Promise<boolean> {
  if (!isStripeError(error) || error.type !== 'StripeInvalidRequestError') return false;
  if (error.statusCode === 404) return true;
  try {
    if (isCheckoutSession(providerRef)) {
      const session = await stripe.checkout.sessions.retrieve(providerRef);
      return session.status !== 'open';
    }
    const paymentIntent = await stripe.paymentIntents.retrieve(providerRef);
    return paymentIntent.status === 'canceled' || paymentIntent.status === 'succeeded';
  } catch {
    return false;
  }
}

function refundStatus(status: string | null): RefundResult['status'] {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'failed' || status === 'canceled') return 'failed';
  // pending, requires_action (the customer must supply bank details): settled by a later event.
  return 'pending';
}

function isCheckoutSession(providerRef: string): boolean {
  return providerRef.startsWith('cs_');
}

/** `host`/`port`/`protocol` for the SDK from a base URL such as `http://127.0.0.1:4010` (tests). */
function endpoint(apiBaseUrl: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!apiBaseUrl) return {};
  const url = new URL(apiBaseUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: url.port || (protocol === 'http' ? 80 : 443), protocol };
}

function headerValue(headers: WebhookRequest['headers'], name: string): string | null {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' && value !== '' ? value : null;
  }
  return null;
}

/** `t=` of a `t=…,v1=…` header; null when absent, repeated or not a number. */
function signedTimestamp(header: string): number | null {
  const values = header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('t='))
    .map((part) => part.slice(2));
  if (values.length !== 1 || !/^\d{1,12}$/.test(values[0]!)) return null;
  return Number(values[0]);
}

function isEventEnvelope(value: unknown): value is Stripe.Event {
  if (!value || typeof value !== 'object') return false;
  const event = value as Record<string, unknown>;
  const data = event.data as Record<string, unknown> | undefined;
  return (
    typeof event.id === 'string' &&
    typeof event.type === 'string' &&
    Number.isInteger(event.created) &&
    typeof data === 'object' &&
    data !== null &&
    typeof data.object === 'object' &&
    data.object !== null
  );
}

function signatureInvalid(reason: string): AppError {
  return new AppError('webhook_signature_invalid', `Stripe webhook refused: ${reason}`);
}

interface StripeErrorLike {
  readonly type: string;
  readonly code?: string | undefined;
  readonly decline_code?: string | undefined;
  readonly statusCode?: number | undefined;
  readonly requestId?: string | undefined;
  readonly message: string;
}

function isStripeError(error: unknown): error is StripeErrorLike {
  // Checked by shape: the SDK's classes live in the lazily imported module.
  if (!(error instanceof Error)) return false;
  const type: unknown = Reflect.get(error, 'type');
  return typeof type === 'string' && type.startsWith('Stripe');
}

/** Stripe's refusal as our error; the message keeps Stripe's words minus anything key-shaped. */
function providerError(what: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isStripeError(error)) {
    return new AppError('payment_provider_error', `Stripe ${what}: ${redact(error.message)}`, {
      details: {
        provider: 'stripe',
        stripeType: error.type,
        stripeCode: error.code ?? null,
        declineCode: error.decline_code ?? null,
        status: error.statusCode ?? null,
        requestId: error.requestId ?? null,
      },
    });
  }
  return new AppError('payment_provider_error', `Stripe ${what}: ${redact(messageOf(error))}`, {
    details: { provider: 'stripe', stripeType: null, stripeCode: null },
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Stripe's 401 message echoes part of the key ("Invalid API Key provided: sk_test_****1234").
function redact(message: string): string {
  return message.replace(/\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_*]+/g, '[redacted]');
}
