import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
import {
  type FakePayPal,
  type PayPalWebhookEvent,
  type SignedDeliveryOptions,
  startFakePayPal,
} from '../../../test/fakes/paypal-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { refunds } from './payments.tables.ts';

let app: TestApp;
let fake: FakePayPal;
let staff: TestUser;
beforeAll(async () => {
  fake = await startFakePayPal();
  app = await buildTestApp({
    env: {
      PAYMENT_PROVIDER: 'paypal',
      PAYPAL_CLIENT_ID: fake.clientId,
      PAYPAL_CLIENT_SECRET: fake.clientSecret,
      PAYPAL_WEBHOOK_ID: fake.webhookId,
      PAYPAL_API_BASE_URL: fake.baseUrl,
      LOG_LEVEL: process.env.FLOW_LOG ?? 'silent',
    },
  });
  staff = await createUser(app, { roles: ['staff'] });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

function deliver(event: PayPalWebhookEvent, options?: SignedDeliveryOptions) {
  return postWebhook(app, 'paypal', fake.signedDelivery(event, options));
}

/** Delivers the events once each, in order, and waits until the jobs have applied them. */
async function deliverAll(events: readonly PayPalWebhookEvent[]) {
  for (const event of events) {
    const response = await deliver(event);
    expect(response.statusCode, `${event.event_type}: ${response.body}`).toBe(200);
  }
  return waitForProcessedEvents(
    app,
    'paypal',
    events.map((event) => event.id),
  );
}

/** The first event of `type` the fake recorded for PayPal order `paypalOrderId` from index `from` on. */
function recordedEvent(type: string, paypalOrderId: string, from = 0) {
  return waitFor(
    () =>
      fake.events.slice(from).find((event) => {
        if (event.event_type !== type) return false;
        const related = (
          event.resource.supplementary_data as { related_ids?: { order_id?: string } } | undefined
        )?.related_ids?.order_id;
        const captureOf = fake.captureIdOf(paypalOrderId);
        const up = JSON.stringify(event.resource.links ?? []);
        return related === paypalOrderId || (captureOf !== undefined && up.includes(captureOf));
      }),
    { what: `${type} for ${paypalOrderId}` },
  );
}

/** Checkout with PayPal, the buyer approves, we capture, PayPal confirms: a paid order. */
async function paidPayPalOrder(options: { units?: number; priceMinor?: number } = {}) {
  const { variantId } = await stockedVariant(app, {
    units: options.units ?? 2,
    priceMinor: options.priceMinor,
  });
  const { buyer, result } = await placeOrder(app, variantId, { body: { provider: 'paypal' } });
  const paypalOrderId = await providerRefOf(app, result.paymentId);
  await deliverAll([fake.approveOrder(paypalOrderId)]);
  await deliverAll([await recordedEvent('PAYMENT.CAPTURE.COMPLETED', paypalOrderId)]);
  await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid through PayPal');
  return { variantId, buyer, result, paypalOrderId };
}

describe('PayPal end to end', () => {
  it('approve → capture by our job → PAYMENT.CAPTURE.COMPLETED: the order is paid once', async () => {
    const { variantId } = await stockedVariant(app, { units: 4, priceMinor: 2_500 });
    const { buyer, result } = await placeOrder(app, variantId, { quantity: 2, body: { provider: 'paypal' } });
    expect(result).toMatchObject({ provider: 'paypal', totalMinor: 5_500, clientSecret: null });
    const paypalOrderId = await providerRefOf(app, result.paymentId);
    const approveLink = ((fake.order(paypalOrderId)?.links ?? []) as { rel: string; href: string }[]).find(
      (link) => ['payer-action', 'approve'].includes(link.rel),
    );
    expect(result.redirectUrl).toBe(approveLink?.href);
    expect(fake.order(paypalOrderId)).toMatchObject({
      intent: 'CAPTURE',
      purchase_units: [{ custom_id: result.paymentId, amount: { currency_code: 'USD', value: '55.00' } }],
    });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 2, held: 2, sold: 0 });

    const approved = fake.approveOrder(paypalOrderId);
    const [approvedRow] = await deliverAll([approved]);
    expect(approvedRow).toMatchObject({
      action: 'authorized',
      outcome: 'applied',
      paymentId: result.paymentId,
    });

    // The approval makes our capture job call PayPal, under a request id that makes a retry the same capture.
    const capture = await waitFor(
      () =>
        fake.requests.find(
          (request) =>
            request.method === 'POST' && request.path === `/v2/checkout/orders/${paypalOrderId}/capture`,
        ),
      { what: 'the capture call' },
    );
    expect(capture.status).toBe(201);
    expect(capture.headers['paypal-request-id']).toBe(`capture:${result.paymentId}`);
    // Money is not in until PayPal confirms the capture.
    expect(await orderRow(app, result.orderId)).toMatchObject({ status: 'pending_payment' });

    const completed = await recordedEvent('PAYMENT.CAPTURE.COMPLETED', paypalOrderId);
    const [completedRow] = await deliverAll([completed]);
    expect(completedRow).toMatchObject({
      action: 'captured',
      outcome: 'applied',
      paymentId: result.paymentId,
    });

    const paid = await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid');
    expect(paid).toMatchObject({ paymentStatus: 'paid', paidMinor: 5_500 });
    await waitForEmail(app, buyer.user.email, 'orders.payment-received');
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 2, held: 0, sold: 2 });
    expect(await paymentRow(app, result.paymentId)).toMatchObject({
      status: 'captured',
      capturedMinor: 5_500,
      providerRef: paypalOrderId,
      providerSecondaryRef: fake.captureIdOf(paypalOrderId),
    });
    const view = await app.http.inject({ url: `/api/orders/${result.orderId}`, headers: buyer.headers });
    expect(view.json()).toMatchObject({ status: 'paid', paymentStatus: 'paid', totals: { paid: 5_500 } });

    // PayPal redelivers both: duplicates, one capture call, still paid once.
    for (const event of [approved, completed]) {
      expect((await deliver(event)).json()).toEqual({ received: true, duplicate: true });
    }
    const captures = fake.requests.filter(
      (request) =>
        request.method === 'POST' && request.path === `/v2/checkout/orders/${paypalOrderId}/capture`,
    );
    expect(captures).toHaveLength(1);
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
  });

  it('refuses forged PayPal webhooks with 400 and records nothing', async () => {
    const { variantId } = await stockedVariant(app, { units: 2 });
    const { result } = await placeOrder(app, variantId, { body: { provider: 'paypal' } });
    const paypalOrderId = await providerRefOf(app, result.paymentId);
    const approved = fake.approveOrder(paypalOrderId);
    const before = await countPaymentEvents(app);
    const cases = {
      'body changed by one byte': await deliver(approved, { tamper: true }),
      'signed with another key': await deliver(approved, { wrongKey: true }),
      'signed for another webhook id': await deliver(approved, { webhookId: 'WH-SOMEONE-ELSES-HOOK' }),
      'transmission 6 minutes old': await deliver(approved, {
        transmissionTime: new Date(Date.now() - 6 * 60_000).toISOString(),
      }),
      'no transmission headers': await postWebhook(app, 'paypal', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(approved),
      }),
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
    // Nothing was captured on the strength of a forgery.
    expect(
      fake.requests.filter((request) => request.path === `/v2/checkout/orders/${paypalOrderId}/capture`),
    ).toEqual([]);

    // The genuine delivery of the same event gets through.
    expect((await deliver(approved)).statusCode).toBe(200);
    expect(await countPaymentEvents(app)).toBe(before + 1);
  });

  it('staff refunds in part then in full; PAYMENT.CAPTURE.REFUNDED settles each and the order ends refunded', async () => {
    const { buyer, result, paypalOrderId } = await paidPayPalOrder({ priceMinor: 4_000 });
    const captureId = fake.captureIdOf(paypalOrderId)!;
    const refundPath = `/v2/payments/captures/${captureId}/refund`;

    const byBuyer = await postRefund(app, buyer, result.orderId);
    expect(byBuyer.statusCode).toBe(403);

    const mark = fake.events.length;
    const partial = await postRefund(app, staff, result.orderId, {
      amountMinor: 1_000,
      reason: 'scratched',
      idempotencyKey: 'paypal-partial-1',
    });
    expect(partial.statusCode).toBe(202);
    expect(partial.json()).toMatchObject({ amountMinor: 1_000, status: 'pending' });
    const firstCall = await waitFor(
      () => fake.requests.find((request) => request.method === 'POST' && request.path === refundPath),
      { what: 'the partial refund at PayPal' },
    );
    expect(firstCall.status).toBe(201);
    expect(firstCall.headers['paypal-request-id']).toBe(`staff:${result.orderId}:paypal-partial-1`);
    expect(firstCall.body).toMatchObject({ amount: { currency_code: 'USD', value: '10.00' } });
    await deliverAll([await recordedEvent('PAYMENT.CAPTURE.REFUNDED', paypalOrderId, mark)]);
    const partly = await waitForOrder(
      app,
      result.orderId,
      (order) => order.refundedMinor === 1_000,
      'partial',
    );
    expect(partly).toMatchObject({ status: 'paid', paymentStatus: 'partially_refunded' });

    const mark2 = fake.events.length;
    const rest = await postRefund(app, staff, result.orderId, { reason: 'returned' });
    expect(rest.statusCode, rest.body).toBe(202);
    expect(rest.json().amountMinor).toBe(result.totalMinor - 1_000);
    await deliverAll([await recordedEvent('PAYMENT.CAPTURE.REFUNDED', paypalOrderId, mark2)]);
    const refunded = await waitForOrder(
      app,
      result.orderId,
      (order) => order.status === 'refunded',
      'refunded',
    );
    expect(refunded).toMatchObject({ paymentStatus: 'refunded', refundedMinor: result.totalMinor });
    expect(await paymentRow(app, result.paymentId)).toMatchObject({
      status: 'refunded',
      refundedMinor: result.totalMinor,
    });

    const calls = fake.requests.filter((request) => request.method === 'POST' && request.path === refundPath);
    expect(calls).toHaveLength(2);
    expect(calls.every((request) => typeof request.headers['paypal-request-id'] === 'string')).toBe(true);
    await waitFor(
      async () => {
        const rows = await app.platform.db.select().from(refunds).where(eq(refunds.orderId, result.orderId));
        return rows.length === 2 && rows.every((row) => row.status === 'succeeded') ? rows : undefined;
      },
      { what: 'both refund rows settled' },
    );
    const view = await orderPayments(app, staff, result.orderId);
    expect(view.refundStates).toEqual([
      [1_000, 'succeeded'],
      [result.totalMinor - 1_000, 'succeeded'],
    ]);
  });
});
