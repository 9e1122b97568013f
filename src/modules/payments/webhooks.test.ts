import { and, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickLocalPage,
  placeOrder,
  stockedVariant,
  stockOf,
  waitForOrder,
} from '../../../test/factories/commerce.ts';
import {
  countPaymentEvents,
  orderPayments,
  paidEffects,
  paymentRow,
  postRefund,
  postWebhook,
} from '../../../test/factories/payments.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { paymentEvents } from './payments.tables.ts';
import { LOCAL_SIGNATURE_HEADER, localWebhookKey, signLocalWebhook } from './providers/local-signature.ts';

let app: TestApp;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app?.close());

function localEvent(
  result: { paymentId: string; totalMinor: number; currency: string },
  type: string,
  id: string,
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    id,
    type,
    created: Math.floor(Date.now() / 1000),
    data: {
      payment_id: result.paymentId,
      payment_ref: `lp_${result.paymentId}`,
      amount_minor: result.totalMinor,
      currency: result.currency,
      ...extra,
    },
  });
}

function deliver(
  target: TestApp,
  body: string,
  options: { key?: Buffer; timestamp?: number; header?: string | null } = {},
) {
  const key = options.key ?? localWebhookKey(target.platform.secret);
  const signature = signLocalWebhook(key, body, options.timestamp ?? Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.header !== null) headers[LOCAL_SIGNATURE_HEADER] = options.header ?? signature;
  return postWebhook(target, 'local', { headers, body });
}

