import type { PlatformServices } from '../../platform/services.ts';
import { stockUnstockedVariants } from './inventory.repo.ts';

export const DEMO_UNITS = 25;
/** Variants stocked per transaction: bounded so a generated catalog of millions seeds in steps. */
const BATCH = 5_000;

/**
 * Demo stock: every variant without a stock row receives 25 units (one `receive` movement each,
 * note `demo seed`). Variants that have a row, whatever its counts, are never touched, so running
 * it twice (or after real receipts) changes nothing.
 */
export async function seedInventory(services: PlatformServices): Promise<void> {
  if (services.config.env === 'production') return;
  let afterId: string | null = null;
  let stocked = 0;
  for (;;) {
    const from: string | null = afterId;
    const batch: { count: number; lastId: string | null } = await services.db.transaction((tx) =>
      stockUnstockedVariants(tx, { quantity: DEMO_UNITS, limit: BATCH, afterId: from, note: 'demo seed' }),
    );
    stocked += batch.count;
    if (batch.count < BATCH || !batch.lastId) break;
    afterId = batch.lastId;
  }
  if (stocked > 0) services.logger.info({ variants: stocked, units: DEMO_UNITS }, 'demo stock received');
}
