import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stockOf } from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import type { AdminOrderView, OrderDetailView, OrderPageView } from './orders.schemas.ts';
import {
  activeHoldUnits,
  applyPayment,
  ordersTestApp,
  placeOrder,
  stockedProduct,
} from './orders.test-support.ts';

describe('orders: the staff desk', () => {
  let app: TestApp;
  let seller: TestUser;
  let staff: TestUser;
  let buyer: TestUser;
  let product: ProductView;

  beforeAll(async () => {
    ({ app, seller } = await ordersTestApp());
    [staff, buyer] = await Promise.all([
      createUser(app, { roles: ['staff'] }),
      createUser(app, { email: `desk-${Date.now()}@shop.example` }),
    ]);
    product = await stockedProduct(app, seller, { units: 50, priceMinor: 3000 });
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);
  const paidOrder = async (user = buyer) => {
    const order = await placeOrder(app, user, [product]);
    await applyPayment(app, order, { status: 'captured', capturedMinor: order.totalMinor });
    return order;
  };

  it('refuses every admin route to buyers and sellers (403) and to anonymous callers (401)', async () => {
    const order = await placeOrder(app, buyer, [product], { hold: false });
    const routes: Array<[SendArgs[0], string, object?]> = [
      ['GET', '/api/admin/orders'],
      ['GET', `/api/admin/orders/${order.id}`],
      ['POST', `/api/admin/orders/${order.id}/ship`, { carrier: 'UPS', trackingNumber: '1' }],
      ['POST', `/api/admin/orders/${order.id}/deliver`],
      ['POST', `/api/admin/orders/${order.id}/cancel`, { reason: 'x' }],
      ['POST', `/api/admin/orders/${order.id}/notes`, { note: 'x' }],
    ];
    for (const [method, url, body] of routes) {
      expect((await send(method, url, buyer, body)).statusCode, `${method} ${url}`).toBe(403);
      expect((await send(method, url, seller, body)).statusCode, `${method} ${url}`).toBe(403);
      expect((await send(method, url, undefined, body)).statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('lists every order with status, payment status and number/email filters, a cursor page at a time', async () => {
    const other = await createUser(app, { email: `someone-${Date.now()}@elsewhere.example` });
    const pending = await placeOrder(app, buyer, [product], { hold: false });
    const paid = await paidOrder();
    const foreign = await placeOrder(app, other, [product], { hold: false });

    const ids = async (query: string) =>
      ((await send('GET', `/api/admin/orders?${query}`, staff)).json() as OrderPageView).items.map(
        (item) => item.id,
      );

    expect(await ids(`q=${pending.number}`)).toEqual([pending.id]);
    expect(await ids(`q=%23${paid.number}`)).toEqual([paid.id]);
    const mine = await ids(`q=${encodeURIComponent(buyer.user.email.split('@')[0]!)}`);
    expect(mine).toEqual(expect.arrayContaining([pending.id, paid.id]));
    expect(mine).not.toContain(foreign.id);
    expect(await ids('q=elsewhere.example')).toEqual([foreign.id]);
    const paidOnes = await ids('status=paid&limit=100');
    expect(paidOnes).toContain(paid.id);
    expect(paidOnes).not.toContain(pending.id);
    expect(await ids('paymentStatus=paid&limit=100')).toContain(paid.id);
    expect(await ids('paymentStatus=unpaid&limit=100')).not.toContain(paid.id);

    const first = (await send('GET', '/api/admin/orders?limit=2', staff)).json() as OrderPageView;
    expect(first.items).toHaveLength(2);
    const second = (await send('GET', `/api/admin/orders?limit=2&cursor=${first.nextCursor}`, staff)).json();
    const seen = [...first.items, ...(second as OrderPageView).items].map((item) => item.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(first.items[0]).toMatchObject({ email: expect.any(String), totals: expect.any(Object) });
  });

  it('ships a paid order (carrier and tracking in the detail, email), then delivers it; wrong steps are 409', async () => {
    const unpaid = await placeOrder(app, buyer, [product], { hold: false });
    const tooEarly = await send('POST', `/api/admin/orders/${unpaid.id}/ship`, staff, {
      carrier: 'UPS',
      trackingNumber: '1Z999',
    });
    expect(tooEarly.statusCode).toBe(409);
    expect(tooEarly.json().error).toMatchObject({
      code: 'order_status_conflict',
      details: { status: 'pending_payment', wanted: 'shipped' },
    });
    expect((await send('POST', `/api/admin/orders/${unpaid.id}/deliver`, staff)).statusCode).toBe(409);

    const order = await paidOrder();
    const shipped = await send('POST', `/api/admin/orders/${order.id}/ship`, staff, {
      carrier: 'UPS',
      trackingNumber: '1Z999AA10123456784',
    });
    expect(shipped.statusCode).toBe(200);
    const view = shipped.json() as AdminOrderView;
    expect(view).toMatchObject({
      status: 'shipped',
      shipment: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' },
      buyer: { id: buyer.user.id, email: buyer.user.email },
    });
    expect(view.timeline.at(-1)).toMatchObject({
      type: 'shipped',
      fromStatus: 'paid',
      toStatus: 'shipped',
      actorKind: 'staff',
      actorId: staff.user.id,
      data: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' },
    });
    const email = await waitForEmail(app, buyer.user.email, 'orders.shipped');
    expect(email.bodyText).toContain('1Z999AA10123456784');
    const twice = await send('POST', `/api/admin/orders/${order.id}/ship`, staff, {
      carrier: 'UPS',
      trackingNumber: '2',
    });
    expect(twice.statusCode).toBe(409);

    const delivered = await send('POST', `/api/admin/orders/${order.id}/deliver`, staff);
    expect(delivered.statusCode).toBe(200);
    expect(delivered.json()).toMatchObject({ status: 'delivered', deliveredAt: expect.any(String) });
    await waitForEmail(app, buyer.user.email, 'orders.delivered');
    const buyerView = (await send('GET', `/api/orders/${order.id}`, buyer)).json() as OrderDetailView;
    expect(buyerView.timeline.map((entry) => entry.type)).toEqual(['placed', 'paid', 'shipped', 'delivered']);
    expect(buyerView.shipment).toMatchObject({ carrier: 'UPS' });
  });

  it('cancels an unpaid order with a reason (holds released, email); a paid one must be refunded instead', async () => {
    const variantId = product.variants[0]!.id;
    const before = (await stockOf(app, variantId))!.available;
    const order = await placeOrder(app, buyer, [product], { quantity: 3 });
    const cancelled = await send('POST', `/api/admin/orders/${order.id}/cancel`, staff, {
      reason: 'Buyer asked by phone',
    });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelReason: 'Buyer asked by phone' });
    expect((cancelled.json() as AdminOrderView).timeline.at(-1)).toMatchObject({
      type: 'cancelled',
      actorKind: 'staff',
      actorId: staff.user.id,
      note: 'Buyer asked by phone',
    });
    expect(await activeHoldUnits(app, order.id)).toBe(0);
    expect((await stockOf(app, variantId))!.available).toBe(before);
    await waitForEmail(app, buyer.user.email, 'orders.cancelled');

    const paid = await paidOrder();
    const refused = await send('POST', `/api/admin/orders/${paid.id}/cancel`, staff, { reason: 'x' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('order_not_cancellable');
    expect((await send('POST', `/api/admin/orders/${paid.id}/cancel`, staff, {})).statusCode).toBe(400);
    const missing = await send(
      'POST',
      '/api/admin/orders/00000000-0000-4000-8000-00000000abcd/cancel',
      staff,
      {
        reason: 'x',
      },
    );
    expect(missing.statusCode).toBe(404);
  });

  it('staff notes go on the timeline staff see, not on the one the buyer sees', async () => {
    const order = await placeOrder(app, buyer, [product], { hold: false });
    const noted = await send('POST', `/api/admin/orders/${order.id}/notes`, staff, {
      note: 'Gift wrap requested',
    });
    expect(noted.statusCode).toBe(201);
    expect((noted.json() as AdminOrderView).timeline.at(-1)).toMatchObject({
      type: 'note',
      note: 'Gift wrap requested',
      actorKind: 'staff',
      actorId: staff.user.id,
      fromStatus: 'pending_payment',
      toStatus: 'pending_payment',
    });
    const detail = (await send('GET', `/api/admin/orders/${order.id}`, staff)).json() as AdminOrderView;
    expect(detail.timeline.map((entry) => entry.type)).toEqual(['placed', 'note']);
    expect(detail.buyer).toMatchObject({ id: buyer.user.id, displayName: buyer.user.displayName });
    const buyerView = (await send('GET', `/api/orders/${order.id}`, buyer)).json() as OrderDetailView;
    expect(buyerView.timeline.map((entry) => entry.type)).toEqual(['placed']);
    expect((await send('POST', `/api/admin/orders/${order.id}/notes`, staff, { note: '' })).statusCode).toBe(
      400,
    );
  });
});
