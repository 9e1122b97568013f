import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Stripe API object as it goes over the wire (`object`, `id`, snake_case fields). */
export type StripeWireObject = Record<string, unknown> & { readonly id: string; readonly object: string };

/** A Stripe event as recorded, listed by `GET /v1/events` and delivered to webhooks. */
export interface FakeStripeEvent {
  readonly id: string;
  readonly object: 'event';
  readonly api_version: string | null;
  readonly created: number;
  readonly data: { readonly object: StripeWireObject };
  readonly livemode: false;
  readonly pending_webhooks: number;
  readonly request: { readonly id: string | null; readonly idempotency_key: string | null };
  readonly type: string;
}

export interface FakeStripeRequest {
  readonly method: string;
  readonly path: string;
  /** Parsed query (GET) with nested keys unfolded: `created[gte]` → `{ created: { gte } }`. */
  readonly query: Readonly<Record<string, unknown>>;
  readonly idempotencyKey: string | null;
  /** Parsed form body with nested keys unfolded: `line_items[0][quantity]` → `{ line_items: [{ quantity }] }`. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly rawBody: string;
  readonly status: number;
  /** Answered from the idempotency store rather than executed. */
  readonly replayed: boolean;
}

export interface SignedDelivery {
  /** Exactly the bytes that were signed (pretty-printed JSON, as Stripe sends). */
  readonly body: string;
  readonly headers: { readonly 'stripe-signature': string; readonly 'content-type': 'application/json' };
}

export type FakeRefundStatus = 'succeeded' | 'pending' | 'failed';

export interface FakeStripe {
  /** For `STRIPE_API_BASE_URL`: `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The only API key the fake accepts (`sk_test_…`). */
  readonly secretKey: string;
  /** A `whsec_…` secret for `signedDelivery` and the adapter's config. */
  readonly webhookSecret: string;
  /** Every request, in arrival order, including refused and replayed ones. */
  readonly requests: FakeStripeRequest[];
  /** Every recorded event, oldest first (what `GET /v1/events` serves, newest first). */
  readonly events: FakeStripeEvent[];
  session(id: string): StripeWireObject | undefined;
  paymentIntent(id: string): StripeWireObject | undefined;
  charge(id: string): StripeWireObject | undefined;
  refund(id: string): StripeWireObject | undefined;
  /** The buyer paid on the hosted page. `async`: a delayed method, settled by `settleAsyncSession`. */
  completeSession(sessionId: string, options?: { async?: boolean }): FakeStripeEvent[];
  settleAsyncSession(sessionId: string, outcome: 'succeeded' | 'failed'): FakeStripeEvent[];
  /** Stripe expired the session (its `expires_at` passed). */
  expireSession(sessionId: string): FakeStripeEvent[];
  /** A `capture_method: manual` PaymentIntent was authorized and awaits capture. */
  authorizePaymentIntent(paymentIntentId: string): FakeStripeEvent[];
  succeedPaymentIntent(paymentIntentId: string): FakeStripeEvent[];
  failPaymentIntent(paymentIntentId: string, code?: string, declineCode?: string): FakeStripeEvent[];
  /** A refund made outside the API (Dashboard); `amount` defaults to what is left. */
  refundCharge(paymentIntentId: string, options?: { amount?: number; reason?: string }): FakeStripeEvent[];
  openDispute(paymentIntentId: string, options?: { amount?: number; reason?: string }): FakeStripeEvent[];
  closeDispute(disputeId: string, status?: 'won' | 'lost'): FakeStripeEvent[];
  /** Records any event (e.g. a type the adapter ignores). */
  recordEvent(type: string, object: StripeWireObject): FakeStripeEvent;
  /** Status of refunds created from now on (Stripe: cards succeed at once, some methods stay pending). */
  setRefundStatus(status: FakeRefundStatus): void;
  /** The next `times` requests fail with this status before doing anything. */
  failNext(
    status: number,
    options?: { times?: number; type?: string; code?: string; message?: string },
  ): void;
  /** A webhook delivery signed as Stripe does: `t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")`. */
  signedDelivery(
    event: FakeStripeEvent,
    options?: { secret?: string; timestamp?: number; tamper?: boolean },
  ): SignedDelivery;
  close(): Promise<void>;
}

