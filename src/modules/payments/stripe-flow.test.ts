import { and, count, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addToCart,
  checkout,
  orderRow,
  placeOrder,
  stockedVariant,
  stockOf,
  waitForOrder,
} from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import {
  countPaymentEvents,
  orderPayments,
  paidEffects,
  paymentRow,
  postRefund,
  postWebhook,
  providerRefOf,
  waitForProcessedEvents,
} from '../../../test/factories/payments.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { type FakeStripe, type FakeStripeEvent, startFakeStripe } from '../../../test/fakes/stripe-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { orderEvents } from '../orders/orders.tables.ts';
import { paymentEvents, payments, refunds } from './payments.tables.ts';

interface StripeWorld {
  readonly app: TestApp;
  readonly fake: FakeStripe;
  close(): Promise<void>;
}

/** The real app with the real Stripe adapter pointed at a loopback fake of Stripe's API. */
async function startStripeWorld(mode: 'checkout_session' | 'payment_intent' = 'checkout_session') {
  const fake = await startFakeStripe();
  const app = await buildTestApp({
    env: {
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: fake.secretKey,
      STRIPE_WEBHOOK_SECRET: fake.webhookSecret,
      STRIPE_API_BASE_URL: fake.baseUrl,
      STRIPE_CHECKOUT_MODE: mode,
      LOG_LEVEL: process.env.FLOW_LOG ?? 'silent',
    },
  });
  return {
    app,
    fake,
    async close() {
      await app.close();
      await fake.close();
    },
  } satisfies StripeWorld;
}

function deliver(
  world: StripeWorld,
  event: FakeStripeEvent,
  options?: Parameters<FakeStripe['signedDelivery']>[1],
) {
  return postWebhook(world.app, 'stripe', world.fake.signedDelivery(event, options));
}

/** Delivers each event once, in order, as Stripe would; every delivery must be accepted. */
async function deliverAll(world: StripeWorld, events: readonly FakeStripeEvent[]) {
  for (const event of events) {
    const response = await deliver(world, event);
    expect(response.statusCode, `${event.type}: ${response.body}`).toBe(200);
  }
  await waitForProcessedEvents(
    world.app,
    'stripe',
    events.map((event) => event.id),
  );
}

function getOrder(app: TestApp, user: TestUser, orderId: string) {
  return app.http.inject({ url: `/api/orders/${orderId}`, headers: user.headers });
}

/** The events the fake recorded from `from` on (what Stripe would send after an API call). */
const eventsSince = (fake: FakeStripe, from: number, type?: string) =>
  fake.events.slice(from).filter((event) => type === undefined || event.type === type);

