import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { stockLevels } from './inventory.tables.ts';

/**
 * Units on sale now per variant (not held, not sold), for display in carts and product pages.
 * A variant with no stock row has none. A plain read: checkout re-checks under a row lock.
 */
export async function availableQuantities(
  db: DbOrTx,
  variantIds: readonly string[],
): Promise<Map<string, number>> {
  const result = new Map<string, number>(variantIds.map((id) => [id, 0]));
  if (variantIds.length === 0) return result;
  const rows = await db
    .select({ variantId: stockLevels.variantId, available: stockLevels.available })
    .from(stockLevels)
    .where(inArray(stockLevels.variantId, [...variantIds]));
  for (const row of rows) result.set(row.variantId, row.available);
  return result;
}
