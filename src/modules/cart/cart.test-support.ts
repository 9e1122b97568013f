import { createProduct, type ProductFactoryInput } from '../../../test/factories/catalog.ts';
import { appWithSeller } from '../../../test/factories/commerce.ts';
import type { TestUser } from '../../../test/factories/users.ts';
import type { TestApp, TestAppOptions } from '../../../test/harness/build-test-app.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import { stockLevels } from '../inventory/inventory.tables.ts';
import type { CartView } from './cart.schemas.ts';

/** Test-only helpers for the cart tests (not imported by the app). */

/** A test app (jobs off unless `options` turns them on) and a seller to own the products. */
export function cartTestApp(options: TestAppOptions = {}) {
  return appWithSeller({ startJobs: false, ...options });
}

export interface CartRequest {
  readonly user?: TestUser | undefined;
  readonly token?: string | undefined;
  readonly payload?: object;
}

/** `app.http.inject` as a user and/or with a guest cart token. */
export function sendCart(
  app: TestApp,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  { user, token, payload }: CartRequest = {},
) {
  const headers: Record<string, string> = { ...(user?.headers ?? {}) };
  if (token !== undefined) headers['x-cart-token'] = token;
  return app.http.inject({ method, url, headers, ...(payload ? { payload } : {}) });
}

/** Stock on sale for a variant, written the way receiving would leave it (received = available). */
export async function giveStock(app: TestApp, variantId: string, units: number): Promise<void> {
  await app.platform.db
    .insert(stockLevels)
    .values({ variantId, received: units, available: units })
    .onConflictDoUpdate({ target: stockLevels.variantId, set: { received: units, available: units } });
}

/** An active product whose variants each have `units` on sale (default 50). */
export async function stockedProduct(
  app: TestApp,
  seller: TestUser,
  input: ProductFactoryInput & { units?: number } = {},
): Promise<ProductView> {
  const { units = 50, ...rest } = input;
  const product = await createProduct(app, seller, { status: 'active', ...rest });
  for (const variant of product.variants) await giveStock(app, variant.id, units);
  return product;
}

/** Adds a line and returns the cart view, failing loudly on anything but 200. */
export async function addLine(
  app: TestApp,
  who: Omit<CartRequest, 'payload'>,
  variantId: string,
  quantity: number,
): Promise<CartView> {
  const response = await sendCart(app, 'POST', '/api/cart/lines', {
    ...who,
    payload: { variantId, quantity },
  });
  if (response.statusCode !== 200) throw new Error(`add line: ${response.statusCode} ${response.body}`);
  return response.json() as CartView;
}
