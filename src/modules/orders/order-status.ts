import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import {
  insertOrderEvent,
  type OrderRow,
  type OrderStatusChanges,
  updateOrderIfStatus,
} from './orders.repo.ts';
import type { OrderStatus } from './orders.tables.ts';

registerErrorCodes({
  /** The order is not in a status that allows this step (ship an unpaid order, deliver twice…). */
  order_status_conflict: 409,
});

/**
 * Every fulfilment transition there is. Nothing writes `orders.status` except `transitionOrder`,
 * which refuses anything not listed here.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  pending_payment: ['paid', 'cancelled'],
  paid: ['shipped', 'refunded'],
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  cancelled: [],
  refunded: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** `buyer`, `staff`, `system`, or `provider:<name>` for changes caused by a verified payment event. */
export type OrderActorKind = 'buyer' | 'staff' | 'system' | `provider:${string}`;

export interface OrderActor {
  readonly kind: OrderActorKind;
  readonly id: string | null;
}

export interface TransitionInput {
  /** The order as read under its row lock. */
  readonly order: OrderRow;
  readonly to: OrderStatus;
  readonly actor: OrderActor;
  readonly now: Date;
  /** The timeline event's type; defaults to the target status (`paid`, `shipped`, …). */
  readonly type?: string;
  readonly note?: string | null;
  readonly data?: Record<string, unknown>;
  /** Columns that change with the status (`paid_at`, `cancel_reason`, …). */
  readonly set?: OrderStatusChanges;
}

/**
 * Moves an order to `to` and writes its timeline event. The update is conditional on the status
 * the caller read (`WHERE status = $from`), so two callers racing on an unlocked read cannot both
 * apply the same transition: the second gets `order_status_conflict`.
 */
export async function transitionOrder(tx: DbOrTx, input: TransitionInput): Promise<OrderRow> {
  const { order, to, actor, now } = input;
  if (!canTransition(order.status, to)) throw statusConflict(order, to);
  const updated = await updateOrderIfStatus(tx, order.id, order.status, {
    ...input.set,
    status: to,
    updatedAt: now,
  });
  if (!updated) throw statusConflict(order, to);
  await insertOrderEvent(tx, {
    orderId: order.id,
    type: input.type ?? to,
    fromStatus: order.status,
    toStatus: to,
    actorKind: actor.kind,
    actorId: actor.id,
    note: input.note ?? null,
    data: input.data ?? {},
    createdAt: now,
  });
  return updated;
}

export function statusConflict(order: Pick<OrderRow, 'status'>, to: OrderStatus): AppError {
  return new AppError('order_status_conflict', `An order that is ${order.status} cannot become ${to}`, {
    details: { status: order.status, wanted: to },
  });
}