describe('payment webhooks', () => {
  it('refuses forged deliveries with 400 and records nothing', async () => {
    const { variantId } = await stockedVariant(app, { units: 2 });
    const { result } = await placeOrder(app, variantId);
    const body = localEvent(result, 'payment.captured', `evt_forged_${result.paymentId}`);
    const before = await countPaymentEvents(app);
    const now = Math.floor(Date.now() / 1000);
    const genuine = signLocalWebhook(localWebhookKey(app.platform.secret), body, now);
    const cases = {
      'no signature': await deliver(app, body, { header: null }),
      'wrong secret': await deliver(app, body, { key: localWebhookKey('another-secret-another-secret-00') }),
      'body changed by one byte': await postWebhook(app, 'local', {
        headers: { 'content-type': 'application/json', [LOCAL_SIGNATURE_HEADER]: genuine },
        body: body.replace(`"amount_minor":${result.totalMinor}`, `"amount_minor":${result.totalMinor + 1}`),
      }),
      'old timestamp': await deliver(app, body, { timestamp: now - 3600 }),
      'future timestamp': await deliver(app, body, { timestamp: now + 3600 }),
    };
    for (const [name, response] of Object.entries(cases)) {
      expect(response.statusCode, name).toBe(400);
      expect(response.json().error.code, name).toBe('webhook_signature_invalid');
    }
    expect(await countPaymentEvents(app)).toBe(before);
    expect((await waitForOrder(app, result.orderId, () => true)).status).toBe('pending_payment');
  });

  it('an event delivered 3 times in a row has exactly one effect', async () => {
    const { variantId } = await stockedVariant(app, { units: 5 });
    const { buyer, result } = await placeOrder(app, variantId, { quantity: 2 });
    const body = localEvent(result, 'payment.captured', `evt_thrice_${result.paymentId}`);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await deliver(app, body)).json());
    expect(answers.map((answer) => answer.duplicate)).toEqual([false, true, true]);
    await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid');
    await waitFor(async () => (await paidEffects(app, result.orderId, buyer.user.email)).emails === 1, {
      what: 'email',
    });
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
    expect(await stockOf(app, variantId)).toMatchObject({ sold: 2, held: 0, available: 3 });
  });

  it('an event delivered 10 times concurrently has exactly one effect', async () => {
    const { variantId } = await stockedVariant(app, { units: 5 });
    const { buyer, result } = await placeOrder(app, variantId);
    const body = localEvent(result, 'payment.captured', `evt_tenfold_${result.paymentId}`);
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(app, body)));
    expect(answers.every((answer) => answer.statusCode === 200)).toBe(true);
    expect(answers.filter((answer) => answer.json().duplicate === false)).toHaveLength(1);
    await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid');
    await waitFor(async () => (await paidEffects(app, result.orderId, buyer.user.email)).emails === 1, {
      what: 'email',
    });
    const [recorded] = await app.platform.db
      .select({ n: count() })
      .from(paymentEvents)
      .where(eq(paymentEvents.eventId, `evt_tenfold_${result.paymentId}`));
    expect(recorded?.n).toBe(1);
    expect(await paidEffects(app, result.orderId, buyer.user.email)).toEqual({ paidEvents: 1, emails: 1 });
    expect(await stockOf(app, variantId)).toMatchObject({ sold: 1, held: 0 });
  });

  it('a 5-event payment lifecycle ends in the same state whatever the arrival order', async () => {
    const { variantId } = await stockedVariant(app, { units: 50 });
    const lifecycle = (result: { paymentId: string; totalMinor: number; currency: string }) => [
      localEvent(result, 'payment.authorized', `evt_a_${result.paymentId}`),
      localEvent(result, 'payment.captured', `evt_c_${result.paymentId}`),
      localEvent(result, 'refund.succeeded', `evt_r_${result.paymentId}`, {
        refund_ref: 're_1',
        refund_amount_minor: 1_000,
      }),
      localEvent(result, 'dispute.created', `evt_d_${result.paymentId}`, { dispute_id: 'dp_1' }),
      localEvent(result, 'dispute.closed', `evt_dc_${result.paymentId}`, { dispute_id: 'dp_1' }),
    ];
    // A sample of the 120 orderings through the real route and jobs (payment-state.test.ts checks all 120).
    const orderings = [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
      [2, 0, 4, 1, 3],
      [3, 4, 1, 2, 0],
      [1, 2, 3, 4, 0],
      [4, 2, 0, 3, 1],
    ];
    const finals = [];
    for (const ordering of orderings) {
      const { result } = await placeOrder(app, variantId);
      const bodies = lifecycle(result);
      for (const index of ordering) expect((await deliver(app, bodies[index]!)).statusCode).toBe(200);
      await waitFor(
        async () => {
          const [row] = await app.platform.db
            .select({ n: count() })
            .from(paymentEvents)
            .where(and(eq(paymentEvents.paymentId, result.paymentId)));
          return row?.n === 5;
        },
        { what: 'all five events applied' },
      );
      const payment = await paymentRow(app, result.paymentId);
      const order = await waitForOrder(app, result.orderId, () => true);
      finals.push({
        payment: {
          status: payment.status,
          captured: payment.capturedMinor,
          refunded: payment.refundedMinor,
          disputes: payment.disputes,
        },
        order: {
          status: order.status,
          paymentStatus: order.paymentStatus,
          paid: order.paidMinor,
          refunded: order.refundedMinor,
        },
      });
    }
    expect(finals[0]).toEqual({
      payment: {
        status: 'partially_refunded',
        captured: 5_500 + 5_000,
        refunded: 1_000,
        disputes: { dp_1: 'closed' },
      },
      order: { status: 'paid', paymentStatus: 'partially_refunded', paid: 10_500, refunded: 1_000 },
    });
    for (const final of finals) expect(final).toEqual(finals[0]);
  });

  it('a crash between receipt and processing, then a redelivery, gives exactly one effect', async () => {
    // The receiving instance only serves HTTP (its jobs never run): it records and enqueues, then "dies".
    const receiver = await buildTestApp({ role: 'api' });
    try {
      const { variantId } = await stockedVariant(receiver, { units: 3 });
      const { buyer, result } = await placeOrder(receiver, variantId);
      const body = localEvent(result, 'payment.captured', `evt_crash_${result.paymentId}`);
      expect((await deliver(receiver, body)).json()).toEqual({ received: true, duplicate: false });
      expect((await waitForOrder(receiver, result.orderId, () => true)).status).toBe('pending_payment');

      // A worker comes up on the same database; the provider redelivers because it saw no 2xx in time.
      const worker = await buildTestApp({
        sameDatabaseAs: receiver,
        role: 'worker',
        env: { LOG_LEVEL: 'warn' },
      });
      try {
        expect((await deliver(receiver, body)).json()).toEqual({ received: true, duplicate: true });
        await waitForOrder(
          receiver,
          result.orderId,
          (order) => order.status === 'paid',
          'paid by the worker',
        );
        await waitFor(
          async () => (await paidEffects(receiver, result.orderId, buyer.user.email)).emails === 1,
          {
            what: 'payment email',
          },
        );
        expect(await paidEffects(receiver, result.orderId, buyer.user.email)).toEqual({
          paidEvents: 1,
          emails: 1,
        });
        expect(await stockOf(receiver, variantId)).toMatchObject({ sold: 1, held: 0, available: 2 });
      } finally {
        await worker.close();
      }
    } finally {
      await receiver.close();
    }
  });

  it('staff refunds in part then in full; the provider’s confirmation settles each once', async () => {
    const { variantId } = await stockedVariant(app, { units: 3, priceMinor: 4_000 });
    const { buyer, result } = await placeOrder(app, variantId);
    await clickLocalPage(app, result.redirectUrl!, 'pay');
    await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'paid');
    const { createUser } = await import('../../../test/factories/users.ts');
    const staff = await createUser(app, { roles: ['staff'] });
    const forbidden = await postRefund(app, buyer, result.orderId);
    expect(forbidden.statusCode).toBe(403);

    const partial = await postRefund(app, staff, result.orderId, {
      amountMinor: 1_500,
      reason: 'late delivery',
      idempotencyKey: 'refund-partial-1',
    });
    expect(partial.statusCode).toBe(202);
    const repeat = await postRefund(app, staff, result.orderId, {
      amountMinor: 1_500,
      reason: 'late delivery',
      idempotencyKey: 'refund-partial-1',
    });
    expect(repeat.json().id).toBe(partial.json().id);
    await waitForOrder(app, result.orderId, (order) => order.refundedMinor === 1_500, 'partial refund');

    const tooMuch = await postRefund(app, staff, result.orderId, { amountMinor: 10_000 });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().error.code).toBe('refund_exceeds_captured');

    const rest = await postRefund(app, staff, result.orderId, { reason: 'cancelled' });
    expect(rest.statusCode).toBe(202);
    expect(rest.json().amountMinor).toBe(4_500 - 1_500);
    const refunded = await waitForOrder(
      app,
      result.orderId,
      (order) => order.status === 'refunded',
      'full refund',
    );
    expect(refunded).toMatchObject({ paymentStatus: 'refunded', refundedMinor: 4_500 });

    const view = await orderPayments(app, staff, result.orderId);
    expect(view.refundStates).toEqual([
      [1_500, 'succeeded'],
      [3_000, 'succeeded'],
    ]);
    expect(view.payments[0]).toMatchObject({ status: 'refunded', refundedMinor: 4_500 });
  });
});
