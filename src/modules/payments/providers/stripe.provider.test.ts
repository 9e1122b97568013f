import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeStripe,
  type FakeStripeEvent,
  startFakeStripe,
} from '../../../../test/fakes/stripe-server.ts';
import { createFakeClock, type FakeClock } from '../../../platform/clock/clock.ts';
import { type Config, loadConfig } from '../../../platform/config/config.ts';
import { AppError } from '../../../platform/errors/index.ts';
import type { CreatePaymentInput, PaymentProvider, ProviderEvent } from './payment-provider.port.ts';
import { createStripeProvider } from './stripe.provider.ts';

type StripeConfig = NonNullable<Config['payments']['stripe']>;

const PUBLIC_URL = 'https://shop.example';
const TOLERANCE_SECONDS = 300;

function stripeConfig(fake: FakeStripe, mode: StripeConfig['mode']): StripeConfig {
  const config = loadConfig({
    PAYMENT_PROVIDER: 'stripe',
    STRIPE_SECRET_KEY: fake.secretKey,
    STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
    STRIPE_API_BASE_URL: fake.baseUrl,
    STRIPE_CHECKOUT_MODE: mode,
    STRIPE_WEBHOOK_TOLERANCE_SECONDS: String(TOLERANCE_SECONDS),
  });
  return config.payments.stripe!;
}

function paymentInput(overrides: Partial<CreatePaymentInput> = {}): CreatePaymentInput {
  const paymentId = randomUUID();
  return {
    paymentId,
    orderId: randomUUID(),
    orderNumber: 1042,
    amountMinor: 3000,
    currency: 'USD',
    description: 'Caravan order #1042',
    buyerEmail: 'buyer@example.com',
    lines: [{ title: 'Stoneware mug', quantity: 2, unitPriceMinor: 1250 }],
    returnUrl: '/checkout/return',
    cancelUrl: 'https://shop.example/cart',
    idempotencyKey: `payment:${paymentId}`,
    ...overrides,
  };
}

interface Harness {
  fake: FakeStripe;
  clock: FakeClock;
  sessions: PaymentProvider;
  intents: PaymentProvider;
  deliver(
    event: FakeStripeEvent,
    options?: { secret?: string; timestamp?: number; tamper?: boolean },
  ): Promise<ProviderEvent>;
  postsWithKey(key: string): FakeStripe['requests'];
}

async function startHarness(start = '2026-03-01T12:00:00Z'): Promise<Harness> {
  const clock = createFakeClock(start);
  const fake = await startFakeStripe({ now: () => clock.now() });
  const sessions = await createStripeProvider({
    config: stripeConfig(fake, 'checkout_session'),
    clock,
    publicUrl: PUBLIC_URL,
  });
  const intents = await createStripeProvider({
    config: stripeConfig(fake, 'payment_intent'),
    clock,
    publicUrl: PUBLIC_URL,
  });
  return {
    fake,
    clock,
    sessions,
    intents,
    deliver(event, options) {
      const delivery = fake.signedDelivery(event, options);
      return sessions.verifyWebhook({ rawBody: Buffer.from(delivery.body), headers: delivery.headers });
    },
    postsWithKey: (key) =>
      fake.requests.filter((request) => request.method === 'POST' && request.idempotencyKey === key),
  };
}

function only(events: FakeStripeEvent[], type: string): FakeStripeEvent {
  const matching = events.filter((event) => event.type === type);
  expect(matching).toHaveLength(1);
  return matching[0]!;
}

