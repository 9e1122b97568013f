import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { TemplateDefinition } from '../../platform/notify/templates.ts';
import { releaseHolds } from '../inventory/index.ts';
import { notifyBuyer, type OrdersDeps } from './order-notifications.ts';
import { type OrderActor, transitionOrder } from './order-status.ts';
import { lockOrder, type OrderRow } from './orders.repo.ts';
import { orderCancelledTemplate } from './orders.templates.ts';

registerErrorCodes({
  /** Only unpaid orders are cancelled; a paid one is refunded instead (payments' staff refund). */
  order_not_cancellable: 409,
});

export const orderNotFound = () => new AppError('not_found', 'No such order');

export interface CancelLockedInput {
  /** Read under its row lock in `tx`. */
  readonly order: OrderRow;
  readonly reason: string;
  readonly actor: OrderActor;
  /** Why inventory releases the holds: `expired` for the payment timeout, else `cancelled`. */
  readonly holdsReason: 'expired' | 'cancelled';
  readonly template: TemplateDefinition;
}

/**
 * Cancels an unpaid order whose row the caller has locked: status, timeline, stock holds released,
 * buyer emailed (after commit). Already cancelled: returned unchanged, so a retried cancel is
 * harmless. Anything past payment: `order_not_cancellable`.
 */
export async function cancelLockedOrder(
  tx: DbOrTx,
  deps: OrdersDeps,
  input: CancelLockedInput,
): Promise<OrderRow> {
  const { order, reason, actor } = input;
  if (order.status === 'cancelled') return order;
  if (order.status !== 'pending_payment') {
    throw new AppError(
      'order_not_cancellable',
      `Order #${order.number} is ${order.status}; only unpaid orders can be cancelled (refund a paid one)`,
      { details: { status: order.status } },
    );
  }
  const now = deps.clock.now();
  const cancelled = await transitionOrder(tx, {
    order,
    to: 'cancelled',
    actor,
    now,
    note: reason,
    data: { reason },
    set: { cancelledAt: now, cancelReason: reason },
  });
  await releaseHolds(tx, { orderId: order.id, reason: input.holdsReason, actorId: actor.id, at: now });
  await notifyBuyer(tx, deps, { order: cancelled, template: input.template.name, event: 'cancelled' });
  return cancelled;
}

/**
 * Cancels an unpaid order in the caller's transaction (buyer, staff, or the system such as
 * checkout's compensation). See `cancelLockedOrder` for what happens.
 */
export async function cancelOrder(
  tx: DbOrTx,
  deps: OrdersDeps,
  input: { orderId: string; reason: string; actorKind: 'buyer' | 'staff' | 'system'; actorId: string | null },
): Promise<OrderRow> {
  const order = await lockOrder(tx, input.orderId);
  if (!order) throw orderNotFound();
  return cancelLockedOrder(tx, deps, {
    order,
    reason: input.reason,
    actor: { kind: input.actorKind, id: input.actorId },
    holdsReason: 'cancelled',
    template: orderCancelledTemplate,
  });
}
