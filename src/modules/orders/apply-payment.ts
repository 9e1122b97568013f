import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { releaseHolds, sellHeldStock } from '../inventory/index.ts';
import type { PaymentStatus } from '../payments/payments.tables.ts';
import { orderNotFound } from './cancel-order.ts';
import { formatMoney, notifyBuyer, type OrdersDeps } from './order-notifications.ts';
import { type OrderActor, transitionOrder } from './order-status.ts';
import {
  findOrderLines,
  findSettlingPaymentId,
  hasPaymentEvent,
  insertOrderEvent,
  lockOrder,
  type OrderRow,
  type OrderStatusChanges,
  updateOrderIfStatus,
} from './orders.repo.ts';
import type { OrderPaymentStatus } from './orders.tables.ts';
import {
  outOfStockAfterPaymentTemplate,
  paymentReceivedTemplate,
  refundIssuedTemplate,
} from './orders.templates.ts';

registerErrorCodes({
  /** A payment in another currency than its order: a bug upstream, never applied. */
  payment_currency_mismatch: 422,
});

/** What payments tells the order after every change of a payment's status. */
export interface PaymentStateForOrder {
  orderId: string;
  paymentId: string;
  provider: string;
  status: PaymentStatus;
  previousStatus: PaymentStatus;
  capturedMinor: number;
  refundedMinor: number;
  currency: string;
  failureCode: string | null;
}

/** Statuses in which money was taken (payments derives them from captured/refunded amounts). */
const MONEY_STATUSES: ReadonlySet<PaymentStatus> = new Set([
  'captured',
  'partially_refunded',
  'refunded',
  'disputed',
]);

export const OUT_OF_STOCK_AFTER_PAYMENT = 'out_of_stock_after_payment';

function moneyStatus(order: Pick<OrderRow, 'paidMinor' | 'refundedMinor'>): OrderPaymentStatus {
  if (order.paidMinor > 0 && order.refundedMinor >= order.paidMinor) return 'refunded';
  return order.refundedMinor > 0 ? 'partially_refunded' : 'paid';
}

const hasMoney = (order: OrderRow) => order.paidMinor > 0;

/**
 * Brings the order in line with one payment's state, in the caller's transaction. Idempotent:
 * every step compares the order (read under its row lock) with the state and acts only on a
 * difference, and one-off events (failure, cancel, authorization of a payment) are looked up on
 * the timeline first, so the same state applied twice changes nothing and notifies nothing.
 *
 * Returns how much of this payment payments must give back: all that is not refunded yet when the
 * money cannot buy anything (the order was cancelled, or another payment already paid it). It is a
 * function of the state, the same on every call: payments makes the refund idempotent by key.
 * Nothing is returned while the payment is disputed (the dispute moves the money).
 */