describe('stripe provider: creating payments', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.fake.close();
  });

  it('creates a Checkout Session with our amounts, metadata, return URLs and idempotency key', async () => {
    const input = paymentInput();
    const created = await h.sessions.createPayment(input);

    expect(created.providerRef).toMatch(/^cs_test_/);
    expect(created.clientSecret).toBeNull();
    const session = h.fake.session(created.providerRef)!;
    expect(created.redirectUrl).toBe(session.url);
    expect(session).toMatchObject({ amount_total: 3000, currency: 'usd', status: 'open' });

    const [request] = h.postsWithKey(input.idempotencyKey);
    expect(request).toMatchObject({ path: '/v1/checkout/sessions', replayed: false, status: 200 });
    const metadata = { payment_id: input.paymentId, order_id: input.orderId, order_number: '1042' };
    expect(request!.body).toEqual({
      mode: 'payment',
      client_reference_id: input.paymentId,
      customer_email: 'buyer@example.com',
      metadata,
      payment_intent_data: { metadata, description: 'Caravan order #1042' },
      success_url: 'https://shop.example/checkout/return',
      cancel_url: 'https://shop.example/cart',
      line_items: [
        {
          quantity: '2',
          price_data: { currency: 'usd', unit_amount: '1250', product_data: { name: 'Stoneware mug' } },
        },
        // 3000 − 2 × 1250: what the lines do not cover is shown as its own line.
        {
          quantity: '1',
          price_data: { currency: 'usd', unit_amount: '500', product_data: { name: 'Shipping and fees' } },
        },
      ],
    });
  });

  it('returns the same session for a retried create; a different request under that key is refused', async () => {
    const input = paymentInput();
    const first = await h.sessions.createPayment(input);
    const again = await h.sessions.createPayment(input);

    expect(again).toEqual(first);
    expect(h.postsWithKey(input.idempotencyKey).map((request) => request.replayed)).toEqual([false, true]);

    const changed = h.sessions.createPayment({ ...input, amountMinor: 3100 });
    await expect(changed).rejects.toBeInstanceOf(AppError);
    await expect(changed).rejects.toMatchObject({
      code: 'payment_provider_error',
      details: { provider: 'stripe', stripeType: 'StripeIdempotencyError', status: 400 },
    });
  });

  it('sends KRW in whole won and shows a discounted order as one line for the exact total', async () => {
    const input = paymentInput({
      currency: 'KRW',
      amountMinor: 50_000,
      orderNumber: 77,
      lines: [{ title: '한지 노트', quantity: 1, unitPriceMinor: 55_000 }],
    });
    const created = await h.sessions.createPayment(input);

    const [request] = h.postsWithKey(input.idempotencyKey);
    expect(request!.body.line_items).toEqual([
      {
        quantity: '1',
        price_data: { currency: 'krw', unit_amount: '50000', product_data: { name: 'Order #77' } },
      },
    ]);
    expect(h.fake.session(created.providerRef)).toMatchObject({ amount_total: 50_000, currency: 'krw' });
  });

  it("converts ISK to Stripe's two-decimal form on the way out and back to whole krónur in events", async () => {
    const input = paymentInput({
      currency: 'ISK',
      amountMinor: 5000,
      lines: [{ title: 'Lopapeysa', quantity: 1, unitPriceMinor: 5000 }],
    });
    const { providerRef } = await h.sessions.createPayment(input);

    const [request] = h.postsWithKey(input.idempotencyKey);
    expect(request!.body.line_items).toEqual([
      {
        quantity: '1',
        price_data: { currency: 'isk', unit_amount: '500000', product_data: { name: 'Lopapeysa' } },
      },
    ]);
    const completed = h.fake
      .completeSession(providerRef)
      .find((e) => e.type === 'checkout.session.completed')!;
    const delivery = h.fake.signedDelivery(completed);
    const mapped = await h.sessions.verifyWebhook({
      rawBody: Buffer.from(delivery.body),
      headers: delivery.headers,
    });
    expect(mapped).toMatchObject({ action: 'captured', amountMinor: 5000, currency: 'ISK' });
  });

  it('creates a PaymentIntent in payment_intent mode and returns its client secret', async () => {
    const input = paymentInput({ amountMinor: 4599, currency: 'EUR' });
    const created = await h.intents.createPayment(input);

    expect(created.providerRef).toMatch(/^pi_/);
    expect(created.redirectUrl).toBeNull();
    expect(created.clientSecret).toBe(h.fake.paymentIntent(created.providerRef)!.client_secret);
    expect(created.clientSecret).toMatch(new RegExp(`^${created.providerRef}_secret_`));

    const [request] = h.postsWithKey(input.idempotencyKey);
    expect(request).toMatchObject({ path: '/v1/payment_intents', status: 200 });
    expect(request!.body).toEqual({
      amount: '4599',
      currency: 'eur',
      description: 'Caravan order #1042',
      metadata: { payment_id: input.paymentId, order_id: input.orderId, order_number: '1042' },
      automatic_payment_methods: { enabled: 'true' },
    });
    expect(await h.intents.createPayment(input)).toEqual(created);
  });

  it('rides out a Stripe 500 with one retry under the same key, creating one session', async () => {
    const input = paymentInput();
    const before = h.fake.events.length;
    h.fake.failNext(500);
    const created = await h.sessions.createPayment(input);

    expect(created.providerRef).toMatch(/^cs_test_/);
    expect(h.postsWithKey(input.idempotencyKey).map((request) => request.status)).toEqual([500, 200]);
    expect(h.fake.events.length).toBe(before);
  });

  it('turns a refused key into payment_provider_error without echoing the key', async () => {
    const wrongKey = `sk_test_${'x'.repeat(24)}wxyz`;
    const provider = await createStripeProvider({
      config: { ...stripeConfig(h.fake, 'checkout_session'), secretKey: wrongKey },
      clock: h.clock,
      publicUrl: PUBLIC_URL,
    });
    let error: unknown;
    try {
      await provider.createPayment(paymentInput());
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(502);
    expect(error).toMatchObject({
      code: 'payment_provider_error',
      details: { stripeType: 'StripeAuthenticationError', stripeCode: 'api_key_invalid', status: 401 },
    });
    const visible = `${(error as AppError).message} ${JSON.stringify((error as AppError).details)}`;
    expect(visible).not.toContain('wxyz');
    expect(visible).not.toMatch(/sk_test_/);
  });
});

