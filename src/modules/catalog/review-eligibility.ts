import type { DbOrTx } from '../../platform/db/types.ts';
import type { PlatformServices } from '../../platform/services.ts';

/**
 * Who may review a product: a buyer with a delivered order line for it. Orders belong to another
 * module (not built yet), so catalog asks through this port instead of reading order tables.
 * The answer is read in the review's transaction (`tx`), so an implementation sees the same
 * snapshot the review is written in.
 */
export interface ReviewEligibility {
  hasDeliveredOrderLine(tx: DbOrTx, query: { userId: string; productId: string }): Promise<boolean>;
}

/**
 * The default until the orders module calls `setReviewEligibility` from its `setup`: nobody has a
 * delivered order, so nobody may review. Refusing is the safe side: a review is proof of purchase.
 */
export const noDeliveredOrders: ReviewEligibility = {
  hasDeliveredOrderLine: async () => false,
};

// Keyed by the services object: one registry per app instance, nothing global across test apps.
const registry = new WeakMap<PlatformServices, ReviewEligibility>();

/** Installs the implementation for one app (the orders module in `setup`; tests with a fixture). */
export function setReviewEligibility(services: PlatformServices, impl: ReviewEligibility): void {
  registry.set(services, impl);
}

/**
 * The port for `services`, looked up on every call: an implementation installed after the routes
 * were registered (a later module's setup, a test) still takes effect.
 */
export function reviewEligibilityFor(services: PlatformServices): ReviewEligibility {
  return {
    hasDeliveredOrderLine: (tx, query) =>
      (registry.get(services) ?? noDeliveredOrders).hasDeliveredOrderLine(tx, query),
  };
}
