import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { appWithSeller, stockOf } from '../../../test/factories/commerce.ts';
import type { TestUser } from '../../../test/factories/users.ts';
import type { TestApp, TestAppOptions } from '../../../test/harness/build-test-app.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { accountsModule } from '../accounts/index.ts';
import { catalogModule } from '../catalog/index.ts';
import { inventoryModule } from './index.ts';
import { inventoryMovements, stockHolds } from './inventory.tables.ts';
import { receiveStock } from './stock-changes.ts';

/** What inventory needs to run: accounts (users, staff), catalog (variants), and itself. */
export const inventoryTestModules = [notifyModule, accountsModule, catalogModule, inventoryModule];

/** A test app with only what inventory needs (jobs off unless `options` turns them on), and a seller. */
export function inventoryTestApp(options: TestAppOptions = {}) {
  return appWithSeller({ modules: inventoryTestModules, startJobs: false, ...options });
}

/** Active product variants of `seller`, each stocked with the given units (0: no stock row). */
export async function stockedVariants(
  app: TestApp,
  seller: TestUser,
  units: readonly number[],
): Promise<string[]> {
  const product = await createProduct(app, seller, {
    status: 'active',
    variants: units.map((_, index) => ({ title: `V${index + 1}`, position: index })),
  });
  const ids = product.variants.map((variant) => variant.id);
  await app.platform.db.transaction(async (tx) => {
    for (const [index, quantity] of units.entries()) {
      const variantId = ids[index];
      if (variantId && quantity > 0) {
        await receiveStock(tx, { variantId, quantity, actorId: null, note: 'test stock' });
      }
    }
  });
  return ids;
}

/** The variant's stock row; throws if it has none. */
export const levelOf = stockOf;

/** The CHECK constraints' invariant, asserted from the outside too. */
export async function expectBalanced(app: TestApp, variantId: string) {
  const row = await levelOf(app, variantId);
  expect(row.available).toBeGreaterThanOrEqual(0);
  expect(row.held).toBeGreaterThanOrEqual(0);
  expect(row.sold).toBeGreaterThanOrEqual(0);
  expect(row.available + row.held + row.sold).toBe(row.received - row.adjusted);
  // `held` is exactly what the active holds reserve.
  const [holds] = await app.platform.db
    .select({ units: sql<number>`coalesce(sum(${stockHolds.quantity}), 0)::int` })
    .from(stockHolds)
    .where(sql`${stockHolds.variantId} = ${variantId} and ${stockHolds.status} = 'active'`);
  expect(holds?.units).toBe(row.held);
  return row;
}

export async function movementsOf(app: TestApp, variantId: string) {
  return app.platform.db
    .select()
    .from(inventoryMovements)
    .where(eq(inventoryMovements.variantId, variantId))
    .orderBy(inventoryMovements.id);
}

export async function holdsOf(app: TestApp, orderId: string) {
  return app.platform.db
    .select()
    .from(stockHolds)
    .where(eq(stockHolds.orderId, orderId))
    .orderBy(stockHolds.variantId);
}

export const newOrderId = () => randomUUID();
