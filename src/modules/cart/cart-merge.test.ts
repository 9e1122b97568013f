import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import type { CartView } from './cart.schemas.ts';
import { cartLines, carts } from './cart.tables.ts';
import { addLine, cartTestApp, sendCart, stockedProduct } from './cart.test-support.ts';
import { newCartToken } from './cart-token.ts';

describe('cart merge', () => {
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await cartTestApp());
  });
  afterAll(() => app?.close());

  const cartRow = async (id: string) =>
    (await app.platform.db.select().from(carts).where(eq(carts.id, id)))[0];
  const lineCount = async (cartId: string) =>
    (await app.platform.db.select().from(cartLines).where(eq(cartLines.cartId, cartId))).length;

  it('a signed-in request with a guest token merges: quantities add up (at most 99), new lines move over', async () => {
    const user = await createUser(app);
    const [x, y] = await Promise.all([
      stockedProduct(app, seller, { units: 500 }),
      stockedProduct(app, seller, { units: 500, priceMinor: 700 }),
    ]);
    const xId = x.variants[0]!.id;
    const yId = y.variants[0]!.id;
    const userCart = await addLine(app, { user }, xId, 97);
    const guest = await addLine(app, {}, xId, 5);
    const token = guest.guestToken!;
    const guestWithY = await addLine(app, { token }, yId, 2);
    const guestYLine = guestWithY.lines.find((line) => line.variantId === yId)!;

    const merged = await sendCart(app, 'GET', '/api/cart', { user, token });
    expect(merged.statusCode).toBe(200);
    const view = merged.json() as CartView;
    expect(view.id).toBe(userCart.id);
    expect(view.guestToken).toBeUndefined();
    expect(view.mergeNotes).toEqual([
      { code: 'quantity_capped', variantId: xId, quantity: 5, currency: 'USD', keptQuantity: 99 },
    ]);
    expect(view.lines.map((line) => [line.variantId, line.quantity])).toEqual([
      [xId, 99],
      [yId, 2],
    ]);
    // The moved line keeps its id and the price the guest saw.
    expect(view.lines[1]).toMatchObject({ id: guestYLine.id, addedUnitPriceMinor: 700 });
    expect(await cartRow(guest.id!)).toMatchObject({ status: 'merged', mergedIntoId: userCart.id });

    // The token now opens nothing for a guest, and merging again changes nothing.
    expect((await sendCart(app, 'GET', '/api/cart', { token })).json().id).toBeNull();
    const again = (await sendCart(app, 'GET', '/api/cart', { user, token })).json() as CartView;
    expect(again.mergeNotes).toBeUndefined();
    expect(again.lines.map((line) => line.quantity)).toEqual([99, 2]);
  });

  it('guest lines in another currency than the user cart are dropped and reported', async () => {
    const user = await createUser(app);
    const krw = await stockedProduct(app, seller, { currency: 'KRW', priceMinor: 50_000 });
    const usd = await stockedProduct(app, seller, { currency: 'USD' });
    const userCart = await addLine(app, { user }, krw.variants[0]!.id, 1);
    const guest = await addLine(app, {}, usd.variants[0]!.id, 3);

    // Merging on an add: the guest cart merges first, then the line is added, in one transaction.
    const response = await sendCart(app, 'POST', '/api/cart/lines', {
      user,
      token: guest.guestToken,
      payload: { variantId: krw.variants[0]!.id, quantity: 1 },
    });
    expect(response.statusCode).toBe(200);
    const view = response.json() as CartView;
    expect(view).toMatchObject({ id: userCart.id, currency: 'KRW', itemCount: 2 });
    expect(view.guestToken).toBeUndefined();
    expect(view.mergeNotes).toEqual([
      {
        code: 'currency_mismatch',
        variantId: usd.variants[0]!.id,
        quantity: 3,
        currency: 'USD',
        keptQuantity: 0,
      },
    ]);
    expect(await cartRow(guest.id!)).toMatchObject({ status: 'merged', mergedIntoId: userCart.id });
  });

  it('POST /api/cart/merge needs a sign-in and the header, creates the user cart, and is a no-op the second time', async () => {
    const [user, other] = await Promise.all([createUser(app), createUser(app)]);
    const product = await stockedProduct(app, seller, { currency: 'EUR' });
    const guest = await addLine(app, {}, product.variants[0]!.id, 4);
    const token = guest.guestToken!;

    expect((await sendCart(app, 'POST', '/api/cart/merge', { token })).statusCode).toBe(401);
    const noHeader = await sendCart(app, 'POST', '/api/cart/merge', { user });
    expect(noHeader.statusCode).toBe(400);
    const unknown = await sendCart(app, 'POST', '/api/cart/merge', { user, token: newCartToken() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('cart_not_found');

    const merged = await sendCart(app, 'POST', '/api/cart/merge', { user, token });
    expect(merged.statusCode).toBe(200);
    const view = merged.json() as CartView;
    expect(view).toMatchObject({ currency: 'EUR', itemCount: 4, mergeNotes: [] });
    expect(view.id).not.toBe(guest.id);
    expect(await cartRow(view.id!)).toMatchObject({ userId: user.user.id, status: 'open' });

    const twice = await sendCart(app, 'POST', '/api/cart/merge', { user, token });
    expect(twice.statusCode).toBe(200);
    expect(twice.json()).toMatchObject({ id: view.id, itemCount: 4 });
    expect(twice.json().mergeNotes).toBeUndefined();
    expect(await lineCount(view.id!)).toBe(1);

    // Another user holding the same token learns nothing about the cart it went into.
    const stolen = await sendCart(app, 'POST', '/api/cart/merge', { user: other, token });
    expect(stolen.statusCode).toBe(404);
    expect(stolen.json().error.code).toBe('cart_not_found');
    expect((await sendCart(app, 'GET', '/api/cart', { user: other, token })).json().id).toBeNull();
  });

  it('five concurrent merges of one guest cart apply it once', async () => {
    const user = await createUser(app);
    const [a, b] = await Promise.all([stockedProduct(app, seller), stockedProduct(app, seller)]);
    const aId = a.variants[0]!.id;
    const bId = b.variants[0]!.id;
    await addLine(app, { user }, aId, 1);
    const guest = await addLine(app, {}, aId, 2);
    const token = guest.guestToken!;
    await addLine(app, { token }, bId, 3);

    const responses = await Promise.all(
      [0, 1, 2, 3, 4].map((index) =>
        index % 2 === 0
          ? sendCart(app, 'POST', '/api/cart/merge', { user, token })
          : sendCart(app, 'GET', '/api/cart', { user, token }),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const views = responses.map((response) => response.json() as CartView);
    expect(views.filter((view) => view.mergeNotes !== undefined)).toHaveLength(1);
    expect(new Set(views.map((view) => view.id)).size).toBe(1);

    const final = (await sendCart(app, 'GET', '/api/cart', { user })).json() as CartView;
    expect(final.lines.map((line) => [line.variantId, line.quantity])).toEqual([
      [aId, 3],
      [bId, 3],
    ]);
    expect(await lineCount(final.id!)).toBe(2);
    const open = await app.platform.db.select().from(carts).where(eq(carts.userId, user.user.id));
    expect(open).toHaveLength(1);
  });

  it('concurrent first merges for a user without a cart make one user cart', async () => {
    const user = await createUser(app);
    const product = await stockedProduct(app, seller);
    const variantId = product.variants[0]!.id;
    const guests = await Promise.all([1, 2, 3].map(() => addLine(app, {}, variantId, 1)));
    const responses = await Promise.all(
      guests.map((guest) => sendCart(app, 'POST', '/api/cart/merge', { user, token: guest.guestToken })),
    );
    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    const final = (await sendCart(app, 'GET', '/api/cart', { user })).json() as CartView;
    expect(final.lines.map((line) => line.quantity)).toEqual([3]);
    expect(new Set(responses.map((response) => response.json().id))).toEqual(new Set([final.id]));
  });
});