interface StoredResponse {
  readonly method: string;
  readonly path: string;
  readonly rawBody: string;
  readonly reply: Reply;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

interface Context {
  readonly requestId: string;
  readonly idempotencyKey: string | null;
}

/** A refusal with Stripe's error body; `stored: false` for validation errors Stripe does not replay. */
class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: { code?: string; param?: string; decline_code?: string; stored?: boolean } = {},
  ) {
    super(message);
  }
}

const CHECKOUT_MIN_LIFETIME_S = 30 * 60;
const CHECKOUT_MAX_LIFETIME_S = 24 * 60 * 60;
const CANCELABLE_INTENT = new Set([
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
]);
const REFUND_REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

/**
 * Stripe's v1 API on loopback, enough of it for the real `stripe` SDK: Checkout Sessions,
 * PaymentIntents, refunds, events, idempotency keys, Bearer auth and Stripe's error bodies. Test
 * controls stand in for the buyer and for Stripe itself, and record the events Stripe would send.
 * `now` is the fake's clock (event `created`, session `expires_at`, default signature timestamps).
 */
export async function startFakeStripe(options: { now?: () => Date } = {}): Promise<FakeStripe> {
  const now = options.now ?? (() => new Date());
  const seconds = () => Math.floor(now().getTime() / 1000);
  const secretKey = `sk_test_${token(32)}`;
  const webhookSecret = `whsec_${token(32)}`;
  const requests: FakeStripeRequest[] = [];
  const events: FakeStripeEvent[] = [];
  const idempotency = new Map<string, StoredResponse>();
  const sessions = new Map<string, Record<string, unknown> & StripeWireObject>();
  const sessionExtras = new Map<
    string,
    { lineItems: Record<string, unknown>[]; intentData: Record<string, unknown> }
  >();
  const intents = new Map<string, Record<string, unknown> & StripeWireObject>();
  const charges = new Map<string, Record<string, unknown> & StripeWireObject>();
  const refunds = new Map<string, Record<string, unknown> & StripeWireObject>();
  const disputes = new Map<string, Record<string, unknown> & StripeWireObject>();
  let refundStatus: FakeRefundStatus = 'succeeded';
  let apiVersion: string | null = null;
  let failures: { times: number; status: number; type: string; code?: string; message: string } | null = null;

  // ---- events ---------------------------------------------------------------------------------

  function record(type: string, object: StripeWireObject, context?: Context): FakeStripeEvent {
    const event: FakeStripeEvent = {
      id: `evt_${token(24)}`,
      object: 'event',
      api_version: apiVersion,
      created: seconds(),
      // A snapshot: later changes to the object do not rewrite history.
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: context?.requestId ?? null, idempotency_key: context?.idempotencyKey ?? null },
      type,
    };
    events.push(event);
    return event;
  }

  // ---- objects --------------------------------------------------------------------------------

  function createIntent(fields: {
    amount: number;
    currency: string;
    metadata: Record<string, string>;
    description: string | null;
    captureMethod: string;
  }): Record<string, unknown> & StripeWireObject {
    const id = `pi_${token(24)}`;
    const intent = {
      id,
      object: 'payment_intent',
      amount: fields.amount,
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: { enabled: true },
      canceled_at: null,
      cancellation_reason: null,
      capture_method: fields.captureMethod,
      client_secret: `${id}_secret_${token(24)}`,
      created: seconds(),
      currency: fields.currency,
      description: fields.description,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: fields.metadata,
      status: 'requires_payment_method',
    };
    intents.set(id, intent);
    return intent;
  }

  function chargeIntent(intent: Record<string, unknown> & StripeWireObject) {
    const charge = {
      id: `ch_${token(24)}`,
      object: 'charge',
      amount: intent.amount,
      amount_captured: intent.amount,
      amount_refunded: 0,
      captured: true,
      created: seconds(),
      currency: intent.currency,
      disputed: false,
      // Stripe copies the PaymentIntent's metadata onto the charge it creates.
      metadata: structuredClone(intent.metadata),
      paid: true,
      payment_intent: intent.id,
      refunded: false,
      // Listed as API versions before 2022-11-15 did; adapters must cope with it being absent.
      refunds: { object: 'list', data: [] as unknown[], has_more: false, total_count: 0, url: '' },
      status: 'succeeded',
    };
    charge.refunds.url = `/v1/charges/${charge.id}/refunds`;
    charges.set(charge.id, charge);
    Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: charge.id });
    return charge;
  }

  function mustFind<T>(map: Map<string, T>, id: string, kind: string): T {
    const found = map.get(id);
    if (!found) {
      throw new StripeApiError(404, 'invalid_request_error', `No such ${kind}: '${id}'`, {
        code: 'resource_missing',
        param: 'id',
      });
    }
    return found;
  }

  function succeededCharge(intent: Record<string, unknown>) {
    const chargeId = intent.latest_charge as string | null;
    const charge = chargeId ? charges.get(chargeId) : undefined;
    if (!charge || intent.status !== 'succeeded') {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `This PaymentIntent (${String(intent.id)}) does not have a successful charge to refund.`,
        { param: 'payment_intent' },
      );
    }
    return charge;
  }

  function makeRefund(
    intent: Record<string, unknown>,
    fields: { amount: number | null; reason: string | null; metadata: Record<string, string> },
    context?: Context,
  ): { refund: StripeWireObject; events: FakeStripeEvent[] } {
    const charge = succeededCharge(intent);
    const remaining = (charge.amount as number) - (charge.amount_refunded as number);
    if (remaining <= 0) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `Charge ${charge.id} has already been refunded.`,
        {
          code: 'charge_already_refunded',
        },
      );
    }
    const amount = fields.amount ?? remaining;
    if (amount > remaining) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`,
        { param: 'amount' },
      );
    }
    const refund = {
      id: `re_${token(24)}`,
      object: 'refund',
      amount,
      charge: charge.id,
      created: seconds(),
      currency: charge.currency,
      metadata: fields.metadata,
      payment_intent: intent.id,
      reason: fields.reason,
      status: refundStatus,
    };
    refunds.set(refund.id, refund);
    const recorded = [record('refund.created', refund, context)];
    if (refundStatus !== 'failed') {
      const list = charge.refunds as { data: unknown[]; total_count: number };
      list.data.unshift(refund);
      list.total_count += 1;
      const total = (charge.amount_refunded as number) + amount;
      Object.assign(charge, { amount_refunded: total, refunded: total === charge.amount });
      recorded.push(record('charge.refunded', charge, context));
    }
    return { refund, events: recorded };
  }

  // ---- API ------------------------------------------------------------------------------------

  function handle(method: string, path: string, params: Record<string, unknown>, context: Context): Reply {
    const [, resource = '', id = '', action = ''] =
      /^\/v1\/(checkout\/sessions|payment_intents|refunds|events)(?:\/([^/]+))?(?:\/([a-z_]+))?$/.exec(
        path,
      ) ?? [];
    switch (`${method} ${resource}${id ? '/:id' : ''}${action ? `/${action}` : ''}`) {
      case 'POST checkout/sessions':
        return createSession(params);
      case 'GET checkout/sessions/:id':
        return ok(mustFind(sessions, id, 'checkout.session'));
      case 'POST checkout/sessions/:id/expire':
        return ok(expire(id, context).session);
      case 'POST payment_intents':
        return createPaymentIntent(params, context);
      case 'GET payment_intents/:id':
        return ok(mustFind(intents, id, 'payment_intent'));
      case 'POST payment_intents/:id/cancel':
        return ok(cancelIntent(id, params, context));
      case 'POST refunds':
        return createRefund(params, context);
      case 'GET events':
        return listEvents(params);
      default:
        throw new StripeApiError(
          404,
          'invalid_request_error',
          `Unrecognized request URL (${method}: ${path}).`,
          {
            stored: false,
          },
        );
    }
  }

  function createSession(params: Record<string, unknown>): Reply {
    if (params.mode !== 'payment') invalid('mode', 'Only `mode=payment` is supported by this fake.');
    const items = params.line_items;
    if (!Array.isArray(items) || items.length === 0)
      invalid('line_items', 'Missing required param: line_items.');
    if (items.length > 100)
      invalid('line_items', 'You may only specify up to 100 line items in payment mode.');
    let currency: string | null = null;
    let total = 0;
    const lineItems = items.map((raw, index) => {
      const item = asRecord(raw);
      const price = asRecord(item.price_data);
      const unit = integer(price.unit_amount, `line_items[${index}][price_data][unit_amount]`, 0);
      const quantity = integer(item.quantity, `line_items[${index}][quantity]`, 1);
      const lineCurrency = lowerCurrency(price.currency, `line_items[${index}][price_data][currency]`);
      const name = asRecord(price.product_data).name;
      if (typeof name !== 'string' || name === '') {
        invalid(`line_items[${index}][price_data][product_data][name]`, 'Missing required param.');
      }
      if (currency !== null && currency !== lineCurrency) {
        invalid('line_items', 'All line items must use the same currency.');
      }
      currency = lineCurrency;
      total += unit * quantity;
      return { description: name, quantity, currency: lineCurrency, amount_total: unit * quantity, unit };
    });
    if (typeof params.success_url !== 'string' || !/^https?:\/\//.test(params.success_url)) {
      invalid('success_url', 'Not a valid URL');
    }
    const created = seconds();
    let expiresAt = created + CHECKOUT_MAX_LIFETIME_S;
    if (params.expires_at !== undefined) {
      expiresAt = integer(params.expires_at, 'expires_at', 0);
      if (expiresAt - created < CHECKOUT_MIN_LIFETIME_S || expiresAt - created > CHECKOUT_MAX_LIFETIME_S) {
        invalid('expires_at', 'The `expires_at` timestamp must be between 30 minutes and 24 hours from now.');
      }
    }
    const intentData = asRecord(params.payment_intent_data);
    const id = `cs_test_${token(40)}`;
    const session = {
      id,
      object: 'checkout.session',
      amount_subtotal: total,
      amount_total: total,
      cancel_url: typeof params.cancel_url === 'string' ? params.cancel_url : null,
      client_reference_id: typeof params.client_reference_id === 'string' ? params.client_reference_id : null,
      created,
      currency,
      customer_email: typeof params.customer_email === 'string' ? params.customer_email : null,
      expires_at: expiresAt,
      livemode: false,
      metadata: metadata(params.metadata, 'metadata'),
      mode: 'payment',
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      success_url: params.success_url,
      url: `${baseUrl}/c/pay/${id}`,
    };
    metadata(intentData.metadata, 'payment_intent_data[metadata]');
    sessions.set(id, session);
    sessionExtras.set(id, { lineItems, intentData });
    return ok(session);
  }

  function expire(id: string, context?: Context) {
    const session = mustFind(sessions, id, 'checkout.session');
    if (session.status !== 'open') {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of \`${String(session.status)}\`.`,
      );
    }
    session.status = 'expired';
    return { session, events: [record('checkout.session.expired', session, context)] };
  }

  function createPaymentIntent(params: Record<string, unknown>, context: Context): Reply {
    const amount = integer(params.amount, 'amount', 1);
    const currency = lowerCurrency(params.currency, 'currency');
    const captureMethod = params.capture_method ?? 'automatic';
    if (
      typeof captureMethod !== 'string' ||
      !['automatic', 'automatic_async', 'manual'].includes(captureMethod)
    ) {
      invalid('capture_method', 'Invalid capture_method');
    }
    const intent = createIntent({
      amount,
      currency,
      metadata: metadata(params.metadata, 'metadata'),
      description: typeof params.description === 'string' ? params.description : null,
      captureMethod,
    });
    record('payment_intent.created', intent, context);
    return ok(intent);
  }

  function cancelIntent(id: string, params: Record<string, unknown>, context?: Context) {
    const intent = mustFind(intents, id, 'payment_intent');
    if (!CANCELABLE_INTENT.has(intent.status as string)) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `You cannot cancel this PaymentIntent because it has a status of ${String(intent.status)}. Only a PaymentIntent with one of the following statuses may be canceled: ${[...CANCELABLE_INTENT].join(', ')}.`,
        { code: 'payment_intent_unexpected_state' },
      );
    }
    Object.assign(intent, {
      status: 'canceled',
      canceled_at: seconds(),
      cancellation_reason: typeof params.cancellation_reason === 'string' ? params.cancellation_reason : null,
      amount_capturable: 0,
    });
    record('payment_intent.canceled', intent, context);
    return intent;
  }

  function createRefund(params: Record<string, unknown>, context: Context): Reply {
    let intent: Record<string, unknown> | undefined;
    if (typeof params.payment_intent === 'string') {
      intent = mustFind(intents, params.payment_intent, 'payment_intent');
    } else if (typeof params.charge === 'string') {
      const charge = mustFind(charges, params.charge, 'charge');
      intent = mustFind(intents, charge.payment_intent as string, 'payment_intent');
    } else {
      invalid('payment_intent', 'One of `charge` or `payment_intent` is required.');
    }
    if (params.reason !== undefined && !REFUND_REASONS.has(params.reason as string)) {
      invalid('reason', `Invalid reason: must be one of ${[...REFUND_REASONS].join(', ')}`);
    }
    const { refund } = makeRefund(
      intent,
      {
        amount: params.amount === undefined ? null : integer(params.amount, 'amount', 1),
        reason: (params.reason as string | undefined) ?? null,
        metadata: metadata(params.metadata, 'metadata'),
      },
      context,
    );
    return ok(refund);
  }

  function listEvents(params: Record<string, unknown>): Reply {
    const limit = params.limit === undefined ? 10 : integer(params.limit, 'limit', 1);
    if (limit > 100) invalid('limit', 'Limit must be at most 100.');
    const types = new Set<string>();
    if (Array.isArray(params.types)) for (const type of params.types) types.add(String(type));
    if (typeof params.type === 'string') types.add(params.type);
    const created = params.created;
    const range =
      typeof created === 'string'
        ? { eq: integer(created, 'created', 0) }
        : (Object.fromEntries(
            Object.entries(asRecord(created)).map(([key, value]) => [
              key,
              integer(value, `created[${key}]`, 0),
            ]),
          ) as Record<string, number>);
    const matches = (event: FakeStripeEvent) =>
      (types.size === 0 || types.has(event.type)) &&
      (range.eq === undefined || event.created === range.eq) &&
      (range.gte === undefined || event.created >= range.gte) &&
      (range.gt === undefined || event.created > range.gt) &&
      (range.lte === undefined || event.created <= range.lte) &&
      (range.lt === undefined || event.created < range.lt);
    // Newest first; events of one second keep their recording order reversed.
    const newestFirst = events.filter(matches).reverse();
    let page: FakeStripeEvent[];
    let hasMore: boolean;
    if (typeof params.starting_after === 'string') {
      const at = newestFirst.findIndex((event) => event.id === params.starting_after);
      if (at < 0)
        throw new StripeApiError(404, 'invalid_request_error', `No such event: '${params.starting_after}'`);
      page = newestFirst.slice(at + 1, at + 1 + limit);
      hasMore = newestFirst.length > at + 1 + limit;
    } else if (typeof params.ending_before === 'string') {
      const at = newestFirst.findIndex((event) => event.id === params.ending_before);
      if (at < 0)
        throw new StripeApiError(404, 'invalid_request_error', `No such event: '${params.ending_before}'`);
      page = newestFirst.slice(Math.max(0, at - limit), at);
      hasMore = at - limit > 0;
    } else {
      page = newestFirst.slice(0, limit);
      hasMore = newestFirst.length > limit;
    }
    return ok({ object: 'list', data: page, has_more: hasMore, url: '/v1/events' });
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const requestId = `req_${token(14)}`;
      const { reply, entry } = answer(request, rawBody, requestId);
      requests.push(entry);
      response.writeHead(reply.status, {
        'content-type': 'application/json',
        'request-id': requestId,
        ...(entry.replayed ? { 'idempotent-replayed': 'true' } : {}),
      });
      response.end(JSON.stringify(reply.body));
    });
  });

  function answer(
    request: IncomingMessage,
    rawBody: string,
    requestId: string,
  ): { reply: Reply; entry: FakeStripeRequest } {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://fake');
    const path = url.pathname;
    const query = parseForm(url.search.slice(1));
    const body = method === 'POST' ? parseForm(rawBody) : {};
    const keyHeader = request.headers['idempotency-key'];
    const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : null;
    const version = request.headers['stripe-version'];
    if (typeof version === 'string') apiVersion = version;
    const entry = (reply: Reply, replayed = false) => ({
      reply,
      entry: { method, path, query, idempotencyKey, body, rawBody, status: reply.status, replayed },
    });

    const auth = request.headers.authorization;
    if (!auth?.startsWith('Bearer ')) {
      return entry(
        errorReply(
          new StripeApiError(
            401,
            'invalid_request_error',
            'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth.',
          ),
        ),
      );
    }
    const given = auth.slice('Bearer '.length);
    if (given !== secretKey) {
      return entry(
        errorReply(
          new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${maskKey(given)}`, {
            code: 'api_key_invalid',
          }),
        ),
      );
    }

    if (failures && failures.times > 0) {
      failures.times -= 1;
      const failure = failures;
      if (failures.times === 0) failures = null;
      return entry(
        errorReply(
          new StripeApiError(failure.status, failure.type, failure.message, {
            ...(failure.code ? { code: failure.code } : {}),
          }),
        ),
      );
    }

    if (method === 'POST' && idempotencyKey) {
      const stored = idempotency.get(idempotencyKey);
      if (stored) {
        if (stored.method !== method || stored.path !== path || stored.rawBody !== rawBody) {
          return entry(
            errorReply(
              new StripeApiError(
                400,
                'idempotency_error',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              ),
            ),
          );
        }
        return entry(stored.reply, true);
      }
    }

    const context: Context = { requestId, idempotencyKey };
    let reply: Reply;
    let store = true;
    try {
      reply = handle(method, path, method === 'POST' ? body : query, context);
    } catch (error) {
      if (!(error instanceof StripeApiError)) {
        // A bug in the fake fails the test now rather than as a confusing SDK retry loop.
        reply = errorReply(new StripeApiError(500, 'api_error', `Fake Stripe crashed: ${String(error)}`));
        store = false;
      } else {
        reply = errorReply(error);
        store = error.extra.stored !== false;
      }
    }
    // Stripe saves the result of a request that started executing, errors included, and replays it.
    if (method === 'POST' && idempotencyKey && store) {
      idempotency.set(idempotencyKey, { method, path, rawBody, reply });
    }
    return entry(reply);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  // ---- test controls --------------------------------------------------------------------------

  function sessionIntent(session: Record<string, unknown>): Record<string, unknown> & StripeWireObject {
    if (session.payment_intent) return mustFind(intents, session.payment_intent as string, 'payment_intent');
    const extras = sessionExtras.get(session.id as string)!;
    const intentData = extras.intentData;
    const intent = createIntent({
      amount: session.amount_total as number,
      currency: session.currency as string,
      metadata: metadata(intentData.metadata, 'payment_intent_data[metadata]'),
      description: typeof intentData.description === 'string' ? intentData.description : null,
      captureMethod: 'automatic',
    });
    session.payment_intent = intent.id;
    return intent;
  }

  const fake: FakeStripe = {
    baseUrl,
    secretKey,
    webhookSecret,
    requests,
    events,
    session: (id) => sessions.get(id),
    paymentIntent: (id) => intents.get(id),
    charge: (id) => charges.get(id),
    refund: (id) => refunds.get(id),

    completeSession(sessionId, options = {}) {
      const session = control(() => mustFind(sessions, sessionId, 'checkout.session'));
      if (session.status !== 'open') throw new Error(`session ${sessionId} is ${String(session.status)}`);
      const intent = sessionIntent(session);
      const recorded = [record('payment_intent.created', intent)];
      if (options.async) {
        intent.status = 'processing';
        recorded.push(record('payment_intent.processing', intent));
        Object.assign(session, { status: 'complete', payment_status: 'unpaid' });
      } else {
        const charge = chargeIntent(intent);
        recorded.push(record('charge.succeeded', charge), record('payment_intent.succeeded', intent));
        Object.assign(session, { status: 'complete', payment_status: 'paid' });
      }
      recorded.push(record('checkout.session.completed', session));
      return recorded;
    },

    settleAsyncSession(sessionId, outcome) {
      const session = control(() => mustFind(sessions, sessionId, 'checkout.session'));
      const intent = control(() => mustFind(intents, String(session.payment_intent), 'payment_intent'));
      if (intent.status !== 'processing') throw new Error(`payment intent ${intent.id} is not processing`);
      if (outcome === 'succeeded') {
        const charge = chargeIntent(intent);
        session.payment_status = 'paid';
        return [
          record('charge.succeeded', charge),
          record('payment_intent.succeeded', intent),
          record('checkout.session.async_payment_succeeded', session),
        ];
      }
      Object.assign(intent, {
        status: 'requires_payment_method',
        last_payment_error: { type: 'invalid_request_error', code: 'payment_method_provider_decline' },
      });
      return [
        record('payment_intent.payment_failed', intent),
        record('checkout.session.async_payment_failed', session),
      ];
    },

    expireSession: (sessionId) => control(() => expire(sessionId).events),

    authorizePaymentIntent(paymentIntentId) {
      const intent = control(() => mustFind(intents, paymentIntentId, 'payment_intent'));
      Object.assign(intent, { status: 'requires_capture', amount_capturable: intent.amount });
      return [record('payment_intent.amount_capturable_updated', intent)];
    },

    succeedPaymentIntent(paymentIntentId) {
      const intent = control(() => mustFind(intents, paymentIntentId, 'payment_intent'));
      if (intent.status === 'succeeded' || intent.status === 'canceled') {
        throw new Error(`payment intent ${paymentIntentId} is ${String(intent.status)}`);
      }
      const charge = chargeIntent(intent);
      intent.amount_capturable = 0;
      return [record('charge.succeeded', charge), record('payment_intent.succeeded', intent)];
    },

    failPaymentIntent(paymentIntentId, code = 'card_declined', declineCode) {
      const intent = control(() => mustFind(intents, paymentIntentId, 'payment_intent'));
      Object.assign(intent, {
        status: 'requires_payment_method',
        last_payment_error: {
          type: 'card_error',
          code,
          ...(declineCode ? { decline_code: declineCode } : {}),
          message: 'Your card was declined.',
        },
      });
      return [record('payment_intent.payment_failed', intent)];
    },

    refundCharge(paymentIntentId, options = {}) {
      const intent = control(() => mustFind(intents, paymentIntentId, 'payment_intent'));
      return control(
        () =>
          makeRefund(intent, { amount: options.amount ?? null, reason: options.reason ?? null, metadata: {} })
            .events,
      );
    },

    openDispute(paymentIntentId, options = {}) {
      const intent = control(() => mustFind(intents, paymentIntentId, 'payment_intent'));
      const charge = control(() => succeededCharge(intent));
      const dispute = {
        id: `dp_${token(24)}`,
        object: 'dispute',
        amount: options.amount ?? charge.amount,
        charge: charge.id,
        created: seconds(),
        currency: charge.currency,
        metadata: {},
        payment_intent: intent.id,
        reason: options.reason ?? 'fraudulent',
        status: 'needs_response',
      };
      disputes.set(dispute.id, dispute);
      charge.disputed = true;
      return [record('charge.dispute.created', dispute)];
    },

    closeDispute(disputeId, status = 'won') {
      const dispute = control(() => mustFind(disputes, disputeId, 'dispute'));
      dispute.status = status;
      return [record('charge.dispute.closed', dispute)];
    },

    recordEvent: (type, object) => record(type, object),

    setRefundStatus(status) {
      refundStatus = status;
    },

    failNext(status, options = {}) {
      failures = {
        times: options.times ?? 1,
        status,
        type: options.type ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
        ...(options.code ? { code: options.code } : {}),
        message: options.message ?? 'Injected failure',
      };
    },

    signedDelivery(event, options = {}) {
      const timestamp = options.timestamp ?? seconds();
      const body = JSON.stringify(event, null, 2);
      const signature = createHmac('sha256', options.secret ?? webhookSecret)
        .update(`${timestamp}.${body}`, 'utf8')
        .digest('hex');
      // One byte changed after signing, still valid JSON: what a proxy rewriting the body would do.
      const delivered = options.tamper
        ? body.replace('"pending_webhooks": 1', '"pending_webhooks": 2')
        : body;
      return {
        body: delivered,
        headers: { 'stripe-signature': `t=${timestamp},v1=${signature}`, 'content-type': 'application/json' },
      };
    },

    close: () =>
      new Promise<void>((resolve, reject) => {
        // The SDK keeps connections alive; drop them so close() returns now.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return fake;
}

// ---- helpers ------------------------------------------------------------------------------------

/** A test control's misuse (unknown id…) surfaces as a plain error in the test, not an API reply. */
function control<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof StripeApiError) throw new Error(`fake Stripe: ${error.message}`);
    throw error;
  }
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function errorReply(error: StripeApiError): Reply {
  const { stored: _stored, ...extra } = error.extra;
  return { status: error.status, body: { error: { type: error.type, message: error.message, ...extra } } };
}

function invalid(param: string, message: string): never {
  throw new StripeApiError(400, 'invalid_request_error', message, {
    code: 'parameter_invalid',
    param,
    stored: false,
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function integer(value: unknown, param: string, minimum: number): number {
  const parsed = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed)) invalid(param, `Invalid integer: ${String(value)}`);
  if (parsed < minimum) invalid(param, `This value must be greater than or equal to ${minimum}.`);
  return parsed;
}

function lowerCurrency(value: unknown, param: string): string {
  if (typeof value !== 'string' || !/^[a-z]{3}$/.test(value)) {
    invalid(param, `Invalid currency: ${String(value)}. Stripe expects a lowercase ISO code.`);
  }
  return value;
}

/** Stripe's limits: 50 keys, key ≤ 40 characters, value ≤ 500 characters. */
function metadata(value: unknown, param: string): Record<string, string> {
  const record = asRecord(value);
  const entries = Object.entries(record);
  if (entries.length > 50) invalid(param, 'Metadata can have at most 50 keys.');
  for (const [key, item] of entries) {
    if (typeof item !== 'string') invalid(`${param}[${key}]`, 'Metadata values must be strings.');
    if (key.length > 40) invalid(`${param}[${key}]`, 'Metadata keys can be at most 40 characters.');
    if (item.length > 500) invalid(`${param}[${key}]`, 'Metadata values can be at most 500 characters.');
  }
  return record as Record<string, string>;
}

/**
 * Stripe's form encoding: `a[b][0][c]=v` → `{ a: { b: [{ c: 'v' }] } }`. Objects whose keys are all
 * indices become arrays (`types[0]=x&types[1]=y` and `types[]=x&types[]=y` alike).
 */
export function parseForm(encoded: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(encoded)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
    if (!match) continue;
    const path = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1]!)];
    let node = root;
    for (let index = 0; index < path.length; index += 1) {
      let segment = path[index]!;
      if (segment === '') segment = String(Object.keys(node).length);
      if (index === path.length - 1) {
        node[segment] = value;
      } else {
        if (!node[segment] || typeof node[segment] !== 'object') node[segment] = {};
        node = node[segment] as Record<string, unknown>;
      }
    }
  }
  return toArrays(root) as Record<string, unknown>;
}

function toArrays(value: unknown): unknown {
  if (!value || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const converted = Object.fromEntries(keys.map((key) => [key, toArrays(record[key])]));
  if (keys.length > 0 && keys.every((key) => /^\d+$/.test(key))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => converted[key]);
  }
  return converted;
}

function token(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

function maskKey(key: string): string {
  return key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}` : '****';
}
