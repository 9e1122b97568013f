import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import type { Clock } from '../../src/platform/clock/clock.ts';
import { minorToDecimalString, minorUnitExponent } from '../../src/platform/money/money.ts';

type Json = Record<string, unknown>;

/** A PayPal webhook event as PayPal sends it (and lists it at /v1/notifications/webhooks-events). */
export interface PayPalWebhookEvent {
  readonly id: string;
  readonly event_version: string;
  readonly create_time: string;
  readonly resource_type: string;
  readonly resource_version: string;
  readonly event_type: string;
  readonly summary: string;
  readonly resource: Json;
  readonly links: readonly Json[];
}

export interface FakePayPalRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when not JSON (the token call is form-encoded), or null. */
  readonly body: unknown;
  readonly status: number;
}

export interface SignedDeliveryOptions {
  /** The webhook id PayPal signs with; defaults to the fake's `webhookId`. */
  readonly webhookId?: string;
  /** ISO time for `paypal-transmission-time`; defaults to the fake's clock. */
  readonly transmissionTime?: string;
  /** Change one byte of the body after signing (a digit, so it stays valid JSON). */
  readonly tamper?: boolean;
  /** Sign with a key other than the certificate's. */
  readonly wrongKey?: boolean;
  /** `paypal-cert-url`; defaults to the fake's own `certUrl`. */
  readonly certUrl?: string;
}

export interface SignedDelivery {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

export interface FakePayPal {
  /** For `PAYPAL_API_BASE_URL`; stands in for `https://api-m.sandbox.paypal.com`. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The id signedDelivery signs with by default: configure it as `PAYPAL_WEBHOOK_ID`. */
  readonly webhookId: string;
  /** Where the signing certificate is served (same origin as `baseUrl`). */
  readonly certUrl: string;
  /** The test certificate, PEM. */
  readonly certificatePem: string;
  /** Every request, in order. */
  readonly requests: FakePayPalRequest[];
  /** Every event recorded, oldest first; the events list endpoint serves them. */
  readonly events: PayPalWebhookEvent[];
  /** The order as GET /v2/checkout/orders/:id would return it now. */
  order(orderId: string): Json | undefined;
  /** The order's (first) capture id, once captured. */
  captureIdOf(orderId: string): string | undefined;
  /** The buyer approves on PayPal's page: status APPROVED, records CHECKOUT.ORDER.APPROVED. */
  approveOrder(orderId: string): PayPalWebhookEvent;
  /**
   * Before capture: the next capture of this order is declined (201, capture status DECLINED,
   * records PAYMENT.CAPTURE.DECLINED). After capture: the capture becomes DENIED (as PayPal does
   * to a pending capture) and PAYMENT.CAPTURE.DENIED is recorded and returned.
   */
  denyCapture(orderId: string): PayPalWebhookEvent | null;
  /** PayPal voids the order: status VOIDED, records CHECKOUT.ORDER.VOIDED. */
  voidOrder(orderId: string): PayPalWebhookEvent;
  /** The buyer disputes a capture: records CUSTOMER.DISPUTE.CREATED (dispute_id in resource). */
  openDispute(captureId: string, options?: { amountMinor?: number; reason?: string }): PayPalWebhookEvent;
  /** Records CUSTOMER.DISPUTE.RESOLVED for a dispute opened with openDispute. */
  resolveDispute(
    disputeId: string,
    outcome?: 'RESOLVED_BUYER_FAVOUR' | 'RESOLVED_SELLER_FAVOUR',
  ): PayPalWebhookEvent;
  /** The next refund is created with this status (no PAYMENT.CAPTURE.REFUNDED unless COMPLETED). */
  nextRefundStatus(status: 'PENDING' | 'FAILED' | 'CANCELLED'): void;
  /** Every access token issued so far stops working (PayPal revoked them or they expired early). */
  revokeTokens(): void;
  /** The next API request (not the certificate) fails with this status and PayPal error name/issue. */
  failNext(status: number, name?: string, issue?: string): void;
  /** The event as PayPal would POST it to a webhook: JSON body and signed transmission headers. */
  signedDelivery(event: PayPalWebhookEvent, options?: SignedDeliveryOptions): SignedDelivery;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

interface OrderState {
  order: Json;
  declineNextCapture: boolean;
}

interface CaptureState {
  capture: Json;
  orderId: string;
  currency: string;
  amountMinor: number;
  refundedMinor: number;
}

const FIXTURES = new URL('./paypal/', import.meta.url);
const CERTIFICATE_PEM = readFileSync(new URL('webhook-signing.cert.pem', FIXTURES), 'utf8');
const PRIVATE_KEY_PEM = readFileSync(new URL('webhook-signing.key.pem', FIXTURES), 'utf8');
const CERT_PATH = '/v1/notifications/certs/CERT-caravan-fake-0001';

const ORDER_PATH = /^\/v2\/checkout\/orders\/([^/]+)$/;
const CAPTURE_PATH = /^\/v2\/checkout\/orders\/([^/]+)\/capture$/;
const REFUND_PATH = /^\/v2\/payments\/captures\/([^/]+)\/refund$/;
const DECIMAL = /^\d+(?:\.(\d+))?$/;

/**
 * PayPal's REST API on loopback (Orders v2, Payments v2 refunds, OAuth client credentials, the
 * webhooks-events list and the webhook signing certificate), speaking its wire format for the real
 * `@paypal/paypal-server-sdk`, plus signed webhook deliveries made exactly as PayPal makes them.
 */
export async function startFakePayPal(
  options: { clock?: Clock; webhookId?: string } = {},
): Promise<FakePayPal> {
  const clock = options.clock ?? { now: () => new Date() };
  const clientId = `fake-client-${randomBytes(6).toString('hex')}`;
  const clientSecret = randomBytes(16).toString('hex');
  const webhookId = options.webhookId ?? paypalId(17);
  const signingKey = PRIVATE_KEY_PEM;
  let otherKey: KeyObject | null = null;

  const requests: FakePayPalRequest[] = [];
  const events: PayPalWebhookEvent[] = [];
  const tokens = new Set<string>();
  const orders = new Map<string, OrderState>();
  const captures = new Map<string, CaptureState>();
  const disputes = new Map<string, Json>();
  const idempotent = new Map<string, Reply>();
  let nextFailure: { status: number; name: string; issue: string | undefined } | null = null;
  let refundStatus: string | null = null;
  let baseUrl = '';

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', 'http://fake');
      let body: unknown = raw === '' ? null : raw;
      try {
        body = raw === '' ? null : JSON.parse(raw);
      } catch {
        // form-encoded token request: keep the text
      }
      let reply: Reply;
      try {
        reply = route(request, url, body);
      } catch (error) {
        // A bug in the fake should fail the test now, not hang it until the SDK's timeout.
        reply = paypalError(500, 'INTERNAL_SERVER_ERROR', `Fake PayPal crashed: ${String(error)}`);
      }
      requests.push({
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: request.headers,
        body,
        status: reply.status,
      });
      response.writeHead(reply.status, {
        'content-type': reply.contentType ?? 'application/json',
        'paypal-debug-id': randomBytes(7).toString('hex'),
      });
      response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });

  function route(request: IncomingMessage, url: URL, body: unknown): Reply {
    const method = request.method ?? 'GET';
    const path = url.pathname;
    // Certificates are public on PayPal too (no token).
    if (method === 'GET' && path === CERT_PATH) {
      return { status: 200, body: CERTIFICATE_PEM, contentType: 'application/x-pem-file' };
    }
    if (nextFailure) {
      const failure = nextFailure;
      nextFailure = null;
      return paypalError(failure.status, failure.name, 'Injected failure', failure.issue);
    }
    if (method === 'POST' && path === '/v1/oauth2/token') return issueToken(request, body);
    if (!authorized(request.headers.authorization)) {
      return {
        status: 401,
        body: { error: 'invalid_token', error_description: 'Token signature verification failed' },
      };
    }

    const requestId = header(request, 'paypal-request-id');
    const key = requestId ? `${method} ${path} ${requestId}` : null;
    if (key && method === 'POST') {
      const earlier = idempotent.get(key);
      if (earlier) return earlier;
    }
    const reply = dispatch(method, path, url, body);
    if (key && method === 'POST' && reply.status < 500) idempotent.set(key, reply);
    return reply;
  }

  function dispatch(method: string, path: string, url: URL, body: unknown): Reply {
    if (method === 'POST' && path === '/v2/checkout/orders') return createOrder(body);
    if (method === 'GET' && path === '/v1/notifications/webhooks-events') return listEvents(url);
    const orderId = ORDER_PATH.exec(path)?.[1];
    if (method === 'GET' && orderId) {
      const state = orders.get(orderId);
      return state ? { status: 200, body: state.order } : notFound(`order ${orderId}`);
    }
    const captureOf = CAPTURE_PATH.exec(path)?.[1];
    if (method === 'POST' && captureOf) return captureOrder(captureOf);
    const refundOf = REFUND_PATH.exec(path)?.[1];
    if (method === 'POST' && refundOf) return refundCapture(refundOf, body);
    return notFound(path);
  }

