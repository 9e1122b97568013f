import Type from 'typebox';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { defineCron, defineJob } from '../../platform/jobs/define-job.ts';
import { releaseDueHolds } from './inventory.repo.ts';
import { returnExpiredHolds } from './stock-holds.ts';

export const EXPIRE_BATCH_SIZE = 200;
/** Bounds one run (10,000 holds); whatever is left is picked up by the next minute's run. */
const MAX_BATCHES_PER_RUN = 50;

export interface ExpiredHoldsReport {
  readonly holds: number;
  readonly units: number;
  readonly orders: number;
}

/**
 * Releases every active hold whose `expires_at` has passed by `clock.now()`, `batchSize` holds per
 * transaction so a backlog never holds many stock rows locked at once. Safe to run concurrently
 * and repeatedly: only active holds are touched, and SKIP LOCKED leaves holds a payment is
 * settling to that payment.
 */
export async function releaseExpiredHolds({
  db,
  clock,
  batchSize = EXPIRE_BATCH_SIZE,
}: {
  db: Db;
  clock: Clock;
  batchSize?: number;
}): Promise<ExpiredHoldsReport> {
  const now = clock.now();
  const orders = new Set<string>();
  let holds = 0;
  let units = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
    const { released, releasedUnits } = await db.transaction(async (tx) => {
      const due = await releaseDueHolds(tx, now, batchSize);
      return { released: due, releasedUnits: await returnExpiredHolds(tx, due, now) };
    });
    holds += released.length;
    units += releasedUnits;
    for (const hold of released) orders.add(hold.orderId);
    if (released.length < batchSize) break;
  }
  return { holds, units, orders: orders.size };
}

export const expireHoldsJob = defineJob(
  'inventory.expire-holds',
  Type.Object({}),
  async ({ services, logger }) => {
    const report = await releaseExpiredHolds({ db: services.db, clock: services.clock });
    if (report.holds > 0) logger.info(report, 'expired stock holds released');
  },
  // A run that fails is simply repeated by the next minute's schedule.
  { retryLimit: 0 },
);

export const expireHoldsCron = defineCron('inventory.expire-holds', '* * * * *', expireHoldsJob, {});