describe('stripe provider: webhooks', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.fake.close();
  });

  async function paidSession() {
    const input = paymentInput();
    const { providerRef } = await h.sessions.createPayment(input);
    const events = h.fake.completeSession(providerRef);
    const paymentIntentId = h.fake.session(providerRef)!.payment_intent as string;
    return { input, sessionId: providerRef, paymentIntentId, events };
  }

  it('maps a paid checkout.session.completed to captured, with the PaymentIntent behind it', async () => {
    const { input, sessionId, paymentIntentId, events } = await paidSession();
    const event = only(events, 'checkout.session.completed');

    expect(await h.deliver(event)).toEqual({
      eventId: event.id,
      type: 'checkout.session.completed',
      action: 'captured',
      paymentRef: sessionId,
      secondaryRef: paymentIntentId,
      ourPaymentId: input.paymentId,
      amountMinor: 3000,
      currency: 'USD',
      refund: null,
      disputeRef: null,
      failureCode: null,
      occurredAt: new Date(event.created * 1000),
      payload: JSON.parse(JSON.stringify(event)),
    });
  });

  it("maps the session's PaymentIntent events with our payment id from payment_intent_data", async () => {
    const { input, paymentIntentId, events } = await paidSession();

    expect(await h.deliver(only(events, 'payment_intent.succeeded'))).toMatchObject({
      action: 'captured',
      paymentRef: paymentIntentId,
      ourPaymentId: input.paymentId,
      amountMinor: 3000,
      currency: 'USD',
    });
    // Types that change nothing are still verified and recorded, as `ignored`.
    expect(await h.deliver(only(events, 'charge.succeeded'))).toMatchObject({
      action: 'ignored',
      type: 'charge.succeeded',
    });
    expect(await h.deliver(only(events, 'payment_intent.created'))).toMatchObject({ action: 'ignored' });
  });

  it('maps delayed payment methods: completed-unpaid is ignored, then succeeded or failed', async () => {
    const good = await h.sessions.createPayment(paymentInput());
    const pending = only(
      h.fake.completeSession(good.providerRef, { async: true }),
      'checkout.session.completed',
    );
    expect(await h.deliver(pending)).toMatchObject({ action: 'ignored', paymentRef: good.providerRef });
    const succeeded = h.fake.settleAsyncSession(good.providerRef, 'succeeded');
    expect(await h.deliver(only(succeeded, 'checkout.session.async_payment_succeeded'))).toMatchObject({
      action: 'captured',
      paymentRef: good.providerRef,
      amountMinor: 3000,
    });

    const bad = await h.sessions.createPayment(paymentInput());
    h.fake.completeSession(bad.providerRef, { async: true });
    const failed = h.fake.settleAsyncSession(bad.providerRef, 'failed');
    expect(await h.deliver(only(failed, 'checkout.session.async_payment_failed'))).toMatchObject({
      action: 'failed',
      paymentRef: bad.providerRef,
      secondaryRef: h.fake.session(bad.providerRef)!.payment_intent,
    });
  });

  it('maps checkout.session.expired to canceled', async () => {
    const input = paymentInput();
    const { providerRef } = await h.sessions.createPayment(input);
    const event = only(h.fake.expireSession(providerRef), 'checkout.session.expired');
    expect(await h.deliver(event)).toMatchObject({
      action: 'canceled',
      paymentRef: providerRef,
      secondaryRef: null,
      ourPaymentId: input.paymentId,
    });
  });

  it('maps PaymentIntent authorization, success, decline and cancellation', async () => {
    const input = paymentInput({ amountMinor: 4599, currency: 'EUR' });
    const { providerRef } = await h.intents.createPayment(input);
    const authorized = only(
      h.fake.authorizePaymentIntent(providerRef),
      'payment_intent.amount_capturable_updated',
    );
    expect(await h.deliver(authorized)).toMatchObject({
      action: 'authorized',
      paymentRef: providerRef,
      ourPaymentId: input.paymentId,
      amountMinor: 4599,
      currency: 'EUR',
    });
    const succeeded = only(h.fake.succeedPaymentIntent(providerRef), 'payment_intent.succeeded');
    expect(await h.deliver(succeeded)).toMatchObject({ action: 'captured', amountMinor: 4599 });

    const declined = await h.intents.createPayment(paymentInput());
    const withDecline = only(
      h.fake.failPaymentIntent(declined.providerRef, 'card_declined', 'insufficient_funds'),
      'payment_intent.payment_failed',
    );
    expect(await h.deliver(withDecline)).toMatchObject({
      action: 'failed',
      paymentRef: declined.providerRef,
      failureCode: 'insufficient_funds',
    });
    const withCode = only(
      h.fake.failPaymentIntent(declined.providerRef, 'expired_card'),
      'payment_intent.payment_failed',
    );
    expect(await h.deliver(withCode)).toMatchObject({ action: 'failed', failureCode: 'expired_card' });

    await h.intents.cancelPayment({
      providerRef: declined.providerRef,
      idempotencyKey: `cancel:${randomUUID()}`,
    });
    const canceled = h.fake.events.findLast(
      (event) => event.type === 'payment_intent.canceled' && event.data.object.id === declined.providerRef,
    )!;
    expect(await h.deliver(canceled)).toMatchObject({ action: 'canceled', paymentRef: declined.providerRef });
  });

  it('maps charge.refunded to the running refunded total and the newest refund', async () => {
    const { input, sessionId, paymentIntentId } = await paidSession();
    const refund = await h.sessions.refund({
      providerRef: sessionId,
      secondaryRef: paymentIntentId,
      amountMinor: 1000,
      currency: 'USD',
      idempotencyKey: `refund:${randomUUID()}`,
      reason: null,
      refundId: randomUUID(),
    });
    const event = h.fake.events.findLast((candidate) => candidate.type === 'charge.refunded')!;
    expect(await h.deliver(event)).toMatchObject({
      action: 'refunded',
      paymentRef: paymentIntentId,
      ourPaymentId: input.paymentId,
      currency: 'USD',
      refund: { refundRef: refund.refundRef, amountMinor: null, totalRefundedMinor: 1000 },
    });

    // Refunds made in the Dashboard arrive the same way; without the refunds list (API versions
    // since 2022-11-15) only the total is known.
    const dashboard = only(h.fake.refundCharge(paymentIntentId, { amount: 500 }), 'charge.refunded');
    const { refunds: _refunds, ...chargeWithoutList } = dashboard.data.object;
    const bare = h.fake.recordEvent('charge.refunded', {
      ...chargeWithoutList,
      id: dashboard.data.object.id,
    });
    expect(await h.deliver(bare)).toMatchObject({
      action: 'refunded',
      refund: { refundRef: null, amountMinor: null, totalRefundedMinor: 1500 },
    });
  });

  it('maps dispute creation and closing', async () => {
    const { paymentIntentId } = await paidSession();
    const created = only(h.fake.openDispute(paymentIntentId, { amount: 3000 }), 'charge.dispute.created');
    const disputeId = created.data.object.id;
    expect(disputeId).toMatch(/^dp_/);
    expect(await h.deliver(created)).toMatchObject({
      action: 'disputed',
      paymentRef: paymentIntentId,
      disputeRef: disputeId,
      amountMinor: 3000,
      currency: 'USD',
      // Disputes carry no metadata of ours: they are matched by the PaymentIntent.
      ourPaymentId: null,
    });
    const closed = only(h.fake.closeDispute(disputeId, 'won'), 'charge.dispute.closed');
    expect(await h.deliver(closed)).toMatchObject({
      action: 'dispute_closed',
      paymentRef: paymentIntentId,
      disputeRef: disputeId,
    });
  });

  it('records a type it does not use as ignored', async () => {
    const event = h.fake.recordEvent('customer.created', { id: 'cus_123', object: 'customer' });
    expect(await h.deliver(event)).toMatchObject({
      eventId: event.id,
      type: 'customer.created',
      action: 'ignored',
      paymentRef: null,
      ourPaymentId: null,
    });
  });

  it('accepts small clock skew and a delivery just inside the tolerance', async () => {
    const event = h.fake.recordEvent('customer.created', { id: 'cus_456', object: 'customer' });
    const nowSeconds = Math.floor(h.clock.now().getTime() / 1000);
    await expect(h.deliver(event, { timestamp: nowSeconds + 20 })).resolves.toMatchObject({
      eventId: event.id,
    });
    await expect(h.deliver(event, { timestamp: nowSeconds - TOLERANCE_SECONDS })).resolves.toMatchObject({
      eventId: event.id,
    });
  });

  describe('refuses deliveries not proven to come from Stripe', () => {
    async function refused(attempt: Promise<unknown>, reason: RegExp) {
      const error = await attempt.then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('webhook_signature_invalid');
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).message).toMatch(reason);
    }

    let event: FakeStripeEvent;
    beforeAll(async () => {
      event = only((await paidSession()).events, 'checkout.session.completed');
    });

    it('without a stripe-signature header', async () => {
      const { body } = h.fake.signedDelivery(event);
      await refused(
        h.sessions.verifyWebhook({
          rawBody: Buffer.from(body),
          headers: { 'content-type': 'application/json' },
        }),
        /header is missing/,
      );
    });

    it('signed with another secret', async () => {
      await refused(h.deliver(event, { secret: 'whsec_someone_else' }), /does not verify/);
    });

    it('with the body changed by one byte after signing', async () => {
      const { body } = h.fake.signedDelivery(event, { tamper: true });
      const original = h.fake.signedDelivery(event).body;
      expect(body.length).toBe(original.length);
      expect([...body].filter((char, index) => char !== original[index])).toHaveLength(1);
      await refused(h.deliver(event, { tamper: true }), /does not verify/);
    });

    it('signed longer ago than the tolerance', async () => {
      const stale = Math.floor(h.clock.now().getTime() / 1000) - TOLERANCE_SECONDS - 1;
      await refused(h.deliver(event, { timestamp: stale }), /tolerance/);
    });

    it('signed an hour in the future', async () => {
      const ahead = Math.floor(h.clock.now().getTime() / 1000) + 3600;
      await refused(h.deliver(event, { timestamp: ahead }), /in the future/);
    });

    it('with a header that repeats the timestamp', async () => {
      const { body, headers } = h.fake.signedDelivery(event);
      const doubled = `${headers['stripe-signature']},t=1`;
      await refused(
        h.sessions.verifyWebhook({ rawBody: Buffer.from(body), headers: { 'stripe-signature': doubled } }),
        /single timestamp/,
      );
    });
  });
});

