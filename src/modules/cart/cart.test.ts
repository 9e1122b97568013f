import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { productVariants } from '../catalog/catalog.tables.ts';
import type { CartView } from './cart.schemas.ts';
import { carts } from './cart.tables.ts';
import { addLine, cartTestApp, giveStock, sendCart, stockedProduct } from './cart.test-support.ts';
import { hashCartToken, newCartToken } from './cart-token.ts';

describe('cart', () => {
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await cartTestApp());
  });
  afterAll(() => app?.close());

  it('a guest creates a cart, gets its token once, adds, changes and removes lines with it', async () => {
    const product = await stockedProduct(app, seller, { priceMinor: 2_500, title: 'Kettle' });
    const variant = product.variants[0]!;

    const none = await sendCart(app, 'GET', '/api/cart');
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({
      id: null,
      currency: null,
      lines: [],
      itemCount: 0,
      itemsMinor: 0,
      updatedAt: null,
    });

    const created = await addLine(app, {}, variant.id, 2);
    const token = created.guestToken!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ currency: 'USD', itemCount: 2, itemsMinor: 5_000 });
    expect(created.lines).toEqual([
      {
        id: expect.any(String),
        variantId: variant.id,
        productId: product.id,
        productTitle: 'Kettle',
        variantTitle: variant.title,
        sku: variant.sku,
        quantity: 2,
        unitPriceMinor: 2_500,
        addedUnitPriceMinor: 2_500,
        priceChanged: false,
        available: 50,
        lineTotalMinor: 5_000,
      },
    ]);
    // Only the hash is stored.
    const [row] = await app.platform.db.select().from(carts).where(eq(carts.id, created.id!));
    expect(row).toMatchObject({ userId: null, guestTokenHash: hashCartToken(token), status: 'open' });
    expect(row!.guestTokenHash).not.toContain(token);

    const read = (await sendCart(app, 'GET', '/api/cart', { token })).json() as CartView;
    expect(read.id).toBe(created.id);
    expect(read.guestToken).toBeUndefined();

    const again = await addLine(app, { token }, variant.id, 3);
    expect(again.id).toBe(created.id);
    expect(again.guestToken).toBeUndefined();
    expect(again.lines).toHaveLength(1);
    expect(again.lines[0]).toMatchObject({ quantity: 5, lineTotalMinor: 12_500 });

    const lineId = again.lines[0]!.id;
    const patched = await sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, {
      token,
      payload: { quantity: 1 },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      itemCount: 1,
      itemsMinor: 2_500,
      lines: [{ id: lineId, quantity: 1 }],
    });

    const removed = await sendCart(app, 'DELETE', `/api/cart/lines/${lineId}`, { token });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ id: created.id, currency: null, lines: [], itemCount: 0 });
    const gone = await sendCart(app, 'DELETE', `/api/cart/lines/${lineId}`, { token });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.code).toBe('not_found');

    await addLine(app, { token }, variant.id, 4);
    const emptied = await sendCart(app, 'DELETE', '/api/cart', { token });
    expect(emptied.statusCode).toBe(200);
    expect(emptied.json()).toMatchObject({ id: created.id, currency: null, lines: [], itemsMinor: 0 });
  });

  it("one guest's token never opens another guest's cart; no or unknown tokens find no cart", async () => {
    const product = await stockedProduct(app, seller);
    const variant = product.variants[0]!;
    const alice = await addLine(app, {}, variant.id, 1);
    const bob = await addLine(app, {}, variant.id, 2);
    expect(bob.id).not.toBe(alice.id);
    expect(bob.guestToken).not.toBe(alice.guestToken);
    const aliceLine = alice.lines[0]!.id;

    const bobsView = (await sendCart(app, 'GET', '/api/cart', { token: bob.guestToken })).json() as CartView;
    expect(bobsView.id).toBe(bob.id);
    for (const [method, payload] of [
      ['PATCH', { quantity: 9 }],
      ['DELETE', undefined],
    ] as const) {
      const response = await sendCart(app, method, `/api/cart/lines/${aliceLine}`, {
        token: bob.guestToken,
        ...(payload ? { payload } : {}),
      });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }

    const unknown = newCartToken();
    for (const token of [undefined, unknown]) {
      const read = await sendCart(app, 'GET', '/api/cart', { token });
      expect(read.json().id).toBeNull();
      const patch = await sendCart(app, 'PATCH', `/api/cart/lines/${aliceLine}`, {
        token,
        payload: { quantity: 3 },
      });
      expect(patch.statusCode).toBe(404);
      expect(patch.json().error.code).toBe('cart_not_found');
      const clear = await sendCart(app, 'DELETE', '/api/cart', { token });
      expect(clear.json().error.code).toBe('cart_not_found');
    }
    // Adding with an unknown token starts a new cart with a new token.
    const fresh = await addLine(app, { token: unknown }, variant.id, 1);
    expect(fresh.guestToken).toBeDefined();
    expect(fresh.guestToken).not.toBe(unknown);
    expect([alice.id, bob.id]).not.toContain(fresh.id);

    const aliceAfter = (
      await sendCart(app, 'GET', '/api/cart', { token: alice.guestToken })
    ).json() as CartView;
    expect(aliceAfter.lines).toMatchObject([{ id: aliceLine, quantity: 1 }]);
  });

  it('a user has one open cart; another user cannot see or change its lines', async () => {
    const [userA, userB] = await Promise.all([createUser(app), createUser(app)]);
    const product = await stockedProduct(app, seller);
    const [variant] = product.variants;

    expect((await sendCart(app, 'GET', '/api/cart', { user: userA })).json().id).toBeNull();
    const noCart = await sendCart(app, 'DELETE', '/api/cart', { user: userA });
    expect(noCart.statusCode).toBe(404);
    expect(noCart.json().error.code).toBe('cart_not_found');

    const first = await addLine(app, { user: userA }, variant!.id, 1);
    expect(first.guestToken).toBeUndefined();
    const second = await addLine(app, { user: userA }, variant!.id, 1);
    expect(second.id).toBe(first.id);
    const [row] = await app.platform.db.select().from(carts).where(eq(carts.id, first.id!));
    expect(row).toMatchObject({ userId: userA.user.id, guestTokenHash: null });

    const bCart = await addLine(app, { user: userB }, variant!.id, 3);
    expect(bCart.id).not.toBe(first.id);
    const bLine = bCart.lines[0]!.id;
    const patch = await sendCart(app, 'PATCH', `/api/cart/lines/${bLine}`, {
      user: userA,
      payload: { quantity: 1 },
    });
    expect(patch.statusCode).toBe(404);
    expect(patch.json().error.code).toBe('not_found');
    const remove = await sendCart(app, 'DELETE', `/api/cart/lines/${bLine}`, { user: userA });
    expect(remove.statusCode).toBe(404);
    expect(remove.json().error.code).toBe('not_found');
    const aView = (await sendCart(app, 'GET', '/api/cart', { user: userA })).json() as CartView;
    expect(aView.lines.map((line) => line.id)).not.toContain(bLine);
    const bView = (await sendCart(app, 'GET', '/api/cart', { user: userB })).json() as CartView;
    expect(bView.lines).toMatchObject([{ id: bLine, quantity: 3 }]);

    // Concurrent first adds by one user still make one cart (the partial unique index decides).
    const userC = await createUser(app);
    const views = await Promise.all([1, 2, 3, 4].map(() => addLine(app, { user: userC }, variant!.id, 1)));
    expect(new Set(views.map((view) => view.id)).size).toBe(1);
    const cView = (await sendCart(app, 'GET', '/api/cart', { user: userC })).json() as CartView;
    expect(cView.lines).toMatchObject([{ quantity: 4 }]);
  });

  it('a cart holds one currency: another is 409 until the cart is emptied', async () => {
    const usd = await stockedProduct(app, seller, { currency: 'USD' });
    const krw = await stockedProduct(app, seller, { currency: 'KRW', priceMinor: 129_000 });
    const cart = await addLine(app, {}, usd.variants[0]!.id, 1);
    const token = cart.guestToken!;
    const mismatch = await sendCart(app, 'POST', '/api/cart/lines', {
      token,
      payload: { variantId: krw.variants[0]!.id, quantity: 1 },
    });
    expect(mismatch.statusCode).toBe(409);
    expect(mismatch.json().error).toMatchObject({
      code: 'cart_currency_mismatch',
      details: { cartCurrency: 'USD', variantCurrency: 'KRW' },
    });
    await sendCart(app, 'DELETE', '/api/cart', { token });
    const switched = await addLine(app, { token }, krw.variants[0]!.id, 1);
    expect(switched).toMatchObject({ id: cart.id, currency: 'KRW', itemsMinor: 129_000 });
  });

  it('only variants of active products can be added; an unknown variant is 404', async () => {
    const draft = await createProduct(app, seller);
    const archived = await createProduct(app, seller, { status: 'archived' });
    for (const product of [draft, archived]) {
      await giveStock(app, product.variants[0]!.id, 10);
      const response = await sendCart(app, 'POST', '/api/cart/lines', {
        payload: { variantId: product.variants[0]!.id, quantity: 1 },
      });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('product_unavailable');
    }
    const unknown = await sendCart(app, 'POST', '/api/cart/lines', {
      payload: { variantId: randomUUID(), quantity: 1 },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    // Nothing half-done: the refused adds created no cart.
    expect(unknown.json().guestToken).toBeUndefined();
  });

  it('quantities stay within 1..99 per line', async () => {
    const product = await stockedProduct(app, seller, { units: 500 });
    const variantId = product.variants[0]!.id;
    for (const quantity of [0, -1, 100, 1.5]) {
      const response = await sendCart(app, 'POST', '/api/cart/lines', { payload: { variantId, quantity } });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    const cart = await addLine(app, {}, variantId, 60);
    const token = cart.guestToken!;
    const over = await sendCart(app, 'POST', '/api/cart/lines', {
      token,
      payload: { variantId, quantity: 40 },
    });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatchObject({
      code: 'cart_quantity_limit',
      details: { max: 99, inCart: 60 },
    });
    expect((await addLine(app, { token }, variantId, 39)).lines[0]!.quantity).toBe(99);
    const lineId = cart.lines[0]!.id;
    for (const quantity of [0, 100]) {
      const response = await sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, {
        token,
        payload: { quantity },
      });
      expect(response.statusCode).toBe(400);
    }
    const view = (await sendCart(app, 'GET', '/api/cart', { token })).json() as CartView;
    expect(view.lines[0]!.quantity).toBe(99);
  });

  it('adding or raising past the units available is 409 insufficient_stock', async () => {
    const product = await stockedProduct(app, seller, { units: 3 });
    const variantId = product.variants[0]!.id;
    const tooMany = await sendCart(app, 'POST', '/api/cart/lines', { payload: { variantId, quantity: 4 } });
    expect(tooMany.statusCode).toBe(409);
    expect(tooMany.json().error).toMatchObject({
      code: 'insufficient_stock',
      details: { variantId, available: 3 },
    });

    const cart = await addLine(app, {}, variantId, 2);
    const token = cart.guestToken!;
    expect(cart.lines[0]).toMatchObject({ quantity: 2, available: 3 });
    const more = await sendCart(app, 'POST', '/api/cart/lines', {
      token,
      payload: { variantId, quantity: 2 },
    });
    expect(more.statusCode).toBe(409);
    expect(more.json().error.details).toEqual({ variantId, available: 3 });

    const lineId = cart.lines[0]!.id;
    const toThree = await sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, {
      token,
      payload: { quantity: 3 },
    });
    expect(toThree.statusCode).toBe(200);
    const toFour = await sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, {
      token,
      payload: { quantity: 4 },
    });
    expect(toFour.statusCode).toBe(409);
    expect(toFour.json().error.code).toBe('insufficient_stock');

    // Stock sold elsewhere: the line shows it, and lowering the quantity is still allowed.
    await giveStock(app, variantId, 1);
    const view = (await sendCart(app, 'GET', '/api/cart', { token })).json() as CartView;
    expect(view.lines[0]).toMatchObject({ quantity: 3, available: 1 });
    const lower = await sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, {
      token,
      payload: { quantity: 2 },
    });
    expect(lower.statusCode).toBe(200);
    // A variant that was never stocked has nothing available.
    const unstocked = await createProduct(app, seller, { status: 'active' });
    const none = await sendCart(app, 'POST', '/api/cart/lines', {
      token,
      payload: { variantId: unstocked.variants[0]!.id, quantity: 1 },
    });
    expect(none.json().error).toMatchObject({ code: 'insufficient_stock', details: { available: 0 } });
  });

  it('lines show the current price and whether it changed since adding; adding again takes the new price', async () => {
    const product = await stockedProduct(app, seller, { priceMinor: 1_000 });
    const variantId = product.variants[0]!.id;
    const cart = await addLine(app, {}, variantId, 2);
    const token = cart.guestToken!;
    await app.platform.db
      .update(productVariants)
      .set({ priceMinor: 1_200 })
      .where(eq(productVariants.id, variantId));
    const view = (await sendCart(app, 'GET', '/api/cart', { token })).json() as CartView;
    expect(view.lines[0]).toMatchObject({
      unitPriceMinor: 1_200,
      addedUnitPriceMinor: 1_000,
      priceChanged: true,
      lineTotalMinor: 2_400,
    });
    expect(view.itemsMinor).toBe(2_400);
    const readded = await addLine(app, { token }, variantId, 1);
    expect(readded.lines[0]).toMatchObject({ quantity: 3, addedUnitPriceMinor: 1_200, priceChanged: false });
  });
});
