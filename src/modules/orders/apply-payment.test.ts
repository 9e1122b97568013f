import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderRow, stockOf } from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { isAppError } from '../../platform/errors/index.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import { releaseHolds } from '../inventory/index.ts';
import { cancelOrder, ordersDeps } from './index.ts';
import type { OrderRow } from './orders.repo.ts';
import {
  activeHoldUnits,
  applyPayment,
  emailsTo,
  eventsOf,
  ordersTestApp,
  placeOrder,
  stockedProduct,
} from './orders.test-support.ts';

const PAYMENT_1 = '00000000-0000-4000-8000-000000000001';
const PAYMENT_2 = '00000000-0000-4000-8000-000000000002';

describe('applyPaymentToOrder', () => {
  let app: TestApp;
  let seller: TestUser;
  let staff: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await ordersTestApp());
    staff = await createUser(app, { roles: ['staff'] });
  });
  afterAll(() => app?.close());

  const reload = (id: string): Promise<OrderRow> => orderRow(app, id);
  const eventTypes = async (id: string) => (await eventsOf(app, id)).map((event) => event.type);

  /** A buyer with an unpaid order (2 units held) of a fresh product with `units` in stock. */
  async function pendingOrder(
    units = 5,
  ): Promise<{ buyer: TestUser; product: ProductView; order: OrderRow }> {
    const buyer = await createUser(app);
    const product = await stockedProduct(app, seller, { units, priceMinor: 2000 });
    const order = await placeOrder(app, buyer, [product], { quantity: 2 });
    return { buyer, product, order };
  }

  it('a capture pays the order once: stock sold, paid event, one email; the same state again changes nothing', async () => {
    const { buyer, product, order } = await pendingOrder();
    const captured = {
      status: 'captured',
      capturedMinor: order.totalMinor,
      previousStatus: 'pending',
    } as const;
    expect(await applyPayment(app, order, captured)).toEqual({ refundMinor: 0 });

    const paid = await reload(order.id);
    expect(paid).toMatchObject({ status: 'paid', paymentStatus: 'paid', paidMinor: 4500, refundedMinor: 0 });
    expect(paid.paidAt).not.toBeNull();
    expect(await stockOf(app, product.variants[0]!.id)).toMatchObject({ available: 3, held: 0, sold: 2 });
    const [, paidEvent] = await eventsOf(app, order.id);
    expect(paidEvent).toMatchObject({
      type: 'paid',
      fromStatus: 'pending_payment',
      toStatus: 'paid',
      actorKind: 'provider:local',
      actorId: null,
      data: { paymentId: PAYMENT_1, capturedMinor: 4500 },
    });
    const email = await waitForEmail(app, buyer.user.email, 'orders.payment-received');
    expect(email.bodyText).toContain('45.00 USD');

    expect(await applyPayment(app, order, captured)).toEqual({ refundMinor: 0 });
    expect(await eventTypes(order.id)).toEqual(['placed', 'paid']);
    expect(await reload(order.id)).toEqual(paid);
    expect(await stockOf(app, product.variants[0]!.id)).toMatchObject({ available: 3, held: 0, sold: 2 });
    expect(await emailsTo(app, buyer.user.email, 'orders.payment-received')).toHaveLength(1);
  });

  it('two concurrent deliveries of one capture: one paid event, the stock sold once', async () => {
    const { product, order } = await pendingOrder();
    const captured = { status: 'captured', capturedMinor: order.totalMinor } as const;
    const results = await Promise.all([
      applyPayment(app, order, captured),
      applyPayment(app, order, captured),
    ]);
    expect(results).toEqual([{ refundMinor: 0 }, { refundMinor: 0 }]);
    expect(await eventTypes(order.id)).toEqual(['placed', 'paid']);
    expect(await stockOf(app, product.variants[0]!.id)).toMatchObject({ available: 3, held: 0, sold: 2 });
  });

  it('a failed payment releases the holds and keeps the order open; a retry with another payment still pays it', async () => {
    const { product, order } = await pendingOrder();
    const variantId = product.variants[0]!.id;
    const failed = { status: 'failed', failureCode: 'card_declined' } as const;
    expect(await applyPayment(app, order, failed)).toEqual({ refundMinor: 0 });
    expect(await reload(order.id)).toMatchObject({ status: 'pending_payment', paymentStatus: 'failed' });
    expect(await activeHoldUnits(app, order.id)).toBe(0);
    expect(await stockOf(app, variantId)).toMatchObject({ available: 5, held: 0 });
    await applyPayment(app, order, failed);
    const events = await eventsOf(app, order.id);
    expect(events.map((event) => event.type)).toEqual(['placed', 'payment_failed']);
    expect(events[1]).toMatchObject({
      actorKind: 'provider:local',
      data: {
        paymentId: PAYMENT_1,
        failureCode: 'card_declined',
        paymentStatus: { from: 'unpaid', to: 'failed' },
      },
    });

    await applyPayment(app, order, {
      paymentId: PAYMENT_2,
      status: 'captured',
      capturedMinor: order.totalMinor,
    });
    expect(await reload(order.id)).toMatchObject({ status: 'paid', paymentStatus: 'paid' });
    // The holds were gone, so the sale took the units straight from what was on sale.
    expect(await stockOf(app, variantId)).toMatchObject({ available: 3, held: 0, sold: 2 });
  });

  it('authorized, then canceled (session expired): holds released, payment status back to unpaid', async () => {
    const { order } = await pendingOrder();
    await applyPayment(app, order, { status: 'authorized' });
    expect(await reload(order.id)).toMatchObject({ status: 'pending_payment', paymentStatus: 'authorized' });
    expect(await activeHoldUnits(app, order.id)).toBe(2);

    await applyPayment(app, order, { status: 'canceled', previousStatus: 'authorized' });
    await applyPayment(app, order, { status: 'canceled', previousStatus: 'authorized' });
    expect(await reload(order.id)).toMatchObject({ status: 'pending_payment', paymentStatus: 'unpaid' });
    expect(await activeHoldUnits(app, order.id)).toBe(0);
    expect(await eventTypes(order.id)).toEqual(['placed', 'payment_authorized', 'payment_canceled']);
  });

  it('a capture for a cancelled order is given back (refundMinor) once, until it is refunded', async () => {
    const { buyer, order } = await pendingOrder();
    await app.platform.db.transaction((tx) =>
      cancelOrder(tx, ordersDeps(app.platform), {
        orderId: order.id,
        reason: 'changed my mind',
        actorKind: 'buyer',
        actorId: buyer.user.id,
      }),
    );
    const late = { status: 'captured', capturedMinor: order.totalMinor } as const;
    expect(await applyPayment(app, order, late)).toEqual({ refundMinor: 4500 });
    expect(await applyPayment(app, order, late)).toEqual({ refundMinor: 4500 });
    expect(await reload(order.id)).toMatchObject({
      status: 'cancelled',
      paidMinor: 4500,
      paymentStatus: 'paid',
    });
    const events = await eventsOf(app, order.id);
    expect(events.map((event) => event.type)).toEqual(['placed', 'cancelled', 'late_payment']);
    expect(events[2]?.note).toContain('refunded');

    const refunded = { status: 'refunded', capturedMinor: 4500, refundedMinor: 4500 } as const;
    expect(await applyPayment(app, order, refunded)).toEqual({ refundMinor: 0 });
    expect(await reload(order.id)).toMatchObject({
      status: 'cancelled',
      paymentStatus: 'refunded',
      refundedMinor: 4500,
    });
    const email = await waitForEmail(app, buyer.user.email, 'orders.refund-issued');
    expect(email.bodyText).toContain('45.00 USD');
  });

  it('paid after the stock was sold elsewhere: cancelled out_of_stock_after_payment, refunded, buyer told', async () => {
    const buyer = await createUser(app);
    const rival = await createUser(app);
    const product = await stockedProduct(app, seller, { units: 1, priceMinor: 2000 });
    const order = await placeOrder(app, buyer, [product]);
    // The hold lapses (the expiry sweep's effect) and another buyer takes the last unit.
    await app.platform.db.transaction((tx) =>
      releaseHolds(tx, { orderId: order.id, reason: 'expired', actorId: null }),
    );
    await placeOrder(app, rival, [product]);

    const result = await applyPayment(app, order, { status: 'captured', capturedMinor: order.totalMinor });
    expect(result).toEqual({ refundMinor: order.totalMinor });
    expect(await reload(order.id)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'out_of_stock_after_payment',
      paidMinor: order.totalMinor,
      paymentStatus: 'paid',
    });
    const events = await eventsOf(app, order.id);
    expect(events.map((event) => event.type)).toEqual(['placed', 'cancelled']);
    expect(events[1]).toMatchObject({
      actorKind: 'provider:local',
      data: { shortVariants: [product.variants[0]!.id] },
    });
    expect(await stockOf(app, product.variants[0]!.id)).toMatchObject({ available: 0, held: 1, sold: 0 });
    const email = await waitForEmail(app, buyer.user.email, 'orders.out-of-stock');
    expect(email.bodyText).toContain('25.00 USD');

    // Repeated: the same refund figure, nothing new on the timeline.
    expect(await applyPayment(app, order, { status: 'captured', capturedMinor: order.totalMinor })).toEqual({
      refundMinor: order.totalMinor,
    });
    expect(await eventsOf(app, order.id)).toHaveLength(2);
  });

  it('refunds: partial then full, one email per refunded amount; a full refund of a shipped order makes it refunded', async () => {
    const { buyer, order } = await pendingOrder();
    await applyPayment(app, order, { status: 'captured', capturedMinor: 4500 });
    const ship = await app.http.inject({
      method: 'POST',
      url: `/api/admin/orders/${order.id}/ship`,
      headers: staff.headers,
      payload: { carrier: 'UPS', trackingNumber: '1Z1' },
    });
    expect(ship.statusCode).toBe(200);

    const partial = { status: 'partially_refunded', capturedMinor: 4500, refundedMinor: 1000 } as const;
    expect(await applyPayment(app, order, partial)).toEqual({ refundMinor: 0 });
    await applyPayment(app, order, partial);
    expect(await reload(order.id)).toMatchObject({
      status: 'shipped',
      paymentStatus: 'partially_refunded',
      refundedMinor: 1000,
    });
    await waitFor(async () => (await emailsTo(app, buyer.user.email, 'orders.refund-issued')).length === 1);

    await applyPayment(app, order, { status: 'refunded', capturedMinor: 4500, refundedMinor: 4500 });
    expect(await reload(order.id)).toMatchObject({
      status: 'refunded',
      paymentStatus: 'refunded',
      refundedMinor: 4500,
    });
    const events = await eventsOf(app, order.id);
    expect(events.map((event) => event.type)).toEqual([
      'placed',
      'paid',
      'shipped',
      'refund',
      'refund',
      'refunded',
    ]);
    expect(events[4]?.data).toMatchObject({ amountMinor: 3500, refundedMinor: 4500 });
    const emails = await waitFor(async () => {
      const rows = await emailsTo(app, buyer.user.email, 'orders.refund-issued');
      return rows.length === 2 ? rows : undefined;
    });
    expect(emails.map((email) => email.bodyText).join('\n')).toContain('35.00 USD');
  });

  it('a dispute marks the payment disputed, and closing it restores paid', async () => {
    const { order } = await pendingOrder();
    await applyPayment(app, order, { status: 'captured', capturedMinor: 4500 });
    const disputed = { status: 'disputed', previousStatus: 'captured', capturedMinor: 4500 } as const;
    expect(await applyPayment(app, order, disputed)).toEqual({ refundMinor: 0 });
    await applyPayment(app, order, disputed);
    expect(await reload(order.id)).toMatchObject({ status: 'paid', paymentStatus: 'disputed' });

    await applyPayment(app, order, { status: 'captured', previousStatus: 'disputed', capturedMinor: 4500 });
    expect(await reload(order.id)).toMatchObject({ status: 'paid', paymentStatus: 'paid' });
    expect(await eventTypes(order.id)).toEqual(['placed', 'paid', 'disputed', 'dispute_closed']);
  });

  it('a second payment for an order another payment already paid is given back', async () => {
    const { order } = await pendingOrder();
    await applyPayment(app, order, { status: 'captured', capturedMinor: 4500 });
    const second = { paymentId: PAYMENT_2, status: 'captured', capturedMinor: 4500 } as const;
    expect(await applyPayment(app, order, second)).toEqual({ refundMinor: 4500 });
    expect(await applyPayment(app, order, second)).toEqual({ refundMinor: 4500 });
    // Its refund does not touch the order's own money.
    expect(await applyPayment(app, order, { ...second, status: 'refunded', refundedMinor: 4500 })).toEqual({
      refundMinor: 0,
    });
    expect(await reload(order.id)).toMatchObject({
      status: 'paid',
      paymentStatus: 'paid',
      paidMinor: 4500,
      refundedMinor: 0,
    });
    expect(await eventTypes(order.id)).toEqual(['placed', 'paid', 'duplicate_payment']);
  });

  it('refuses a payment in another currency than its order', async () => {
    const { order } = await pendingOrder();
    const error = await applyPayment(app, order, {
      status: 'captured',
      capturedMinor: 4500,
      currency: 'EUR',
    }).catch((caught: unknown) => caught);
    expect(isAppError(error) && error.code).toBe('payment_currency_mismatch');
    expect(await reload(order.id)).toMatchObject({ status: 'pending_payment', paidMinor: 0 });
  });
});
