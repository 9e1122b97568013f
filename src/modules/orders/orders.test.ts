import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockOf } from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { isAppError } from '../../platform/errors/index.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import { createPendingOrder, type NewOrder, ordersDeps } from './index.ts';
import type { OrderDetailView, OrderPageView } from './orders.schemas.ts';
import { orderLines, orders } from './orders.tables.ts';
import {
  activeHoldUnits,
  applyPayment,
  emailsTo,
  eventsOf,
  ordersTestApp,
  placeOrder,
  stockedProduct,
} from './orders.test-support.ts';

/** The message of a database error, wherever the driver and Drizzle put it. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return `${String(error)} ${cause instanceof Error ? cause.message : ''}`;
  }
  throw new Error('expected the statement to fail');
}

describe('orders: placing, reading, cancelling', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;
  let buyer: TestUser;
  let other: TestUser;
  let mug: ProductView;
  let plate: ProductView;

  beforeAll(async () => {
    ({ app, seller } = await ordersTestApp({ clock }));
    [buyer, other] = await Promise.all([createUser(app), createUser(app)]);
    [mug, plate] = await Promise.all([
      stockedProduct(app, seller, { priceMinor: 2500 }),
      stockedProduct(app, seller, { priceMinor: 1000 }),
    ]);
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  const baseOrder = (user: TestUser): NewOrder => ({
    buyerId: user.user.id,
    email: user.user.email,
    cartId: null,
    currency: 'USD',
    lines: [
      {
        variantId: mug.variants[0]!.id,
        productId: mug.id,
        sellerId: seller.user.id,
        sku: mug.variants[0]!.sku,
        title: mug.title,
        quantity: 1,
        unitPriceMinor: 2500,
      },
    ],
    shippingMinor: 500,
    shippingAddress: null,
    paymentDueAt: new Date(clock.now().getTime() + 3 * 24 * 3600_000),
  });

  it('computes items and total, writes lines and a placed event, and emails the buyer after commit', async () => {
    const order = await placeOrder(app, buyer, [mug, plate], {
      quantity: 2,
      shippingMinor: 500,
      feesMinor: 100,
    });
    expect(order).toMatchObject({
      status: 'pending_payment',
      paymentStatus: 'unpaid',
      kind: 'store',
      currency: 'USD',
      itemsMinor: 2 * 2500 + 2 * 1000,
      shippingMinor: 500,
      feesMinor: 100,
      taxMinor: 0,
      totalMinor: 7000 + 500 + 100,
      paidMinor: 0,
      refundedMinor: 0,
      email: buyer.user.email,
    });
    const lines = await app.platform.db.select().from(orderLines).where(eq(orderLines.orderId, order.id));
    expect(lines.map((line) => [line.position, line.quantity, line.unitPriceMinor, line.totalMinor])).toEqual(
      expect.arrayContaining([
        [0, 2, 2500, 5000],
        [1, 2, 1000, 2000],
      ]),
    );
    const events = await eventsOf(app, order.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'placed',
      fromStatus: null,
      toStatus: 'pending_payment',
      actorKind: 'buyer',
      actorId: buyer.user.id,
    });
    const email = await waitForEmail(app, buyer.user.email, 'orders.placed');
    expect(email.subject).toBe(`Order #${order.number} received`);
    expect(email.bodyText).toContain('76.00 USD');
    expect(await activeHoldUnits(app, order.id)).toBe(4);
  });

  it('a rolled-back createPendingOrder leaves no order and sends nothing', async () => {
    const buyerOfRollback = await createUser(app);
    const error = await app.platform.db
      .transaction(async (tx) => {
        await createPendingOrder(tx, ordersDeps(app.platform), baseOrder(buyerOfRollback));
        throw new Error('checkout failed after the order was written');
      })
      .catch((caught: unknown) => caught);
    expect(String(error)).toContain('checkout failed');
    const rows = await app.platform.db
      .select()
      .from(orders)
      .where(eq(orders.buyerId, buyerOfRollback.user.id));
    expect(rows).toEqual([]);

    // A committed order for the same buyer afterwards: its email arrives, and it is the only one.
    const committed = await placeOrder(app, buyerOfRollback, [plate]);
    const email = await waitForEmail(app, buyerOfRollback.user.email, 'orders.placed');
    expect(email.dedupeKey).toContain(committed.id);
    expect(await emailsTo(app, buyerOfRollback.user.email, 'orders.placed')).toHaveLength(1);
  });

  it('refuses impossible orders with order_invalid, and the CHECK constraints hold the sums', async () => {
    const attempt = (change: Partial<NewOrder>) =>
      app.platform.db
        .transaction((tx) =>
          createPendingOrder(tx, ordersDeps(app.platform), { ...baseOrder(buyer), ...change }),
        )
        .catch((caught: unknown) => caught);
    const base = baseOrder(buyer);
    for (const change of [
      { lines: [] },
      { currency: 'usd' },
      { lines: [{ ...base.lines[0]!, quantity: 0 }] },
      { lines: [{ ...base.lines[0]!, unitPriceMinor: -1 }] },
      { lines: [{ ...base.lines[0]!, unitPriceMinor: 10.5 }] },
      { shippingMinor: -500 },
    ] satisfies Partial<NewOrder>[]) {
      const error = await attempt(change);
      expect(isAppError(error) && error.code, JSON.stringify(change)).toBe('order_invalid');
    }

    const order = await placeOrder(app, buyer, [plate], { hold: false });
    const db = app.platform.db;
    expect(
      await failure(db.execute(sql`update orders set total_minor = total_minor + 1 where id = ${order.id}`)),
    ).toContain('orders_total_sum');
    expect(
      await failure(
        db.execute(sql`update orders set refunded_minor = paid_minor + 1 where id = ${order.id}`),
      ),
    ).toContain('orders_refund_bound');
    expect(
      await failure(db.execute(sql`update orders set currency = 'usd' where id = ${order.id}`)),
    ).toContain('orders_currency_iso');
    const line = { orderId: order.id, title: 'x', position: 9 };
    expect(
      await failure(
        db.insert(orderLines).values({ ...line, quantity: 2, unitPriceMinor: 100, totalMinor: 201 }),
      ),
    ).toContain('order_lines_total');
    expect(
      await failure(
        db.insert(orderLines).values({ ...line, quantity: 0, unitPriceMinor: 100, totalMinor: 0 }),
      ),
    ).toContain('order_lines_quantity_positive');
  });

  it("lists my orders newest first with cursor pages and a status filter; never anyone else's", async () => {
    const shopper = await createUser(app);
    const placed = [];
    for (let index = 0; index < 3; index++) {
      clock.advance(1000);
      placed.push(await placeOrder(app, shopper, [plate], { hold: false }));
    }
    await placeOrder(app, other, [plate], { hold: false });

    const first = await send('GET', '/api/orders?limit=2', shopper);
    expect(first.statusCode).toBe(200);
    const firstPage = first.json() as OrderPageView;
    expect(firstPage.items.map((item) => item.id)).toEqual([placed[2]!.id, placed[1]!.id]);
    expect(firstPage.items[0]).toMatchObject({
      number: placed[2]!.number,
      status: 'pending_payment',
      paymentStatus: 'unpaid',
      currency: 'USD',
      itemCount: 1,
      totals: { items: 1000, shipping: 500, tax: 0, fees: 0, total: 1500, paid: 0, refunded: 0 },
    });
    expect(firstPage.nextCursor).not.toBeNull();
    const second = (await send('GET', `/api/orders?limit=2&cursor=${firstPage.nextCursor}`, shopper)).json();
    expect((second as OrderPageView).items.map((item) => item.id)).toEqual([placed[0]!.id]);
    expect((second as OrderPageView).nextCursor).toBeNull();

    expect((await send('POST', `/api/orders/${placed[1]!.id}/cancel`, shopper)).statusCode).toBe(200);
    const cancelled = (await send('GET', '/api/orders?status=cancelled', shopper)).json() as OrderPageView;
    expect(cancelled.items.map((item) => item.id)).toEqual([placed[1]!.id]);

    const bad = await send('GET', '/api/orders?cursor=bm9wZQ', shopper);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');
    expect((await send('GET', '/api/orders')).statusCode).toBe(401);
  });

  it("shows an order's lines, totals and timeline to its buyer; another user gets 404 as for a missing one", async () => {
    const order = await placeOrder(app, buyer, [mug], { quantity: 3 });
    const response = await send('GET', `/api/orders/${order.id}`, buyer);
    expect(response.statusCode).toBe(200);
    const detail = response.json() as OrderDetailView;
    expect(detail).toMatchObject({
      id: order.id,
      number: order.number,
      status: 'pending_payment',
      paymentStatus: 'unpaid',
      totals: { items: 7500, shipping: 500, tax: 0, fees: 0, total: 8000, paid: 0, refunded: 0 },
      itemCount: 3,
      shipment: null,
      shippingAddress: { name: 'Test Buyer', country: 'US' },
    });
    expect(detail.lines).toEqual([
      expect.objectContaining({
        variantId: mug.variants[0]!.id,
        productId: mug.id,
        title: mug.title,
        quantity: 3,
        unitPriceMinor: 2500,
        totalMinor: 7500,
      }),
    ]);
    expect(detail.timeline.map((entry) => entry.type)).toEqual(['placed']);

    const foreign = await send('GET', `/api/orders/${order.id}`, other);
    const missing = await send('GET', '/api/orders/00000000-0000-4000-8000-00000000abcd', other);
    expect([foreign.statusCode, missing.statusCode]).toEqual([404, 404]);
    expect(foreign.json().error.code).toBe('not_found');
    expect(foreign.json().error.message).toBe(missing.json().error.message);
    expect((await send('GET', `/api/orders/${order.id}`)).statusCode).toBe(401);
    expect((await send('GET', '/api/orders/not-a-uuid', buyer)).statusCode).toBe(400);
  });

  it('the buyer cancels an unpaid order: holds released, timeline, email; a paid one is not cancellable', async () => {
    const variantId = mug.variants[0]!.id;
    const before = await stockOf(app, variantId);
    const order = await placeOrder(app, buyer, [mug], { quantity: 2 });
    expect((await stockOf(app, variantId))?.available).toBe(before!.available - 2);

    expect((await send('POST', `/api/orders/${order.id}/cancel`, other)).statusCode).toBe(404);
    const response = await send('POST', `/api/orders/${order.id}/cancel`, buyer);
    expect(response.statusCode).toBe(200);
    const detail = response.json() as OrderDetailView;
    expect(detail).toMatchObject({ status: 'cancelled', cancelReason: 'buyer_request' });
    expect(detail.cancelledAt).not.toBeNull();
    expect(detail.timeline.map((entry) => [entry.type, entry.actorKind])).toEqual([
      ['placed', 'buyer'],
      ['cancelled', 'buyer'],
    ]);
    expect(await activeHoldUnits(app, order.id)).toBe(0);
    expect((await stockOf(app, variantId))?.available).toBe(before!.available);
    const email = await waitForEmail(app, buyer.user.email, 'orders.cancelled');
    expect(email.subject).toBe(`Order #${order.number} cancelled`);

    // Cancelling again changes nothing.
    const again = await send('POST', `/api/orders/${order.id}/cancel`, buyer);
    expect(again.statusCode).toBe(200);
    expect((await eventsOf(app, order.id)).filter((event) => event.type === 'cancelled')).toHaveLength(1);

    const paid = await placeOrder(app, buyer, [plate]);
    await applyPayment(app, paid, { status: 'captured', capturedMinor: paid.totalMinor });
    const refused = await send('POST', `/api/orders/${paid.id}/cancel`, buyer);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'order_not_cancellable',
      details: { status: 'paid' },
    });
  });
});