describe('stripe provider: refunds and cancellation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.fake.close();
  });

  async function capturedIntent(amountMinor = 4599) {
    const input = paymentInput({ amountMinor, currency: 'EUR' });
    const { providerRef } = await h.intents.createPayment(input);
    h.fake.succeedPaymentIntent(providerRef);
    const chargeId = h.fake.paymentIntent(providerRef)!.latest_charge as string;
    return { input, providerRef, chargeId };
  }

  it('refunds part, then the rest, each once under its idempotency key', async () => {
    const { providerRef, chargeId } = await capturedIntent();
    const partial = {
      providerRef,
      secondaryRef: null,
      amountMinor: 1000,
      currency: 'EUR',
      idempotencyKey: `refund:${randomUUID()}`,
      reason: 'requested_by_customer',
      refundId: randomUUID(),
    };
    const first = await h.intents.refund(partial);
    expect(first).toEqual({ refundRef: expect.stringMatching(/^re_/), status: 'succeeded' });
    const [request] = h.postsWithKey(partial.idempotencyKey);
    expect(request).toMatchObject({ path: '/v1/refunds', status: 200 });
    expect(request!.body).toEqual({
      payment_intent: providerRef,
      amount: '1000',
      metadata: { refund_id: partial.refundId },
      reason: 'requested_by_customer',
    });

    expect(await h.intents.refund(partial)).toEqual(first);
    expect(h.fake.charge(chargeId)).toMatchObject({ amount_refunded: 1000, refunded: false });

    const rest = await h.intents.refund({
      ...partial,
      amountMinor: 3599,
      idempotencyKey: `refund:${randomUUID()}`,
      reason: 'changed their mind at the door',
      refundId: randomUUID(),
    });
    expect(rest.status).toBe('succeeded');
    expect(rest.refundRef).not.toBe(first.refundRef);
    expect(h.fake.refund(rest.refundRef)).toMatchObject({
      amount: 3599,
      reason: null,
      metadata: { reason: 'changed their mind at the door' },
    });
    expect(h.fake.charge(chargeId)).toMatchObject({ amount_refunded: 4599, refunded: true });

    const beyond = h.intents.refund({ ...partial, amountMinor: 1, idempotencyKey: `refund:${randomUUID()}` });
    await expect(beyond).rejects.toMatchObject({
      code: 'payment_provider_error',
      details: { stripeType: 'StripeInvalidRequestError', stripeCode: 'charge_already_refunded' },
    });
  });

  it('refunds a Checkout payment through its PaymentIntent, reading it from the session when unknown', async () => {
    const { providerRef: sessionId } = await h.sessions.createPayment(paymentInput());
    h.fake.completeSession(sessionId);
    const paymentIntentId = h.fake.session(sessionId)!.payment_intent as string;
    const before = h.fake.requests.length;

    const refund = await h.sessions.refund({
      providerRef: sessionId,
      secondaryRef: null,
      amountMinor: 3000,
      currency: 'USD',
      idempotencyKey: `refund:${randomUUID()}`,
      reason: null,
      refundId: randomUUID(),
    });

    const sent = h.fake.requests.slice(before).map((request) => `${request.method} ${request.path}`);
    expect(sent).toEqual([`GET /v1/checkout/sessions/${sessionId}`, 'POST /v1/refunds']);
    expect(h.fake.refund(refund.refundRef)).toMatchObject({ payment_intent: paymentIntentId, amount: 3000 });
  });

  it('reports a refund Stripe has not settled yet as pending', async () => {
    const { providerRef } = await capturedIntent();
    h.fake.setRefundStatus('pending');
    try {
      const refund = await h.intents.refund({
        providerRef,
        secondaryRef: null,
        amountMinor: 4599,
        currency: 'EUR',
        idempotencyKey: `refund:${randomUUID()}`,
        reason: null,
        refundId: randomUUID(),
      });
      expect(refund.status).toBe('pending');
    } finally {
      h.fake.setRefundStatus('succeeded');
    }
  });

  it('expires an open Checkout Session, and is quiet when there is nothing left to cancel', async () => {
    const { providerRef } = await h.sessions.createPayment(paymentInput());
    const key = `cancel:${randomUUID()}`;
    await h.sessions.cancelPayment({ providerRef, idempotencyKey: key });
    expect(h.fake.session(providerRef)!.status).toBe('expired');
    expect(h.postsWithKey(key).map((request) => request.path)).toEqual([
      `/v1/checkout/sessions/${providerRef}/expire`,
    ]);

    await expect(
      h.sessions.cancelPayment({ providerRef, idempotencyKey: `cancel:${randomUUID()}` }),
    ).resolves.toBeUndefined();

    const paid = await h.sessions.createPayment(paymentInput());
    h.fake.completeSession(paid.providerRef);
    await expect(
      h.sessions.cancelPayment({ providerRef: paid.providerRef, idempotencyKey: `cancel:${randomUUID()}` }),
    ).resolves.toBeUndefined();
    expect(h.fake.session(paid.providerRef)!.status).toBe('complete');
  });

  it('cancels a PaymentIntent, and is quiet when it is already canceled, paid or unknown', async () => {
    const { providerRef } = await h.intents.createPayment(paymentInput());
    const key = `cancel:${randomUUID()}`;
    await h.intents.cancelPayment({ providerRef, idempotencyKey: key });
    expect(h.fake.paymentIntent(providerRef)!.status).toBe('canceled');
    expect(h.postsWithKey(key).map((request) => request.path)).toEqual([
      `/v1/payment_intents/${providerRef}/cancel`,
    ]);

    await expect(
      h.intents.cancelPayment({ providerRef, idempotencyKey: `cancel:${randomUUID()}` }),
    ).resolves.toBeUndefined();
    const { providerRef: paid } = await capturedIntent();
    await expect(
      h.intents.cancelPayment({ providerRef: paid, idempotencyKey: `cancel:${randomUUID()}` }),
    ).resolves.toBeUndefined();
    expect(h.fake.paymentIntent(paid)!.status).toBe('succeeded');
    await expect(
      h.intents.cancelPayment({ providerRef: 'pi_doesnotexist', idempotencyKey: `cancel:${randomUUID()}` }),
    ).resolves.toBeUndefined();
  });

  it('sends the caller’s idempotency key, not an SDK-made one, on every money POST', async () => {
    const before = h.fake.requests.length;
    const keys = new Set<string>();
    const key = (name: string) => {
      const value = `${name}:${randomUUID()}`;
      keys.add(value);
      return value;
    };
    const session = await h.sessions.createPayment(paymentInput({ idempotencyKey: key('payment') }));
    await h.sessions.cancelPayment({ providerRef: session.providerRef, idempotencyKey: key('cancel') });
    const intent = await h.intents.createPayment(paymentInput({ idempotencyKey: key('payment') }));
    h.fake.succeedPaymentIntent(intent.providerRef);
    await h.intents.refund({
      providerRef: intent.providerRef,
      secondaryRef: null,
      amountMinor: 100,
      currency: 'USD',
      idempotencyKey: key('refund'),
      reason: null,
      refundId: randomUUID(),
    });

    const posts = h.fake.requests.slice(before).filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(4);
    for (const post of posts) expect(keys.has(post.idempotencyKey ?? '')).toBe(true);
  });
});

