import { eq } from 'drizzle-orm';
import type { CheckoutResultValue } from '../../src/modules/checkout/checkout.schemas.ts';
import { receiveStock } from '../../src/modules/inventory/index.ts';
import { stockLevels } from '../../src/modules/inventory/inventory.tables.ts';
import { orders } from '../../src/modules/orders/orders.tables.ts';
import { buildTestApp, type TestApp, type TestAppOptions } from '../harness/build-test-app.ts';
import { waitFor } from '../harness/wait-for.ts';
import { createProduct } from './catalog.ts';
import { createUser, type TestUser } from './users.ts';

export const TEST_ADDRESS = {
  name: 'Minji Kim',
  line1: '350 5th Ave',
  city: 'New York',
  region: 'NY',
  postalCode: '10118',
  country: 'US',
};

/**
 * A test app and a seller to own its products. If the seller cannot be made the app is closed here,
 * since the caller never got it to close.
 */
export async function appWithSeller(
  options: TestAppOptions = {},
): Promise<{ app: TestApp; seller: TestUser }> {
  const app = await buildTestApp(options);
  try {
    return { app, seller: await createUser(app, { roles: ['seller'] }) };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** An active product with one variant and `units` in stock; returns the variant id. */
export async function stockedVariant(
  app: TestApp,
  options: { units?: number; priceMinor?: number; currency?: string; seller?: TestUser } = {},
): Promise<{ variantId: string; productId: string; seller: TestUser }> {
  const seller = options.seller ?? (await createUser(app, { roles: ['seller'] }));
  const product = await createProduct(app, seller, {
    status: 'active',
    priceMinor: options.priceMinor ?? 10_000,
    currency: options.currency ?? 'USD',
  });
  const variantId = product.variants[0]!.id;
  if ((options.units ?? 10) > 0) {
    await app.platform.db.transaction((tx) =>
      receiveStock(tx, { variantId, quantity: options.units ?? 10, actorId: null, note: 'test stock' }),
    );
  }
  return { variantId, productId: product.id, seller };
}

export async function addToCart(app: TestApp, user: TestUser, variantId: string, quantity = 1) {
  const response = await app.http.inject({
    method: 'POST',
    url: '/api/cart/lines',
    headers: user.headers,
    payload: { variantId, quantity },
  });
  if (response.statusCode >= 300) throw new Error(`add to cart: ${response.statusCode} ${response.body}`);
  return response.json();
}

export async function checkout(
  app: TestApp,
  user: TestUser,
  options: { idempotencyKey?: string; body?: Record<string, unknown> } = {},
) {
  return app.http.inject({
    method: 'POST',
    url: '/api/checkout',
    headers: {
      ...user.headers,
      ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
    },
    payload: { shippingAddress: TEST_ADDRESS, ...options.body },
  });
}

/** A buyer with `quantity` of the variant in the cart, checked out; returns the checkout answer. */
export async function placeOrder(
  app: TestApp,
  variantId: string,
  options: { buyer?: TestUser; quantity?: number; body?: Record<string, unknown> } = {},
): Promise<{ buyer: TestUser; result: CheckoutResultValue }> {
  const buyer = options.buyer ?? (await createUser(app));
  await addToCart(app, buyer, variantId, options.quantity ?? 1);
  const response = await checkout(app, buyer, { body: options.body });
  if (response.statusCode !== 201) throw new Error(`checkout: ${response.statusCode} ${response.body}`);
  return { buyer, result: response.json() as CheckoutResultValue };
}

/** Clicks "pay" or "decline" on the local hosted page, as the browser form does. */
export async function clickLocalPage(app: TestApp, redirectUrl: string, outcome: 'pay' | 'fail') {
  const url = new URL(redirectUrl);
  const form = new URLSearchParams({
    expires: url.searchParams.get('expires') ?? '',
    sig: url.searchParams.get('sig') ?? '',
  });
  return app.http.inject({
    method: 'POST',
    url: `${url.pathname}/${outcome}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: form.toString(),
  });
}

export async function orderRow(app: TestApp, orderId: string) {
  const [row] = await app.platform.db.select().from(orders).where(eq(orders.id, orderId));
  if (!row) throw new Error(`no order ${orderId}`);
  return row;
}

export async function waitForOrder(
  app: TestApp,
  orderId: string,
  predicate: (order: typeof orders.$inferSelect) => boolean,
  what = 'order state',
) {
  return waitFor(
    async () => {
      const row = await orderRow(app, orderId);
      return predicate(row) ? row : undefined;
    },
    { what },
  );
}

export async function stockOf(app: TestApp, variantId: string) {
  const [row] = await app.platform.db.select().from(stockLevels).where(eq(stockLevels.variantId, variantId));
  if (!row) throw new Error(`no stock row for ${variantId}`);
  return row;
}