describe('Stripe Checkout Sessions end to end', () => {
  let world: StripeWorld;
  let staff: TestUser;
  beforeAll(async () => {
    world = await startStripeWorld('checkout_session');
    staff = await createUser(world.app, { roles: ['staff'] });
  });
  afterAll(() => world?.close());

  it('pays through the hosted page: every event delivered, the order is paid once', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 5, priceMinor: 2_500 });
    const { buyer, result } = await placeOrder(app, variantId, { quantity: 2 });
    expect(result).toMatchObject({
      provider: 'stripe',
      totalMinor: 5_500,
      currency: 'USD',
      clientSecret: null,
    });
    const sessionId = await providerRefOf(app, result.paymentId);
    expect(sessionId).toMatch(/^cs_test_/);
    expect(result.redirectUrl).toBe(fake.session(sessionId)?.url);
    expect(fake.session(sessionId)).toMatchObject({
      amount_total: 5_500,
      currency: 'usd',
      client_reference_id: result.paymentId,
      metadata: { payment_id: result.paymentId, order_id: result.orderId },
    });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 3, held: 2, sold: 0 });

    const events = fake.completeSession(sessionId);
    expect(events.map((event) => event.type)).toEqual([
      'payment_intent.created',
      'charge.succeeded',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ]);
    const paymentIntentId = fake.session(sessionId)?.payment_intent as string;
    await deliverAll(world, events);

    const paid = await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'order paid');
    expect(paid).toMatchObject({ paymentStatus: 'paid', paidMinor: 5_500, refundedMinor: 0 });
    await waitForEmail(app, buyer.user.email, 'orders.payment-received');
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 3, held: 0, sold: 2 });
    expect(await paymentRow(app, result.paymentId)).toMatchObject({
      status: 'captured',
      capturedMinor: 5_500,
      providerRef: sessionId,
      providerSecondaryRef: paymentIntentId,
    });

    // Both money events were recorded and matched; only the first to be applied changed anything.
    const rows = await waitForProcessedEvents(
      app,
      'stripe',
      events.map((event) => event.id),
    );
    const captured = rows.filter((row) => row.action === 'captured');
    expect(captured.map((row) => row.type).sort()).toEqual([
      'checkout.session.completed',
      'payment_intent.succeeded',
    ]);
    expect(captured.every((row) => row.paymentId === result.paymentId)).toBe(true);
    expect(captured.map((row) => row.outcome).sort()).toEqual(['applied', 'no_change']);
    expect(rows.filter((row) => row.action === 'ignored')).toHaveLength(2);

    const view = await getOrder(app, buyer, result.orderId);
    expect(view.statusCode).toBe(200);
    expect(view.json()).toMatchObject({
      status: 'paid',
      paymentStatus: 'paid',
      totals: { total: 5_500, paid: 5_500, refunded: 0 },
    });
    const cart = await app.http.inject({ url: '/api/cart', headers: buyer.headers });
    expect(cart.json().lines ?? []).toHaveLength(0);

    // Stripe redelivers (it saw a slow 2xx): recorded as duplicates, nothing changes.
    for (const event of events)
      expect((await deliver(world, event)).json()).toEqual({ received: true, duplicate: true });
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
  });

  it('refuses forged webhooks with 400 webhook_signature_invalid and records nothing', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 2 });
    const { result } = await placeOrder(app, variantId);
    const sessionId = await providerRefOf(app, result.paymentId);
    const completed = fake
      .completeSession(sessionId)
      .find((event) => event.type === 'checkout.session.completed')!;
    const before = await countPaymentEvents(app);
    const now = Math.floor(Date.now() / 1000);
    const genuine = fake.signedDelivery(completed);
    const cases = {
      'no signature': await postWebhook(app, 'stripe', {
        headers: { 'content-type': 'application/json' },
        body: genuine.body,
      }),
      'wrong secret': await deliver(world, completed, {
        secret: 'whsec_not_the_endpoint_secret_at_all_0000',
      }),
      'one byte changed': await deliver(world, completed, { tamper: true }),
      'timestamp older than 300 s': await deliver(world, completed, { timestamp: now - 301 }),
      'timestamp 1 h in the future': await deliver(world, completed, { timestamp: now + 3_600 }),
    };
    for (const [name, response] of Object.entries(cases)) {
      expect(response.statusCode, name).toBe(400);
      expect(response.json().error.code, name).toBe('webhook_signature_invalid');
    }
    expect(await countPaymentEvents(app)).toBe(before);
    expect(await orderRow(app, result.orderId)).toMatchObject({
      status: 'pending_payment',
      paymentStatus: 'unpaid',
    });

    // The genuine delivery of the same event is what gets through (the forgeries differ only in the forgery).
    const accepted = await postWebhook(app, 'stripe', genuine);
    expect(accepted.statusCode).toBe(200);
    expect(await countPaymentEvents(app)).toBe(before + 1);
    await waitForOrder(
      app,
      result.orderId,
      (order) => order.status === 'paid',
      'paid by the genuine delivery',
    );
  });

  it('repairs a lost webhook by reconciliation, and a second run records nothing', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 2 });
    const { buyer, result } = await placeOrder(app, variantId);
    const sessionId = await providerRefOf(app, result.paymentId);
    const events = fake.completeSession(sessionId);
    // Nothing is delivered: Stripe's webhooks never reached us.

    const forbidden = await app.http.inject({
      method: 'POST',
      url: '/api/admin/payments/reconcile',
      headers: buyer.headers,
    });
    expect(forbidden.statusCode).toBe(403);

    const first = await app.http.inject({
      method: 'POST',
      url: '/api/admin/payments/reconcile',
      headers: staff.headers,
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().providers.stripe.recorded).toBeGreaterThan(0);
    expect(first.json().providers.stripe.listed).toBeGreaterThanOrEqual(
      first.json().providers.stripe.recorded,
    );

    const paid = await waitForOrder(
      app,
      result.orderId,
      (order) => order.status === 'paid',
      'paid by reconciliation',
    );
    expect(paid).toMatchObject({ paymentStatus: 'paid', paidMinor: result.totalMinor });
    await waitForEmail(app, buyer.user.email, 'orders.payment-received');
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
    expect(await stockOf(app, variantId)).toMatchObject({ held: 0, sold: 1 });

    // Only the types that change a payment are listed; those of this session came in by reconciliation.
    const moneyEvents = events.filter((event) =>
      ['payment_intent.succeeded', 'checkout.session.completed'].includes(event.type),
    );
    const rows = await waitForProcessedEvents(
      app,
      'stripe',
      moneyEvents.map((event) => event.id),
    );
    expect(rows.every((row) => row.source === 'reconciliation' && row.paymentId === result.paymentId)).toBe(
      true,
    );
    const others = events.filter((event) => !moneyEvents.includes(event)).map((event) => event.id);
    const [unlisted] = await app.platform.db
      .select({ n: count() })
      .from(paymentEvents)
      .where(inArray(paymentEvents.eventId, others));
    expect(unlisted?.n).toBe(0);

    const second = await app.http.inject({
      method: 'POST',
      url: '/api/admin/payments/reconcile',
      headers: staff.headers,
    });
    expect(second.statusCode).toBe(200);
    // Everything Stripe lists was recorded the first time: deduped by event id.
    expect(second.json().providers.stripe.listed).toBeGreaterThanOrEqual(moneyEvents.length);
    expect(second.json().providers.stripe.recorded).toBe(0);
    // A late webhook for an event reconciliation recorded is a duplicate too.
    expect((await deliver(world, moneyEvents[0]!)).json()).toEqual({ received: true, duplicate: true });
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
  });

  it('refunds in part then in full through Stripe, each settled by its charge.refunded', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 2, priceMinor: 4_000 });
    const { buyer, result } = await placeOrder(app, variantId);
    const sessionId = await providerRefOf(app, result.paymentId);
    await deliverAll(world, fake.completeSession(sessionId));
    await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid');
    const paymentIntentId = fake.session(sessionId)?.payment_intent as string;
    const byBuyer = await postRefund(app, buyer, result.orderId);
    expect(byBuyer.statusCode).toBe(403);

    const mark = fake.events.length;
    const partial = await postRefund(app, staff, result.orderId, {
      amountMinor: 1_500,
      reason: 'late delivery',
      idempotencyKey: 'stripe-partial-1',
    });
    expect(partial.statusCode).toBe(202);
    expect(partial.json()).toMatchObject({ amountMinor: 1_500, status: 'pending', currency: 'USD' });
    const firstRefundPost = await waitFor(
      () =>
        fake.requests.find(
          (request) => request.method === 'POST' && request.path === '/v1/refunds' && request.status === 200,
        ),
      { what: 'the first refund at Stripe' },
    );
    expect(firstRefundPost.idempotencyKey).toBe(`staff:${result.orderId}:stripe-partial-1`);
    expect(firstRefundPost.body).toMatchObject({ payment_intent: paymentIntentId, amount: '1500' });
    const firstRefunded = await waitFor(() => eventsSince(fake, mark, 'charge.refunded')[0], {
      what: 'charge.refunded for the partial refund',
    });
    await deliverAll(world, [firstRefunded]);
    const partly = await waitForOrder(
      app,
      result.orderId,
      (order) => order.refundedMinor === 1_500,
      'partial refund',
    );
    expect(partly).toMatchObject({ status: 'paid', paymentStatus: 'partially_refunded' });
    // Stripe's confirmation settles our refund row; a row left pending would still count against
    // what may be refunded (soft: the amount check below shows the consequence).
    const settled = await waitFor(
      async () => {
        const [row] = await app.platform.db
          .select()
          .from(refunds)
          .where(eq(refunds.id, partial.json().id as string));
        return row?.providerRef ? row : undefined;
      },
      { what: 'the partial refund row with its Stripe id' },
    );
    expect
      .soft(settled.status, 'the partial refund row after its charge.refunded was applied')
      .toBe('succeeded');

    // The rest, without an amount: everything still refundable.
    const mark2 = fake.events.length;
    const rest = await postRefund(app, staff, result.orderId, {
      reason: 'returned',
      idempotencyKey: 'stripe-rest-1',
    });
    expect(rest.statusCode, rest.body).toBe(202);
    expect(rest.json().amountMinor).toBe(result.totalMinor - 1_500);
    const secondRefunded = await waitFor(() => eventsSince(fake, mark2, 'charge.refunded')[0], {
      what: 'charge.refunded for the rest',
    });
    await deliverAll(world, [secondRefunded]);
    const refunded = await waitForOrder(
      app,
      result.orderId,
      (order) => order.status === 'refunded',
      'fully refunded',
    );
    expect(refunded).toMatchObject({ paymentStatus: 'refunded', refundedMinor: result.totalMinor });
    expect(await paymentRow(app, result.paymentId)).toMatchObject({
      status: 'refunded',
      refundedMinor: result.totalMinor,
    });

    const refundPosts = fake.requests.filter(
      (request) => request.method === 'POST' && request.path === '/v1/refunds' && request.status === 200,
    );
    expect(refundPosts.map((request) => request.body.payment_intent)).toEqual([
      paymentIntentId,
      paymentIntentId,
    ]);
    // Every money call Stripe received (sessions, refunds) carried our idempotency key.
    const posts = fake.requests.filter((request) => request.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.filter((request) => !request.idempotencyKey)).toEqual([]);

    // Staff see both refunds settled by Stripe's confirmation.
    const view = await orderPayments(app, staff, result.orderId);
    expect(view.refundStates).toEqual([
      [1_500, 'succeeded'],
      [result.totalMinor - 1_500, 'succeeded'],
    ]);
  });

  it('reconciliation closes the Stripe session of a cancelled order; its expiry is recorded', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 1 });
    const { buyer, result } = await placeOrder(app, variantId);
    const sessionId = await providerRefOf(app, result.paymentId);
    const cancel = await app.http.inject({
      method: 'POST',
      url: `/api/orders/${result.orderId}/cancel`,
      headers: buyer.headers,
    });
    expect(cancel.statusCode).toBe(200);

    const mark = fake.events.length;
    const report = await app.http.inject({
      method: 'POST',
      url: '/api/admin/payments/reconcile',
      headers: staff.headers,
    });
    expect(report.statusCode).toBe(200);
    expect(report.json().closed).toBeGreaterThanOrEqual(1);
    const expire = fake.requests.find(
      (request) => request.method === 'POST' && request.path === `/v1/checkout/sessions/${sessionId}/expire`,
    );
    expect(expire?.idempotencyKey).toBe(`cancel:${result.paymentId}`);
    expect(fake.session(sessionId)?.status).toBe('expired');

    await deliverAll(world, eventsSince(fake, mark, 'checkout.session.expired'));
    await waitFor(async () => (await paymentRow(app, result.paymentId)).status === 'canceled', {
      what: 'payment canceled by the expiry event',
    });
    // Closed payments are not asked again.
    const again = await app.http.inject({
      method: 'POST',
      url: '/api/admin/payments/reconcile',
      headers: staff.headers,
    });
    expect(
      fake.requests.filter((request) => request.path === `/v1/checkout/sessions/${sessionId}/expire`),
    ).toHaveLength(1);
    expect(again.statusCode).toBe(200);
  });

  it('refunds automatically a payment that completes after the buyer cancelled the order', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 1 });
    const { buyer, result } = await placeOrder(app, variantId);
    const sessionId = await providerRefOf(app, result.paymentId);

    const cancel = await app.http.inject({
      method: 'POST',
      url: `/api/orders/${result.orderId}/cancel`,
      headers: buyer.headers,
    });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json().status).toBe('cancelled');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 1, held: 0 });

    // The buyer had the hosted page open in another tab and pays anyway.
    const mark = fake.events.length;
    await deliverAll(world, fake.completeSession(sessionId));
    const refundRow = await waitFor(
      async () => {
        const [row] = await app.platform.db.select().from(refunds).where(eq(refunds.orderId, result.orderId));
        return row;
      },
      { what: 'an automatic refund row' },
    );
    expect(refundRow.reason).toMatch(/^automatic/);
    expect(refundRow).toMatchObject({ amountMinor: result.totalMinor, requestedBy: null });
    const refundPost = await waitFor(
      () =>
        fake.requests.find(
          (request) =>
            request.method === 'POST' &&
            request.path === '/v1/refunds' &&
            request.idempotencyKey === refundRow.idempotencyKey,
        ),
      { what: 'the automatic refund at Stripe' },
    );
    expect(refundPost).toMatchObject({ status: 200 });
    expect(refundPost.body).toMatchObject({ amount: String(result.totalMinor) });

    const refundedEvent = await waitFor(() => eventsSince(fake, mark, 'charge.refunded')[0], {
      what: 'charge.refunded for the automatic refund',
    });
    await deliverAll(world, [refundedEvent]);
    const order = await waitForOrder(
      app,
      result.orderId,
      (row) => row.refundedMinor === result.totalMinor,
      'the automatic refund applied',
    );
    expect(order).toMatchObject({
      status: 'cancelled',
      paidMinor: result.totalMinor,
      paymentStatus: 'refunded',
    });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 1, held: 0, sold: 0 });
    const [late] = await app.platform.db
      .select({ n: count() })
      .from(orderEvents)
      .where(and(eq(orderEvents.orderId, result.orderId), eq(orderEvents.type, 'late_payment')));
    expect(late?.n).toBe(1);
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 0, emails: 0 });
  });
});