export async function applyPaymentToOrder(
  tx: DbOrTx,
  deps: OrdersDeps,
  state: PaymentStateForOrder,
): Promise<{ refundMinor: number }> {
  let order = await lockOrder(tx, state.orderId);
  if (!order) throw orderNotFound();
  if (state.currency !== order.currency) {
    throw new AppError(
      'payment_currency_mismatch',
      `Payment in ${state.currency} for an order in ${order.currency}`,
    );
  }
  const now = deps.clock.now();
  const actor: OrderActor = { kind: `provider:${state.provider}`, id: null };
  const moneyIn = MONEY_STATUSES.has(state.status) && state.capturedMinor > 0;
  const outstanding = Math.max(0, state.capturedMinor - state.refundedMinor);
  const giveBack = state.status === 'disputed' ? 0 : outstanding;
  const base = { paymentId: state.paymentId, provider: state.provider };

  const settledBy = await findSettlingPaymentId(tx, order.id);
  if (settledBy !== null && settledBy !== state.paymentId) {
    // A second payment for an order another payment already settled (two checkout tabs).
    if (!moneyIn) return { refundMinor: 0 };
    if (
      !(await hasPaymentEvent(tx, {
        orderId: order.id,
        type: 'duplicate_payment',
        paymentId: state.paymentId,
      }))
    ) {
      await note(tx, order, actor, now, 'duplicate_payment', 'A second payment arrived; it is refunded', {
        ...base,
        capturedMinor: state.capturedMinor,
      });
    }
    return { refundMinor: giveBack };
  }

  if (moneyIn) {
    if (order.status === 'pending_payment') {
      order = await settlePendingOrder(tx, deps, { order, state, actor, now });
    } else if (order.paidMinor < state.capturedMinor) {
      const late = order.status === 'cancelled';
      const paidMinor = state.capturedMinor;
      order = await update(tx, order, now, {
        paidMinor,
        paymentStatus: moneyStatus({ ...order, paidMinor }),
      });
      await note(
        tx,
        order,
        actor,
        now,
        late ? 'late_payment' : 'payment_captured',
        late ? 'Payment arrived after the order was cancelled; it is refunded' : null,
        { ...base, capturedMinor: state.capturedMinor, ...(late ? { settledBy: state.paymentId } : {}) },
      );
    }
    if (state.refundedMinor > order.refundedMinor)
      order = await applyRefund(tx, deps, { order, state, actor, now });
  } else if (state.status === 'failed' || state.status === 'canceled' || state.status === 'authorized') {
    order = await applyAttemptOutcome(tx, { order, state, actor, now });
  }

  // Disputes opening and closing, and any money status the steps above did not set.
  const wanted: OrderPaymentStatus | null =
    state.status === 'disputed' ? 'disputed' : moneyIn && hasMoney(order) ? moneyStatus(order) : null;
  if (wanted !== null && wanted !== order.paymentStatus) {
    const from = order.paymentStatus;
    order = await update(tx, order, now, { paymentStatus: wanted });
    const type =
      wanted === 'disputed' ? 'disputed' : from === 'disputed' ? 'dispute_closed' : 'payment_status';
    await note(tx, order, actor, now, type, null, { ...base, paymentStatus: { from, to: wanted } });
  }

  return { refundMinor: moneyIn && order.status === 'cancelled' ? giveBack : 0 };
}

interface StepInput {
  readonly order: OrderRow;
  readonly state: PaymentStateForOrder;
  readonly actor: OrderActor;
  readonly now: Date;
}

/**
 * The first money for an unpaid order: the held stock becomes sold and the order paid. When the
 * holds had expired and the stock went to someone else, the order is cancelled instead and the
 * caller refunds the payment.
 */
async function settlePendingOrder(tx: DbOrTx, deps: OrdersDeps, { order, state, actor, now }: StepInput) {
  const quantities = new Map<string, number>();
  for (const line of await findOrderLines(tx, order.id)) {
    if (line.variantId) quantities.set(line.variantId, (quantities.get(line.variantId) ?? 0) + line.quantity);
  }
  const sale =
    quantities.size === 0
      ? { ok: true as const }
      : await sellHeldStock(tx, {
          orderId: order.id,
          lines: [...quantities].map(([variantId, quantity]) => ({ variantId, quantity })),
          actorId: null,
          at: now,
        });
  const money = { paidMinor: state.capturedMinor, paymentStatus: 'paid' as const };
  const data = { paymentId: state.paymentId, settledBy: state.paymentId, capturedMinor: state.capturedMinor };
  if (sale.ok) {
    const paid = await transitionOrder(tx, {
      order,
      to: 'paid',
      actor,
      now,
      data: { ...data, paymentStatus: { from: order.paymentStatus, to: 'paid' } },
      set: { ...money, paidAt: now },
    });
    await notifyBuyer(tx, deps, {
      order: paid,
      template: paymentReceivedTemplate.name,
      event: 'paid',
      data: { paid: formatMoney(state.capturedMinor, paid.currency) },
    });
    return paid;
  }
  const cancelled = await transitionOrder(tx, {
    order,
    to: 'cancelled',
    actor,
    now,
    note: OUT_OF_STOCK_AFTER_PAYMENT,
    data: { ...data, reason: OUT_OF_STOCK_AFTER_PAYMENT, shortVariants: sale.shortVariants },
    set: { ...money, cancelledAt: now, cancelReason: OUT_OF_STOCK_AFTER_PAYMENT },
  });
  // Whatever is still held for the order goes back on sale.
  await releaseHolds(tx, { orderId: order.id, reason: 'cancelled', actorId: null, at: now });
  await notifyBuyer(tx, deps, {
    order: cancelled,
    template: outOfStockAfterPaymentTemplate.name,
    event: 'cancelled',
    data: { refund: formatMoney(Math.max(0, state.capturedMinor - state.refundedMinor), cancelled.currency) },
  });
  return cancelled;
}

