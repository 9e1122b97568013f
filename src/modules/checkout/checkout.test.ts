import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addToCart,
  checkout,
  clickLocalPage,
  orderRow,
  placeOrder,
  stockedVariant,
  stockOf,
  waitForOrder,
} from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';

let app: TestApp;
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(() => app?.close());

describe('checkout with the local provider', () => {
  it('places an order, holds stock, and a click on "pay" marks it paid and sends the emails', async () => {
    const { variantId } = await stockedVariant(app, { units: 5, priceMinor: 2_500 });
    const { buyer, result } = await placeOrder(app, variantId, { quantity: 2 });
    expect(result).toMatchObject({
      itemsMinor: 5_000,
      shippingMinor: 500,
      totalMinor: 5_500,
      currency: 'USD',
      provider: 'local',
    });
    expect(result.redirectUrl).toContain(`/pay/local/${result.paymentId}`);
    expect(await stockOf(app, variantId)).toMatchObject({ available: 3, held: 2, sold: 0 });
    await waitForEmail(app, buyer.user.email, 'orders.placed');

    const page = await app.http.inject({
      url: new URL(result.redirectUrl!).pathname + new URL(result.redirectUrl!).search,
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('55.00 USD');

    const click = await clickLocalPage(app, result.redirectUrl!, 'pay');
    expect(click.statusCode).toBe(200);
    const paid = await waitForOrder(app, result.orderId, (order) => order.status === 'paid', 'order paid');
    expect(paid).toMatchObject({ paymentStatus: 'paid', paidMinor: 5_500 });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 3, held: 0, sold: 2 });
    await waitForEmail(app, buyer.user.email, 'orders.payment-received');

    const cart = await app.http.inject({ url: '/api/cart', headers: buyer.headers });
    expect(cart.json().lines ?? []).toHaveLength(0);
  });

  it('a decline releases the stock, counts a failure, and the buyer can check out again', async () => {
    const { variantId } = await stockedVariant(app, { units: 1 });
    const { buyer, result } = await placeOrder(app, variantId);
    await clickLocalPage(app, result.redirectUrl!, 'fail');
    await waitForOrder(app, result.orderId, (order) => order.paymentStatus === 'failed', 'payment failed');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 1, held: 0 });

    const again = await checkout(app, buyer);
    expect(again.statusCode).toBe(201);
    expect(again.json().orderId).not.toBe(result.orderId);
    expect((await orderRow(app, result.orderId)).status).toBe('cancelled');
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 1 });
  });

  it('is idempotent by Idempotency-Key and, without one, by cart contents', async () => {
    const { variantId } = await stockedVariant(app, { units: 5 });
    const buyer = await createUser(app);
    await addToCart(app, buyer, variantId, 1);
    const first = await checkout(app, buyer, { idempotencyKey: 'key-0000001' });
    const second = await checkout(app, buyer, { idempotencyKey: 'key-0000001' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    const reused = await checkout(app, buyer, {
      idempotencyKey: 'key-0000001',
      body: { expectedTotalMinor: 1 },
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe('idempotency_key_reused');

    const other = await createUser(app);
    await addToCart(app, other, variantId, 1);
    const a = await checkout(app, other);
    const b = await checkout(app, other);
    expect(b.json().orderId).toBe(a.json().orderId);
    expect(await stockOf(app, variantId)).toMatchObject({ held: 2 });
  });

  it('concurrent checkouts of one cart create one order', async () => {
    const { variantId } = await stockedVariant(app, { units: 5 });
    const buyer = await createUser(app);
    await addToCart(app, buyer, variantId, 1);
    const answers = await Promise.all(Array.from({ length: 5 }, () => checkout(app, buyer)));
    const created = answers.filter((answer) => answer.statusCode === 201 || answer.statusCode === 200);
    const orderIds = new Set(created.map((answer) => answer.json().orderId));
    expect(orderIds.size).toBe(1);
    for (const answer of answers) expect([200, 201, 409]).toContain(answer.statusCode);
    expect(await stockOf(app, variantId)).toMatchObject({ held: 1, available: 4 });
  });

  it('200 concurrent buyers for 10 units: exactly 10 orders hold stock, stock never negative', async () => {
    const { variantId } = await stockedVariant(app, { units: 10, priceMinor: 1_000 });
    const buyers = await Promise.all(Array.from({ length: 200 }, () => createUser(app)));
    for (const buyer of buyers) await addToCart(app, buyer, variantId, 1);
    const answers = await Promise.all(buyers.map((buyer) => checkout(app, buyer)));
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(
      answers.filter((answer) => answer.statusCode === 409).map((answer) => answer.json().error.code),
    ).toEqual(Array(190).fill('out_of_stock'));
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 10, sold: 0, received: 10 });
    // Paying all ten sells exactly ten.
    await Promise.all(
      answers
        .filter((answer) => answer.statusCode === 201)
        .map((answer) => clickLocalPage(app, answer.json().redirectUrl, 'pay')),
    );
    await waitFor(async () => (await stockOf(app, variantId)).sold === 10, { what: 'ten sold' });
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 0, sold: 10 });
  }, 60_000);

  it('refuses an empty cart, a missing address, an unverified buyer and a changed total', async () => {
    const buyer = await createUser(app);
    expect((await checkout(app, buyer)).json().error.code).toBe('cart_empty');
    const { variantId } = await stockedVariant(app, { units: 5, priceMinor: 1_000 });
    await addToCart(app, buyer, variantId, 1);
    const noAddress = await app.http.inject({
      method: 'POST',
      url: '/api/checkout',
      headers: buyer.headers,
      payload: {},
    });
    expect(noAddress.statusCode).toBe(400);
    expect(noAddress.json().error.code).toBe('address_required');
    const changed = await checkout(app, buyer, { body: { expectedTotalMinor: 999 } });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().error).toMatchObject({
      code: 'checkout_total_changed',
      details: { totalMinor: 1_500 },
    });
    const anonymous = await app.http.inject({ method: 'POST', url: '/api/checkout', payload: {} });
    expect(anonymous.statusCode).toBe(401);
    const unverified = await createUser(app, { verified: false });
    expect((await checkout(app, unverified)).statusCode).toBe(403);
    expect(await stockOf(app, variantId)).toMatchObject({ available: 5, held: 0 });
  });

  it('out of stock: 409 and nothing reserved', async () => {
    const { variantId } = await stockedVariant(app, { units: 1 });
    const first = await placeOrder(app, variantId);
    expect(first.result.orderId).toBeTruthy();
    const late = await createUser(app);
    await addToCart(app, late, variantId, 1).catch(() => undefined);
    const response = await checkout(app, late);
    expect(response.statusCode).toBe(409);
    expect(['out_of_stock', 'cart_empty']).toContain(response.json().error.code);
    expect(await stockOf(app, variantId)).toMatchObject({ available: 0, held: 1 });
  });

  it('a user cannot see or pay another user’s order', async () => {
    const { variantId } = await stockedVariant(app, { units: 3 });
    const { result } = await placeOrder(app, variantId);
    const stranger = await createUser(app);
    for (const url of [`/api/orders/${result.orderId}`, `/api/orders/${result.orderId}/payments`]) {
      const response = await app.http.inject({ url, headers: stranger.headers });
      expect(response.statusCode).toBe(404);
    }
    for (const url of [`/api/orders/${result.orderId}`, `/api/orders/${result.orderId}/payments`]) {
      expect((await app.http.inject({ url })).statusCode).toBe(401);
    }
    // The hosted page is reachable only with the signed link from checkout.
    const forged = await app.http.inject({
      url: `/pay/local/${result.paymentId}?expires=9999999999&sig=forged`,
    });
    expect(forged.statusCode).toBe(404);
    const forgedClick = await app.http.inject({
      method: 'POST',
      url: `/pay/local/${result.paymentId}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'expires=9999999999&sig=forged',
    });
    expect(forgedClick.statusCode).toBe(404);
    expect((await orderRow(app, result.orderId)).status).toBe('pending_payment');
  });

  it('locks checkout after repeated declined payments', async () => {
    const lockedApp = await buildTestApp({ env: { CHECKOUT_MAX_PAYMENT_FAILURES: '2' } });
    try {
      const { variantId } = await stockedVariant(lockedApp, { units: 10 });
      const buyer = await createUser(lockedApp);
      for (let attempt = 0; attempt < 2; attempt++) {
        const { result } = await placeOrder(lockedApp, variantId, { buyer });
        await clickLocalPage(lockedApp, result.redirectUrl!, 'fail');
        await waitForOrder(lockedApp, result.orderId, (order) => order.paymentStatus === 'failed', 'failed');
      }
      const locked = await checkout(lockedApp, buyer);
      expect(locked.statusCode).toBe(429);
      expect(locked.json().error.code).toBe('too_many_attempts');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await lockedApp.close();
    }
  });
});