describe('Stripe PaymentIntents end to end', () => {
  let world: StripeWorld;
  beforeAll(async () => {
    world = await startStripeWorld('payment_intent');
  });
  afterAll(() => world?.close());

  it('a declined card frees the stock; a new checkout then pays', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 1, priceMinor: 3_000 });
    const buyer = await createUser(app);
    await addToCart(app, buyer, variantId, 1);
    const first = await checkout(app, buyer);
    expect(first.statusCode).toBe(201);
    const firstResult = first.json();
    const firstIntent = await providerRefOf(app, firstResult.paymentId);
    expect(firstIntent).toMatch(/^pi_/);
    expect(firstResult.redirectUrl).toBeNull();
    expect(firstResult.clientSecret).toBe(fake.paymentIntent(firstIntent)?.client_secret);
    expect(fake.paymentIntent(firstIntent)).toMatchObject({
      amount: 3_500,
      currency: 'usd',
      metadata: { payment_id: firstResult.paymentId },
    });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 1 });

    await deliverAll(world, fake.failPaymentIntent(firstIntent, 'card_declined', 'insufficient_funds'));
    const failed = await waitForOrder(
      app,
      firstResult.orderId,
      (order) => order.paymentStatus === 'failed',
      'failed',
    );
    expect(failed.status).toBe('pending_payment');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 1, held: 0, sold: 0 });
    expect(await paymentRow(app, firstResult.paymentId)).toMatchObject({
      status: 'failed',
      failureCode: 'insufficient_funds',
    });

    const second = await checkout(app, buyer);
    expect(second.statusCode, second.body).toBe(201);
    const secondResult = second.json();
    expect(secondResult.orderId).not.toBe(firstResult.orderId);
    const secondIntent = await providerRefOf(app, secondResult.paymentId);
    expect(secondIntent).not.toBe(firstIntent);
    expect(secondResult.clientSecret).toBe(fake.paymentIntent(secondIntent)?.client_secret);
    expect((await orderRow(app, firstResult.orderId)).status).toBe('cancelled');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 1 });

    await deliverAll(world, fake.succeedPaymentIntent(secondIntent));
    const paid = await waitForOrder(app, secondResult.orderId, (order) => order.status === 'paid', 'paid');
    expect(paid).toMatchObject({ paymentStatus: 'paid', paidMinor: 3_500 });
    await waitForEmail(app, buyer.user.email, 'orders.payment-received');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 0, sold: 1 });
    expect(await paymentRow(app, secondResult.paymentId)).toMatchObject({
      status: 'captured',
      capturedMinor: 3_500,
    });
  });
});