describe('stripe provider: listing events for reconciliation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('2026-04-01T08:00:00Z');
  });
  afterAll(async () => {
    await h?.fake.close();
  });

  it('returns the events recorded since a time, oldest first, mapped like webhooks', async () => {
    const early = await h.sessions.createPayment(paymentInput());
    h.fake.completeSession(early.providerRef);

    h.clock.advance(10 * 60_000);
    const since = h.clock.now();
    const input = paymentInput();
    const late = await h.sessions.createPayment(input);
    const completion = h.fake.completeSession(late.providerRef);
    h.clock.advance(60_000);
    const expired = await h.sessions.createPayment(paymentInput());
    const expiry = h.fake.expireSession(expired.providerRef);

    const listed = await h.sessions.listEvents({ since, limit: 50 });

    // Only the types that matter, in the order Stripe recorded them.
    const expected = [
      only(completion, 'payment_intent.succeeded'),
      only(completion, 'checkout.session.completed'),
      only(expiry, 'checkout.session.expired'),
    ];
    expect(listed.map((event) => event.eventId)).toEqual(expected.map((event) => event.id));
    expect(listed.map((event) => event.action)).toEqual(['captured', 'captured', 'canceled']);
    expect(listed[1]).toEqual(await h.deliver(expected[1]!));
    expect(listed[1]).toMatchObject({ paymentRef: late.providerRef, ourPaymentId: input.paymentId });

    const request = h.fake.requests.findLast((candidate) => candidate.path === '/v1/events')!;
    expect(request.query).toMatchObject({
      created: { gte: String(Math.floor(since.getTime() / 1000)) },
      types: expect.arrayContaining([
        'checkout.session.completed',
        'charge.refunded',
        'charge.dispute.closed',
      ]),
    });
  });

  it('pages through more than one page; past `limit` it keeps the newest, still oldest first', async () => {
    h.clock.set('2026-04-02T00:00:00Z');
    const since = h.clock.now();
    const recorded: FakeStripeEvent[] = [];
    for (let index = 0; index < 130; index += 1) {
      h.clock.advance(1000);
      recorded.push(
        h.fake.recordEvent('payment_intent.canceled', {
          id: `pi_bulk${index}`,
          object: 'payment_intent',
          amount: 100,
          currency: 'usd',
          metadata: {},
        }),
      );
    }
    const eventPages = (from: number) =>
      h.fake.requests.slice(from).filter((request) => request.path === '/v1/events');

    let before = h.fake.requests.length;
    const all = await h.sessions.listEvents({ since, limit: 500 });
    expect(all.map((event) => event.eventId)).toEqual(recorded.map((event) => event.id));
    const pages = eventPages(before);
    expect(pages.map((page) => page.query.limit)).toEqual(['100', '100']);
    expect(pages[1]!.query.starting_after).toBe(recorded[30]!.id);

    before = h.fake.requests.length;
    const newest = await h.sessions.listEvents({ since, limit: 5 });
    expect(newest.map((event) => event.eventId)).toEqual(recorded.slice(-5).map((event) => event.id));
    expect(newest.every((event) => event.action === 'canceled')).toBe(true);
    expect(eventPages(before)).toHaveLength(1);
  });
});
