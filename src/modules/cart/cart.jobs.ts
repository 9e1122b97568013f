import Type from 'typebox';
import type { DbOrTx } from '../../platform/db/types.ts';
import { defineCron, defineJob } from '../../platform/jobs/index.ts';
import { deleteStaleCarts } from './cart.repo.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Guest carts untouched this long are abandoned: their token is most likely gone with the browser. */
export const GUEST_CART_RETENTION_DAYS = 30;
/** Merged and checked-out carts are kept a while for support questions, then go. */
export const CLOSED_CART_RETENTION_DAYS = 90;
const BATCH_SIZE = 500;

/**
 * Deletes stale carts in batches of 500, each its own statement, so no run holds many row locks
 * or a long transaction. Returns how many it deleted.
 */
export async function purgeAbandonedCarts(db: DbOrTx, now: Date, batchSize = BATCH_SIZE): Promise<number> {
  const guestBefore = new Date(now.getTime() - GUEST_CART_RETENTION_DAYS * DAY_MS);
  const closedBefore = new Date(now.getTime() - CLOSED_CART_RETENTION_DAYS * DAY_MS);
  let total = 0;
  for (;;) {
    const deleted = await deleteStaleCarts(db, { guestBefore, closedBefore, limit: batchSize });
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Safe to run twice or concurrently: it only deletes what is already past keeping. */
export const purgeAbandonedCartsJob = defineJob(
  'cart.purge-abandoned',
  Type.Object({}),
  async ({ services, logger }) => {
    const deleted = await purgeAbandonedCarts(services.db, services.clock.now());
    logger.info({ deleted }, 'purged stale carts');
  },
  { retryLimit: 3, retryDelaySeconds: 60 },
);

export const purgeAbandonedCartsCron = defineCron(
  'cart.purge-abandoned',
  '23 3 * * *',
  purgeAbandonedCartsJob,
  {},
);