describe('Stripe unreachable at checkout', () => {
  let world: StripeWorld;
  beforeAll(async () => {
    world = await startStripeWorld('checkout_session');
  });
  afterAll(() => world?.close());

  it('answers 502, cancels the order, gives the stock back, and a retry succeeds', async () => {
    const { app, fake } = world;
    const { variantId } = await stockedVariant(app, { units: 2 });
    const buyer = await createUser(app);
    await addToCart(app, buyer, variantId, 2);

    fake.failNext(500, { times: 5 });
    const failed = await checkout(app, buyer);
    expect(failed.statusCode).toBe(502);
    expect(failed.json().error.code).toBe('payment_provider_error');
    const attempts = fake.requests.filter((request) => request.path === '/v1/checkout/sessions');
    // The SDK retried under one idempotency key; every attempt hit the outage.
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.every((request) => request.status === 500)).toBe(true);
    expect(new Set(attempts.map((request) => request.idempotencyKey)).size).toBe(1);
    const [failedPayment] = await app.platform.db
      .select()
      .from(payments)
      .where(eq(payments.idempotencyKey, attempts[0]!.idempotencyKey!));
    expect(failedPayment).toMatchObject({ status: 'canceled', failureCode: 'payment_provider_error' });
    expect(await orderRow(app, failedPayment!.orderId)).toMatchObject({ status: 'cancelled' });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 2, held: 0, sold: 0 });

    // Stripe is back (whatever of the injected outage the first checkout did not use up is cleared).
    fake.failNext(500, { times: 0 });
    const retry = await checkout(app, buyer);
    expect(retry.statusCode, retry.body).toBe(201);
    const result = retry.json();
    expect(result.orderId).not.toBe(failedPayment!.orderId);
    const sessionId = await providerRefOf(app, result.paymentId);
    expect(result.redirectUrl).toBe(fake.session(sessionId)?.url);
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 2 });
    await deliverAll(world, fake.completeSession(sessionId));
    await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid after the retry');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 0, sold: 2 });
  });
});
