import type { DbOrTx } from '../../platform/db/types.ts';
import type { CaravanModule } from '../../platform/module.ts';
import { setReviewEligibility } from '../catalog/review-eligibility.ts';
import { findOrderOfBuyer, hasDeliveredOrderLine, type OrderRow } from './orders.repo.ts';
import { registerOrdersRoutes } from './orders.routes.ts';
import { paymentTimeoutCron, paymentTimeoutJob } from './payment-timeout.jobs.ts';
// Registers the order email templates (en, ko) at import time.
import './orders.templates.ts';

export {
  applyPaymentToOrder,
  OUT_OF_STOCK_AFTER_PAYMENT,
  type PaymentStateForOrder,
} from './apply-payment.ts';
export { cancelOrder } from './cancel-order.ts';
export { createPendingOrder, type NewOrder, type NewOrderLine } from './create-order.ts';
export { type OrdersDeps, ordersDeps } from './order-notifications.ts';
export { canTransition, ORDER_TRANSITIONS, type OrderActorKind } from './order-status.ts';
export type { OrderLineRow, OrderRow } from './orders.repo.ts';
export {
  ORDER_KINDS,
  ORDER_PAYMENT_STATUSES,
  ORDER_STATUSES,
  type OrderAddress,
  type OrderKind,
  type OrderPaymentStatus,
  type OrderStatus,
} from './orders.tables.ts';
export {
  cancelOverduePendingOrders,
  PAYMENT_TIMEOUT_REASON,
  paymentTimeoutJob,
} from './payment-timeout.jobs.ts';

/** The buyer's own order, or null for a missing order and for anyone else's (callers answer 404 to both). */
export async function findOrderForBuyer(
  db: DbOrTx,
  input: { orderId: string; buyerId: string },
): Promise<OrderRow | null> {
  return (await findOrderOfBuyer(db, input)) ?? null;
}

export const ordersModule: CaravanModule = {
  name: 'orders',
  jobs: [paymentTimeoutJob],
  crons: [paymentTimeoutCron],
  setup(services) {
    // Catalog asks through its port; a review is proof of a delivered purchase.
    setReviewEligibility(services, { hasDeliveredOrderLine });
  },
  routes: registerOrdersRoutes,
};