  function issueToken(request: IncomingMessage, body: unknown): Reply {
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'Client Authentication failed' },
      };
    }
    if (typeof body !== 'string' || new URLSearchParams(body).get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'Grant Type is NULL' },
      };
    }
    const token = `A21AA${randomBytes(24).toString('base64url')}`;
    tokens.add(token);
    return {
      status: 200,
      body: {
        scope: 'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/webhooks',
        access_token: token,
        token_type: 'Bearer',
        app_id: 'APP-80W284485P519543T',
        expires_in: 32400,
        nonce: `${clock.now().toISOString()}${randomBytes(8).toString('hex')}`,
      },
    };
  }

  function authorized(value: string | undefined): boolean {
    const match = /^Bearer (.+)$/.exec(value ?? '');
    return Boolean(match?.[1] && tokens.has(match[1]));
  }

  function createOrder(body: unknown): Reply {
    const request = asObject(body);
    const intent = request.intent;
    if (intent !== 'CAPTURE' && intent !== 'AUTHORIZE') {
      return invalidRequest('INVALID_PARAMETER_VALUE', '/intent', 'intent must be CAPTURE or AUTHORIZE');
    }
    const units = Array.isArray(request.purchase_units) ? request.purchase_units.map(asObject) : [];
    if (units.length !== 1) {
      return invalidRequest('MISSING_REQUIRED_PARAMETER', '/purchase_units', 'one purchase unit expected');
    }
    const unit = units[0] as Json;
    const amount = asObject(unit.amount);
    const currency = String(amount.currency_code ?? '');
    const total = minorOf(amount.value, currency);
    if (total === 'precision')
      return unprocessable('DECIMAL_PRECISION', '/purchase_units/@reference_id/amount/value');
    if (total === null)
      return invalidRequest('INVALID_PARAMETER_VALUE', '/purchase_units/0/amount/value', 'bad amount');
    const breakdown = amount.breakdown === undefined ? null : asObject(amount.breakdown);
    const items = Array.isArray(unit.items) ? unit.items.map(asObject) : [];
    if (breakdown) {
      const part = (name: string) =>
        breakdown[name] === undefined ? 0 : minorOf(asObject(breakdown[name]).value, currency);
      const parts = [
        'item_total',
        'shipping',
        'handling',
        'tax_total',
        'insurance',
        'shipping_discount',
        'discount',
      ].map((name) => [name, part(name)] as const);
      if (parts.some(([, value]) => value === 'precision'))
        return unprocessable('DECIMAL_PRECISION', '/breakdown');
      if (parts.some(([, value]) => value === null))
        return unprocessable('INVALID_PARAMETER_VALUE', '/breakdown');
      const value = Object.fromEntries(parts) as Record<string, number>;
      let itemSum = 0;
      for (const item of items) {
        const unitAmount = minorOf(asObject(item.unit_amount).value, currency);
        if (unitAmount === 'precision') return unprocessable('DECIMAL_PRECISION', '/items/unit_amount');
        if (unitAmount === null) return unprocessable('INVALID_PARAMETER_VALUE', '/items/unit_amount');
        itemSum += unitAmount * Number(item.quantity);
      }
      if (items.length > 0 && itemSum !== value.item_total)
        return unprocessable('ITEM_TOTAL_MISMATCH', '/items');
      const expected =
        (value.item_total ?? 0) +
        (value.shipping ?? 0) +
        (value.handling ?? 0) +
        (value.tax_total ?? 0) +
        (value.insurance ?? 0) -
        (value.shipping_discount ?? 0) -
        (value.discount ?? 0);
      if (expected !== total)
        return unprocessable('AMOUNT_MISMATCH', '/purchase_units/@reference_id/amount/value');
    } else if (items.length > 0) {
      return unprocessable(
        'ITEM_TOTAL_REQUIRED',
        '/purchase_units/@reference_id/amount/breakdown/item_total',
      );
    }

    const id = paypalId(17);
    const now = clock.now().toISOString();
    const paymentSource = asObject(request.payment_source);
    const payerAction = paymentSource.paypal !== undefined;
    const order: Json = {
      id,
      intent,
      status: payerAction ? 'PAYER_ACTION_REQUIRED' : 'CREATED',
      payment_source: payerAction ? { paypal: {} } : undefined,
      purchase_units: [
        {
          ...unit,
          reference_id: unit.reference_id ?? 'default',
          payee: { email_address: 'merchant@example.com', merchant_id: 'FAKEMERCHANT01' },
        },
      ],
      create_time: now,
      links: [
        { href: `${baseUrl}/v2/checkout/orders/${id}`, rel: 'self', method: 'GET' },
        payerAction
          ? { href: `${baseUrl}/checkoutnow?token=${id}`, rel: 'payer-action', method: 'GET' }
          : { href: `${baseUrl}/checkoutnow?token=${id}`, rel: 'approve', method: 'GET' },
        { href: `${baseUrl}/v2/checkout/orders/${id}/capture`, rel: 'capture', method: 'POST' },
      ],
    };
    orders.set(id, { order: stripUndefined(order), declineNextCapture: false });
    return { status: 201, body: orders.get(id)?.order };
  }

  function captureOrder(orderId: string): Reply {
    const state = orders.get(orderId);
    if (!state) return notFound(`order ${orderId}`);
    const status = state.order.status;
    if (status === 'COMPLETED') return unprocessable('ORDER_ALREADY_CAPTURED', '', 'Order already captured.');
    if (status !== 'APPROVED')
      return unprocessable('ORDER_NOT_APPROVED', '', 'Payer has not yet approved the Order.');
    const unit = firstUnit(state.order);
    const amount = asObject(unit.amount);
    const currency = String(amount.currency_code);
    const captureId = paypalId(17);
    const now = clock.now().toISOString();
    const declined = state.declineNextCapture;
    state.declineNextCapture = false;
    const capture: Json = stripUndefined({
      id: captureId,
      status: declined ? 'DECLINED' : 'COMPLETED',
      amount: { currency_code: currency, value: amount.value },
      final_capture: true,
      seller_protection: {
        status: 'ELIGIBLE',
        dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'],
      },
      custom_id: unit.custom_id,
      invoice_id: unit.invoice_id,
      processor_response: declined ? { response_code: '5120' } : undefined,
      supplementary_data: { related_ids: { order_id: orderId } },
      create_time: now,
      update_time: now,
      links: [
        { href: `${baseUrl}/v2/payments/captures/${captureId}`, rel: 'self', method: 'GET' },
        { href: `${baseUrl}/v2/payments/captures/${captureId}/refund`, rel: 'refund', method: 'POST' },
        { href: `${baseUrl}/v2/checkout/orders/${orderId}`, rel: 'up', method: 'GET' },
      ],
    });
    unit.payments = { captures: [capture] };
    state.order.status = 'COMPLETED';
    state.order.update_time = now;
    captures.set(captureId, {
      capture,
      orderId,
      currency,
      amountMinor: minorOf(amount.value, currency) as number,
      refundedMinor: 0,
    });
    record(
      declined ? 'PAYMENT.CAPTURE.DECLINED' : 'PAYMENT.CAPTURE.COMPLETED',
      'capture',
      capture,
      declined ? 'Payment capture declined' : `Payment completed for ${currency} ${amount.value}`,
    );
    return { status: 201, body: state.order };
  }

  function refundCapture(captureId: string, body: unknown): Reply {
    const state = captures.get(captureId);
    if (!state) return notFound(`capture ${captureId}`);
    const captureStatus = state.capture.status;
    if (captureStatus === 'REFUNDED')
      return unprocessable('CAPTURE_FULLY_REFUNDED', '', 'The capture has already been fully refunded');
    if (captureStatus !== 'COMPLETED' && captureStatus !== 'PARTIALLY_REFUNDED') {
      return unprocessable('REFUND_NOT_ALLOWED', '', `Capture is ${String(captureStatus)}`);
    }
    const request = asObject(body);
    const remaining = state.amountMinor - state.refundedMinor;
    let amountMinor = remaining;
    if (request.amount !== undefined) {
      const amount = asObject(request.amount);
      if (amount.currency_code !== state.currency)
        return unprocessable('REFUND_CURRENCY_MISMATCH', '/amount/currency_code');
      const value = minorOf(amount.value, state.currency);
      if (value === 'precision') return unprocessable('DECIMAL_PRECISION', '/amount/value');
      if (value === null || value <= 0)
        return invalidRequest('INVALID_PARAMETER_VALUE', '/amount/value', 'bad amount');
      if (value > remaining)
        return unprocessable(
          'REFUND_AMOUNT_EXCEEDED',
          '/amount/value',
          'The refund amount must be less than or equal to the capture amount that has not yet been refunded.',
        );
      amountMinor = value;
    }
    const status = refundStatus ?? 'COMPLETED';
    refundStatus = null;
    const refundId = paypalId(17);
    const now = clock.now().toISOString();
    const value = minorToDecimalString(amountMinor, state.currency);
    const refund: Json = stripUndefined({
      id: refundId,
      status,
      amount: { currency_code: state.currency, value },
      // PayPal echoes the capture's custom_id on the refund unless the refund request set its own.
      custom_id: request.custom_id ?? state.capture.custom_id,
      invoice_id: request.invoice_id,
      note_to_payer: request.note_to_payer,
      seller_payable_breakdown: {
        gross_amount: { currency_code: state.currency, value },
        paypal_fee: { currency_code: state.currency, value: minorToDecimalString(0, state.currency) },
        net_amount: { currency_code: state.currency, value },
        total_refunded_amount: {
          currency_code: state.currency,
          value: minorToDecimalString(
            state.refundedMinor + (status === 'COMPLETED' ? amountMinor : 0),
            state.currency,
          ),
        },
      },
      create_time: now,
      update_time: now,
      links: [
        { href: `${baseUrl}/v2/payments/refunds/${refundId}`, rel: 'self', method: 'GET' },
        { href: `${baseUrl}/v2/payments/captures/${captureId}`, rel: 'up', method: 'GET' },
      ],
    });
    if (status === 'COMPLETED') {
      state.refundedMinor += amountMinor;
      state.capture.status = state.refundedMinor === state.amountMinor ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
      const payments = asObject(firstUnit(orders.get(state.orderId)?.order ?? {}).payments);
      payments.refunds = [...(Array.isArray(payments.refunds) ? payments.refunds : []), refund];
      record(
        'PAYMENT.CAPTURE.REFUNDED',
        'refund',
        refund,
        `A ${state.currency} ${value} capture payment was refunded`,
      );
    }
    return { status: 201, body: refund };
  }

  function listEvents(url: URL): Reply {
    const pageSize = Math.min(Math.max(Number(url.searchParams.get('page_size') ?? 10) || 10, 1), 300);
    const start = url.searchParams.get('start_time');
    const end = url.searchParams.get('end_time');
    const type = url.searchParams.get('event_type');
    const offset = Number(url.searchParams.get('page_start') ?? 0) || 0;
    // Newest first, as PayPal lists them.
    const matching = events
      .filter(
        (event) =>
          (!start || event.create_time >= new Date(start).toISOString()) &&
          (!end || event.create_time <= new Date(end).toISOString()) &&
          (!type || event.event_type === type),
      )
      .reverse();
    const page = matching.slice(offset, offset + pageSize);
    const links: Json[] = [];
    if (offset + pageSize < matching.length) {
      const next = new URL(`${baseUrl}/v1/notifications/webhooks-events`);
      for (const [name, value] of url.searchParams)
        if (name !== 'page_start') next.searchParams.set(name, value);
      next.searchParams.set('page_start', String(offset + pageSize));
      links.push({ href: next.href, rel: 'next', method: 'GET' });
    }
    return { status: 200, body: { events: page, count: page.length, links } };
  }

  function record(type: string, resourceType: string, resource: Json, summary: string): PayPalWebhookEvent {
    const id = `WH-${paypalId(17)}-${paypalId(17)}`;
    const event: PayPalWebhookEvent = {
      id,
      event_version: '1.0',
      create_time: clock.now().toISOString(),
      resource_type: resourceType,
      resource_version: '2.0',
      event_type: type,
      summary,
      // A snapshot: later changes to the order or capture do not rewrite history.
      resource: structuredClone(resource),
      links: [
        { href: `${baseUrl}/v1/notifications/webhooks-events/${id}`, rel: 'self', method: 'GET' },
        { href: `${baseUrl}/v1/notifications/webhooks-events/${id}/resend`, rel: 'resend', method: 'POST' },
      ],
    };
    events.push(event);
    return event;
  }

  function captureIdOf(orderId: string): string | undefined {
    const captured = asObject(firstUnit(orders.get(orderId)?.order ?? {}).payments).captures;
    const id = Array.isArray(captured) ? asObject(captured[0]).id : undefined;
    return typeof id === 'string' ? id : undefined;
  }

  function orderState(orderId: string): OrderState {
    const state = orders.get(orderId);
    if (!state) throw new Error(`fake PayPal has no order ${orderId}`);
    return state;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const certUrl = `${baseUrl}${CERT_PATH}`;

  return {
    baseUrl,
    clientId,
    clientSecret,
    webhookId,
    certUrl,
    certificatePem: CERTIFICATE_PEM,
    requests,
    events,
    order: (orderId) => orders.get(orderId)?.order,
    captureIdOf,
    approveOrder(orderId) {
      const state = orderState(orderId);
      if (state.order.status !== 'CREATED' && state.order.status !== 'PAYER_ACTION_REQUIRED') {
        throw new Error(`fake PayPal: order ${orderId} is ${String(state.order.status)}, cannot approve`);
      }
      state.order.status = 'APPROVED';
      state.order.payer = {
        name: { given_name: 'Test', surname: 'Buyer' },
        email_address: 'buyer@example.com',
        payer_id: 'FAKEPAYER0001',
      };
      state.order.update_time = clock.now().toISOString();
      return record(
        'CHECKOUT.ORDER.APPROVED',
        'checkout-order',
        state.order,
        'An order has been approved by buyer',
      );
    },
    denyCapture(orderId) {
      const state = orderState(orderId);
      const captureId = captureIdOf(orderId);
      if (!captureId) {
        state.declineNextCapture = true;
        return null;
      }
      const capture = captures.get(captureId) as CaptureState;
      capture.capture.status = 'DENIED';
      capture.capture.update_time = clock.now().toISOString();
      return record('PAYMENT.CAPTURE.DENIED', 'capture', capture.capture, 'A payment capture was denied');
    },
    voidOrder(orderId) {
      const state = orderState(orderId);
      state.order.status = 'VOIDED';
      state.order.update_time = clock.now().toISOString();
      return record('CHECKOUT.ORDER.VOIDED', 'checkout-order', state.order, 'An order has been voided');
    },
    openDispute(captureId, disputeOptions = {}) {
      const capture = captures.get(captureId);
      if (!capture) throw new Error(`fake PayPal has no capture ${captureId}`);
      const disputeId = `PP-D-${Math.floor(10000 + Math.random() * 89999)}`;
      const now = clock.now().toISOString();
      const amount = {
        currency_code: capture.currency,
        value: minorToDecimalString(disputeOptions.amountMinor ?? capture.amountMinor, capture.currency),
      };
      const dispute: Json = {
        dispute_id: disputeId,
        create_time: now,
        update_time: now,
        disputed_transactions: [
          {
            seller_transaction_id: captureId,
            seller: { merchant_id: 'FAKEMERCHANT01' },
            gross_amount: capture.capture.amount,
            custom: capture.capture.custom_id,
          },
        ],
        reason: disputeOptions.reason ?? 'MERCHANDISE_OR_SERVICE_NOT_RECEIVED',
        status: 'OPEN',
        dispute_amount: amount,
        dispute_life_cycle_stage: 'INQUIRY',
        dispute_channel: 'INTERNAL',
        links: [{ href: `${baseUrl}/v1/customer/disputes/${disputeId}`, rel: 'self', method: 'GET' }],
      };
      disputes.set(disputeId, dispute);
      return record('CUSTOMER.DISPUTE.CREATED', 'dispute', dispute, 'A new dispute opened');
    },
    resolveDispute(disputeId, outcome = 'RESOLVED_SELLER_FAVOUR') {
      const dispute = disputes.get(disputeId);
      if (!dispute) throw new Error(`fake PayPal has no dispute ${disputeId}`);
      dispute.status = 'RESOLVED';
      dispute.dispute_outcome = { outcome_code: outcome };
      dispute.update_time = clock.now().toISOString();
      return record('CUSTOMER.DISPUTE.RESOLVED', 'dispute', dispute, 'A dispute was resolved');
    },
    nextRefundStatus(status) {
      refundStatus = status;
    },
    revokeTokens() {
      tokens.clear();
    },
    failNext(status, name = 'INTERNAL_SERVER_ERROR', issue) {
      nextFailure = { status, name, issue };
    },
    signedDelivery(event, deliveryOptions = {}) {
      let body = Buffer.from(JSON.stringify(event), 'utf8');
      const transmissionId = randomUUID();
      const transmissionTime = deliveryOptions.transmissionTime ?? clock.now().toISOString();
      const message = `${transmissionId}|${transmissionTime}|${deliveryOptions.webhookId ?? webhookId}|${crc32(body) >>> 0}`;
      otherKey ??= deliveryOptions.wrongKey
        ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
        : null;
      const key = deliveryOptions.wrongKey ? (otherKey as KeyObject) : signingKey;
      const signature = sign('sha256', Buffer.from(message, 'utf8'), key).toString('base64');
      if (deliveryOptions.tamper) {
        body = Buffer.from(body);
        const index = body.findIndex((byte) => byte >= 0x30 && byte <= 0x39);
        body[index] = body[index] === 0x39 ? 0x38 : (body[index] as number) + 1;
      }
      return {
        body,
        headers: {
          'content-type': 'application/json',
          'paypal-transmission-id': transmissionId,
          'paypal-transmission-time': transmissionTime,
          'paypal-transmission-sig': signature,
          'paypal-cert-url': deliveryOptions.certUrl ?? certUrl,
          'paypal-auth-algo': 'SHA256withRSA',
          'user-agent': 'PayPal/AUHD-214.0-58843195',
        },
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** PayPal's ids: upper-case letters and digits (orders, captures, refunds are 17 long). */
function paypalId(length: number): string {
  const alphabet = 'ABCDEFGHJKLMNPRSTUVWXY0123456789';
  const bytes = randomBytes(length);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * PayPal wants exactly the currency's decimals at most ("100.00" JPY is DECIMAL_PRECISION).
 * Returns 'precision' for too many decimals, null for something that is not an amount.
 */
function minorOf(value: unknown, currency: string): number | null | 'precision' {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(currency)) return null;
  const match = DECIMAL.exec(value);
  if (!match) return null;
  const exponent = minorUnitExponent(currency);
  const fraction = match[1] ?? '';
  if (fraction.length > exponent) return 'precision';
  const [whole] = value.split('.');
  return Number(`${whole}${fraction.padEnd(exponent, '0')}`);
}

function firstUnit(order: Json): Json {
  const units = order.purchase_units;
  return Array.isArray(units) ? asObject(units[0]) : {};
}

function asObject(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function stripUndefined(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function paypalError(status: number, name: string, message: string, issue?: string, field?: string): Reply {
  return {
    status,
    body: {
      name,
      message,
      debug_id: randomBytes(7).toString('hex'),
      details: issue ? [{ ...(field ? { field, location: 'body' } : {}), issue, description: message }] : [],
      links: issue
        ? [
            {
              href: `https://developer.paypal.com/api/rest/reference/orders/v2/errors/#${issue}`,
              rel: 'information_link',
              method: 'GET',
            },
          ]
        : [],
    },
  };
}

function unprocessable(issue: string, field: string, description?: string): Reply {
  return paypalError(
    422,
    'UNPROCESSABLE_ENTITY',
    description ??
      'The requested action could not be performed, semantically incorrect, or failed business validation.',
    issue,
    field || undefined,
  );
}

function invalidRequest(issue: string, field: string, description: string): Reply {
  return paypalError(
    400,
    'INVALID_REQUEST',
    `Request is not well-formed, syntactically incorrect, or violates schema. ${description}`,
    issue,
    field,
  );
}

function notFound(what: string): Reply {
  return paypalError(
    404,
    'RESOURCE_NOT_FOUND',
    `The specified resource does not exist: ${what}`,
    'INVALID_RESOURCE_ID',
  );
}
