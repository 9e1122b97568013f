import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { applyPayment, ordersTestApp, placeOrder, stockedProduct } from './orders.test-support.ts';

describe('review eligibility from orders', () => {
  let app: TestApp;
  let seller: TestUser;
  let staff: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await ordersTestApp());
    staff = await createUser(app, { roles: ['staff'] });
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  it('a buyer may review a product only once an order with it is delivered', async () => {
    const [buyer, bystander] = await Promise.all([createUser(app), createUser(app)]);
    const product = await stockedProduct(app, seller);
    const review = (user: TestUser) =>
      send('POST', `/api/products/${product.id}/reviews`, user, { rating: 5, title: 'Lovely' });
    const expectRefused = async (user: TestUser) => {
      const response = await review(user);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('review_not_eligible');
    };

    const order = await placeOrder(app, buyer, [product]);
    await expectRefused(buyer);
    await applyPayment(app, order, { status: 'captured', capturedMinor: order.totalMinor });
    await expectRefused(buyer);
    const shipped = await send('POST', `/api/admin/orders/${order.id}/ship`, staff, {
      carrier: 'UPS',
      trackingNumber: '1Z1',
    });
    expect(shipped.statusCode).toBe(200);
    await expectRefused(buyer);
    expect((await send('POST', `/api/admin/orders/${order.id}/deliver`, staff)).statusCode).toBe(200);

    const created = await review(buyer);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ productId: product.id, author: { id: buyer.user.id }, rating: 5 });
    // Someone else's delivery proves nothing about this user.
    await expectRefused(bystander);
  });

  it('a delivered order of another product, or a refunded one, does not count', async () => {
    const buyer = await createUser(app);
    const [reviewed, bought] = await Promise.all([stockedProduct(app, seller), stockedProduct(app, seller)]);
    const order = await placeOrder(app, buyer, [bought]);
    await applyPayment(app, order, { status: 'captured', capturedMinor: order.totalMinor });
    await send('POST', `/api/admin/orders/${order.id}/ship`, staff, {
      carrier: 'UPS',
      trackingNumber: '1Z2',
    });
    await send('POST', `/api/admin/orders/${order.id}/deliver`, staff);
    const other = await send('POST', `/api/products/${reviewed.id}/reviews`, buyer, { rating: 4 });
    expect(other.statusCode).toBe(403);

    await applyPayment(app, order, {
      status: 'refunded',
      capturedMinor: order.totalMinor,
      refundedMinor: order.totalMinor,
    });
    const refunded = await send('POST', `/api/products/${bought.id}/reviews`, buyer, { rating: 1 });
    expect(refunded.statusCode).toBe(403);
  });
});