/** More of the payment was refunded: record it, email the buyer, and close a fully refunded order. */
async function applyRefund(tx: DbOrTx, deps: OrdersDeps, { order, state, actor, now }: StepInput) {
  const refundedMinor = Math.min(state.refundedMinor, order.paidMinor);
  const refund = refundedMinor - order.refundedMinor;
  const from = order.paymentStatus;
  let next = await update(tx, order, now, {
    refundedMinor,
    paymentStatus: moneyStatus({ ...order, refundedMinor }),
  });
  await note(tx, next, actor, now, 'refund', null, {
    paymentId: state.paymentId,
    amountMinor: refund,
    refundedMinor,
    paymentStatus: { from, to: next.paymentStatus },
  });
  await notifyBuyer(tx, deps, {
    order: next,
    template: refundIssuedTemplate.name,
    event: `refund-${refundedMinor}`,
    data: { refund: formatMoney(refund, next.currency), refunded: formatMoney(refundedMinor, next.currency) },
  });
  if (refundedMinor >= next.paidMinor && ['paid', 'shipped', 'delivered'].includes(next.status)) {
    next = await transitionOrder(tx, {
      order: next,
      to: 'refunded',
      actor,
      now,
      data: { paymentId: state.paymentId },
    });
  }
  return next;
}

type AttemptStatus = 'failed' | 'canceled' | 'authorized';
const ATTEMPT_PAYMENT_STATUS: Readonly<Record<AttemptStatus, OrderPaymentStatus>> = {
  failed: 'failed',
  canceled: 'unpaid',
  authorized: 'authorized',
};

/**
 * A payment attempt that took no money: authorized (money reserved), failed (declined) or canceled
 * (session expired, voided). Recorded once per payment; a failure or cancel gives the held stock
 * back while the order waits for another attempt until its due time.
 */
async function applyAttemptOutcome(tx: DbOrTx, { order, state, actor, now }: StepInput) {
  const type = `payment_${state.status}`;
  if (await hasPaymentEvent(tx, { orderId: order.id, type, paymentId: state.paymentId })) return order;
  const unpaid = !hasMoney(order) && order.status === 'pending_payment';
  if (unpaid && state.status !== 'authorized') {
    await releaseHolds(tx, {
      orderId: order.id,
      reason: state.status === 'failed' ? 'payment_failed' : 'cancelled',
      actorId: null,
      at: now,
    });
  }
  const from = order.paymentStatus;
  // Once money is in, a stray attempt outcome no longer says anything about the order's money.
  const wanted: OrderPaymentStatus = hasMoney(order)
    ? from
    : ATTEMPT_PAYMENT_STATUS[state.status as AttemptStatus];
  const next = wanted === from ? order : await update(tx, order, now, { paymentStatus: wanted });
  await note(tx, next, actor, now, type, null, {
    paymentId: state.paymentId,
    provider: state.provider,
    ...(state.failureCode ? { failureCode: state.failureCode } : {}),
    ...(wanted === from ? {} : { paymentStatus: { from, to: wanted } }),
  });
  return next;
}

/** Changes columns other than `status` on the locked order. */
async function update(
  tx: DbOrTx,
  order: OrderRow,
  now: Date,
  changes: OrderStatusChanges,
): Promise<OrderRow> {
  const updated = await updateOrderIfStatus(tx, order.id, order.status, { ...changes, updatedAt: now });
  if (!updated) throw new Error(`order ${order.id} changed status under its row lock`);
  return updated;
}

async function note(
  tx: DbOrTx,
  order: OrderRow,
  actor: OrderActor,
  now: Date,
  type: string,
  text: string | null,
  data: Record<string, unknown>,
): Promise<void> {
  await insertOrderEvent(tx, {
    orderId: order.id,
    type,
    fromStatus: order.status,
    toStatus: order.status,
    actorKind: actor.kind,
    actorId: actor.id,
    note: text,
    data,
    createdAt: now,
  });
}
