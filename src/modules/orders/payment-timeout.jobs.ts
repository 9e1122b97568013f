import Type from 'typebox';
import { defineCron, defineJob } from '../../platform/jobs/define-job.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { cancelLockedOrder } from './cancel-order.ts';
import { ordersDeps } from './order-notifications.ts';
import { findOverdueOrderIds, lockOverdueOrder } from './orders.repo.ts';
import { paymentExpiredTemplate } from './orders.templates.ts';

export const PAYMENT_TIMEOUT_REASON = 'payment_timeout';
const BATCH_SIZE = 100;

export interface PaymentTimeoutResult {
  readonly cancelled: number;
  /** Locked by another transaction (a payment being applied, another sweep) or no longer due. */
  readonly skipped: number;
  readonly failed: number;
}

/**
 * Cancels every unpaid order whose payment is due (`payment_due_at <= clock.now()`), each in its
 * own transaction so one bad order cannot hold back the rest, and skipping rows another
 * transaction holds (`FOR UPDATE SKIP LOCKED`): a payment being applied to that order right now
 * wins, and the next run sees the outcome. Pages walk forward by (payment_due_at, id), so a skipped
 * or failed row is not picked again in the same run.
 */
export async function cancelOverduePendingOrders(
  services: Pick<PlatformServices, 'db' | 'clock' | 'notifier' | 'logger'>,
  options: { batchSize?: number } = {},
): Promise<PaymentTimeoutResult> {
  const { db, clock, logger } = services;
  const deps = ordersDeps(services);
  const now = clock.now();
  const batchSize = options.batchSize ?? BATCH_SIZE;
  let cancelled = 0;
  let skipped = 0;
  let failed = 0;
  let after: { dueKey: string; id: string } | undefined;
  for (;;) {
    const batch = await findOverdueOrderIds(db, { now, after, limit: batchSize });
    for (const { id } of batch) {
      try {
        const done = await db.transaction(async (tx) => {
          const order = await lockOverdueOrder(tx, id, now);
          if (!order) return false;
          await cancelLockedOrder(tx, deps, {
            order,
            reason: PAYMENT_TIMEOUT_REASON,
            actor: { kind: 'system', id: null },
            holdsReason: 'expired',
            template: paymentExpiredTemplate,
          });
          return true;
        });
        if (done) cancelled++;
        else skipped++;
      } catch (error) {
        failed++;
        logger.error({ err: error, orderId: id }, 'payment timeout: could not cancel the order');
      }
    }
    const last = batch.at(-1);
    if (!last || batch.length < batchSize) break;
    after = { dueKey: last.dueKey, id: last.id };
  }
  if (cancelled + skipped + failed > 0) {
    logger.info({ cancelled, skipped, failed }, 'payment timeout: unpaid orders past their due time');
  }
  return { cancelled, skipped, failed };
}

export const paymentTimeoutJob = defineJob(
  'orders.payment-timeout',
  Type.Object({}),
  async ({ services }) => {
    const { failed } = await cancelOverduePendingOrders(services);
    // Retrying re-walks what is still due; orders already cancelled are no longer selected.
    if (failed > 0) throw new Error(`${failed} overdue orders could not be cancelled`);
  },
  { retryLimit: 2, retryDelaySeconds: 60 },
);

/** Hourly, on the hour (seed 004: unpaid orders are cancelled after the grace period). */
export const paymentTimeoutCron = defineCron('orders.payment-timeout', '0 * * * *', paymentTimeoutJob, {});
