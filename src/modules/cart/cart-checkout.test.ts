import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { products } from '../catalog/catalog.tables.ts';
import type { CartView } from './cart.schemas.ts';
import { carts } from './cart.tables.ts';
import { addLine, cartTestApp, sendCart, stockedProduct } from './cart.test-support.ts';
import { type CheckoutCart, cartFingerprint, lockCartForCheckout, markCartCheckedOut } from './index.ts';

describe('cart for checkout', () => {
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await cartTestApp());
  });
  afterAll(() => app?.close());

  it('lockCartForCheckout returns the open cart with current line data, or null', async () => {
    const user = await createUser(app);
    expect(await app.platform.db.transaction((tx) => lockCartForCheckout(tx, user.user.id))).toBeNull();

    const lamp = await stockedProduct(app, seller, {
      title: 'Lamp',
      variants: [{ title: 'Brass', priceMinor: 4_000 }],
    });
    const cart = await addLine(app, { user }, lamp.variants[0]!.id, 2);
    await app.platform.db.update(products).set({ status: 'archived' }).where(eq(products.id, lamp.id));

    const locked = await app.platform.db.transaction((tx) => lockCartForCheckout(tx, user.user.id));
    expect(locked).toEqual({
      id: cart.id,
      userId: user.user.id,
      currency: 'USD',
      updatedAt: expect.any(Date),
      lines: [
        {
          lineId: cart.lines[0]!.id,
          variantId: lamp.variants[0]!.id,
          productId: lamp.id,
          sellerId: seller.user.id,
          sku: lamp.variants[0]!.sku,
          title: 'Lamp — Brass',
          quantity: 2,
          unitPriceMinor: 4_000,
          addedUnitPriceMinor: 4_000,
          currency: 'USD',
          productStatus: 'archived',
        },
      ],
    });
  });

  it('holds the cart row: a cart change waits for checkout and then finds the cart checked out', async () => {
    const user = await createUser(app);
    const product = await stockedProduct(app, seller);
    const cart = await addLine(app, { user }, product.variants[0]!.id, 1);
    const lineId = cart.lines[0]!.id;
    const onPostgres = app.platform.database.kind === 'postgres';

    let pending: ReturnType<typeof sendCart> | undefined;
    await app.platform.db.transaction(async (tx) => {
      const locked = await lockCartForCheckout(tx, user.user.id);
      expect(locked?.id).toBe(cart.id);
      pending = sendCart(app, 'PATCH', `/api/cart/lines/${lineId}`, { user, payload: { quantity: 5 } });
      if (onPostgres) {
        // The PATCH's transaction is blocked on our row lock (another connection of the pool).
        await waitFor(
          async () => {
            const result = await app.platform.db.execute(
              sql`select count(*)::int as waiting from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'`,
            );
            return (result as unknown as { rows: Array<{ waiting: number }> }).rows[0]!.waiting > 0;
          },
          { what: 'the cart change to wait for the row lock' },
        );
      }
      await markCartCheckedOut(tx, locked!.id);
    });
    const response = await pending!;
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('cart_not_found');

    const [row] = await app.platform.db.select().from(carts).where(eq(carts.id, cart.id!));
    expect(row!.status).toBe('checked_out');
    // Checking out twice is harmless; the user starts a new cart afterwards.
    await app.platform.db.transaction((tx) => markCartCheckedOut(tx, cart.id!));
    expect((await sendCart(app, 'GET', '/api/cart', { user })).json().id).toBeNull();
    const next = await addLine(app, { user }, product.variants[0]!.id, 1);
    expect(next.id).not.toBe(cart.id);
    expect(await app.platform.db.transaction((tx) => lockCartForCheckout(tx, user.user.id))).toMatchObject({
      id: next.id,
    });
  });

  it('markCartCheckedOut refuses a merged cart', async () => {
    const user = await createUser(app);
    const product = await stockedProduct(app, seller);
    const guest = await addLine(app, {}, product.variants[0]!.id, 1);
    await sendCart(app, 'POST', '/api/cart/merge', { user, token: guest.guestToken });
    await expect(
      app.platform.db.transaction((tx) => markCartCheckedOut(tx, guest.id!)),
    ).rejects.toMatchObject({ code: 'cart_not_found' });
  });

  it('cartFingerprint depends on the cart and its variants and quantities, not on order or prices', async () => {
    const user = await createUser(app);
    const [a, b] = await Promise.all([stockedProduct(app, seller), stockedProduct(app, seller)]);
    const cartView: CartView = await addLine(app, { user }, a.variants[0]!.id, 1);
    await addLine(app, { user }, b.variants[0]!.id, 2);
    const cart = (await app.platform.db.transaction((tx) => lockCartForCheckout(tx, user.user.id)))!;
    const fingerprint = cartFingerprint(cart);
    expect(fingerprint).toMatch(new RegExp(`^${cartView.id}:[0-9a-f]{64}$`));

    const reordered: CheckoutCart = {
      ...cart,
      lines: [...cart.lines].reverse().map((line) => ({ ...line, unitPriceMinor: line.unitPriceMinor + 1 })),
    };
    expect(cartFingerprint(reordered)).toBe(fingerprint);
    const [first, ...rest] = cart.lines;
    const moreOfOne: CheckoutCart = {
      ...cart,
      lines: [{ ...first!, quantity: first!.quantity + 1 }, ...rest],
    };
    expect(cartFingerprint(moreOfOne)).not.toBe(fingerprint);
    expect(cartFingerprint({ ...cart, lines: rest })).not.toBe(fingerprint);
    const otherCart = { ...cart, id: '00000000-0000-4000-8000-000000000000' };
    expect(cartFingerprint(otherCart).split(':')[1]).toBe(fingerprint.split(':')[1]);
    expect(cartFingerprint(otherCart)).not.toBe(fingerprint);

    // After a change through the API the fingerprint moves.
    await sendCart(app, 'PATCH', `/api/cart/lines/${cart.lines[0]!.lineId}`, {
      user,
      payload: { quantity: 3 },
    });
    const changed = (await app.platform.db.transaction((tx) => lockCartForCheckout(tx, user.user.id)))!;
    expect(cartFingerprint(changed)).not.toBe(fingerprint);
  });
});
