import { and, asc, eq, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { orders } from '../orders/orders.tables.ts';
import type { PaymentFacts } from './payment-state.ts';
import {
  type PaymentProviderName,
  type PaymentStatus,
  paymentEvents,
  payments,
  type RefundStatus,
  refunds,
} from './payments.tables.ts';
import type { ProviderEvent } from './providers/payment-provider.port.ts';

export type PaymentRow = typeof payments.$inferSelect;
export type PaymentEventRow = typeof paymentEvents.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;

export async function insertPayment(tx: DbOrTx, values: typeof payments.$inferInsert): Promise<PaymentRow> {
  const [row] = await tx.insert(payments).values(values).returning();
  if (!row) throw new Error('payment insert returned nothing');
  return row;
}

export async function setProviderPayment(
  tx: DbOrTx,
  paymentId: string,
  values: { providerRef: string; redirectUrl: string | null; clientSecret: string | null; now: Date },
): Promise<void> {
  await tx
    .update(payments)
    .set({
      providerRef: values.providerRef,
      redirectUrl: values.redirectUrl,
      clientSecret: values.clientSecret,
      updatedAt: values.now,
    })
    .where(eq(payments.id, paymentId));
}

export async function findPayment(db: DbOrTx, paymentId: string): Promise<PaymentRow | undefined> {
  const [row] = await db.select().from(payments).where(eq(payments.id, paymentId));
  return row;
}

export async function lockPayment(tx: DbOrTx, paymentId: string): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.id, paymentId)).for('update');
  return row;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The payment an event is about, row-locked: by our id when the vendor echoed it, else by the
 * vendor's ids (primary, then the secondary one learnt from an earlier event).
 */
export async function lockPaymentForEvent(
  tx: DbOrTx,
  provider: PaymentProviderName,
  refs: { ourPaymentId: string | null; paymentRef: string | null; secondaryRef: string | null },
): Promise<PaymentRow | undefined> {
  if (refs.ourPaymentId && UUID.test(refs.ourPaymentId)) {
    const [row] = await tx
      .select()
      .from(payments)
      .where(and(eq(payments.id, refs.ourPaymentId), eq(payments.provider, provider)))
      .for('update');
    if (row) return row;
  }
  const vendorRefs = [refs.paymentRef, refs.secondaryRef].filter((ref): ref is string => Boolean(ref));
  if (vendorRefs.length === 0) return undefined;
  const [row] = await tx
    .select()
    .from(payments)
    .where(
      and(
        eq(payments.provider, provider),
        or(inArray(payments.providerRef, vendorRefs), inArray(payments.providerSecondaryRef, vendorRefs)),
      ),
    )
    .limit(1)
    .for('update');
  return row;
}

export async function savePaymentFacts(
  tx: DbOrTx,
  paymentId: string,
  values: {
    facts: PaymentFacts;
    status: PaymentStatus;
    secondaryRef: string | null;
    eventAt: Date;
    now: Date;
  },
): Promise<void> {
  const { facts } = values;
  await tx
    .update(payments)
    .set({
      authorizedAt: facts.authorizedAt,
      capturedMinor: facts.capturedMinor,
      refundedMinor: facts.refundedMinor,
      failedAt: facts.failedAt,
      canceledAt: facts.canceledAt,
      failureCode: facts.failureCode,
      disputes: facts.disputes,
      status: values.status,
      providerSecondaryRef: sql`coalesce(${payments.providerSecondaryRef}, ${values.secondaryRef})`,
      lastEventAt: sql`greatest(${payments.lastEventAt}, ${values.eventAt.toISOString()}::timestamptz)`,
      updatedAt: values.now,
    })
    .where(eq(payments.id, paymentId));
}

export async function markPaymentSetupFailed(
  tx: DbOrTx,
  paymentId: string,
  values: { failureCode: string; now: Date },
): Promise<void> {
  await tx
    .update(payments)
    .set({
      status: 'canceled',
      canceledAt: values.now,
      failureCode: values.failureCode,
      updatedAt: values.now,
    })
    .where(eq(payments.id, paymentId));
}

export async function listPaymentsOfOrder(db: DbOrTx, orderId: string): Promise<PaymentRow[]> {
  return db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.createdAt));
}

/** Records a verified event once; returns its row id, or null when this event id was already recorded. */
export async function insertEvent(
  tx: DbOrTx,
  provider: PaymentProviderName,
  event: ProviderEvent,
  source: 'webhook' | 'reconciliation',
  now: Date,
): Promise<string | null> {
  const [row] = await tx
    .insert(paymentEvents)
    .values({
      provider,
      eventId: event.eventId,
      type: event.type,
      action: event.action,
      paymentRef: event.paymentRef,
      secondaryRef: event.secondaryRef,
      ourPaymentId: event.ourPaymentId,
      amountMinor: event.amountMinor,
      currency: event.currency,
      refundRef: event.refund?.refundRef ?? null,
      refundAmountMinor: event.refund?.amountMinor ?? null,
      refundTotalMinor: event.refund?.totalRefundedMinor ?? null,
      disputeRef: event.disputeRef,
      failureCode: event.failureCode,
      occurredAt: event.occurredAt,
      receivedAt: now,
      source,
      payload: event.payload,
    })
    .onConflictDoNothing({ target: [paymentEvents.provider, paymentEvents.eventId] })
    .returning({ id: paymentEvents.id });
  return row?.id ?? null;
}

export async function lockEvent(tx: DbOrTx, eventRowId: string): Promise<PaymentEventRow | undefined> {
  const [row] = await tx.select().from(paymentEvents).where(eq(paymentEvents.id, eventRowId)).for('update');
  return row;
}

export async function markEventProcessed(
  tx: DbOrTx,
  eventRowId: string,
  values: { outcome: 'applied' | 'no_change' | 'unmatched'; paymentId: string | null; now: Date },
): Promise<void> {
  await tx
    .update(paymentEvents)
    .set({ outcome: values.outcome, paymentId: values.paymentId, processedAt: values.now })
    .where(eq(paymentEvents.id, eventRowId));
}

export async function listEventsOfPayment(db: DbOrTx, paymentId: string): Promise<PaymentEventRow[]> {
  return db
    .select()
    .from(paymentEvents)
    .where(eq(paymentEvents.paymentId, paymentId))
    .orderBy(asc(paymentEvents.occurredAt), asc(paymentEvents.receivedAt));
}

/** Events recorded but not yet applied (a crashed worker, a lost job): the reconciler re-enqueues them. */
export async function listUnprocessedEvents(
  db: DbOrTx,
  before: Date,
  limit: number,
): Promise<PaymentEventRow[]> {
  return db
    .select()
    .from(paymentEvents)
    .where(
      and(
        isNull(paymentEvents.processedAt),
        sql`${paymentEvents.receivedAt} < ${before.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(paymentEvents.receivedAt))
    .limit(limit);
}

export async function insertRefund(tx: DbOrTx, values: typeof refunds.$inferInsert): Promise<RefundRow> {
  const [row] = await tx.insert(refunds).values(values).returning();
  if (!row) throw new Error('refund insert returned nothing');
  return row;
}

/**
 * A refund the provider reports. A refund row turns `succeeded` only here, so "was its amount
 * counted?" is "is its row succeeded?": returns true when this call counted it (a new refund, or
 * our own pending/failed row for the same provider refund id), false for a repeat.
 */
export async function recordProviderRefund(
  tx: DbOrTx,
  values: {
    paymentId: string;
    orderId: string;
    refundRef: string;
    amountMinor: number;
    currency: string;
    provider: string;
    now: Date;
  },
): Promise<boolean> {
  const [inserted] = await tx
    .insert(refunds)
    .values({
      paymentId: values.paymentId,
      orderId: values.orderId,
      amountMinor: values.amountMinor,
      currency: values.currency,
      status: 'succeeded',
      providerRef: values.refundRef,
      idempotencyKey: `event:${values.provider}:${values.paymentId}:${values.refundRef}`,
      settledAt: values.now,
    })
    .onConflictDoNothing()
    .returning({ id: refunds.id });
  if (inserted) return true;
  const [updated] = await tx
    .update(refunds)
    .set({ status: 'succeeded', settledAt: values.now, failureCode: null })
    .where(
      and(
        eq(refunds.paymentId, values.paymentId),
        eq(refunds.providerRef, values.refundRef),
        ne(refunds.status, 'succeeded'),
      ),
    )
    .returning({ id: refunds.id });
  return updated !== undefined;
}

export async function lockRefund(tx: DbOrTx, refundId: string): Promise<RefundRow | undefined> {
  const [row] = await tx.select().from(refunds).where(eq(refunds.id, refundId)).for('update');
  return row;
}

export async function findRefundByProviderRef(
  tx: DbOrTx,
  paymentId: string,
  refundRef: string,
): Promise<RefundRow | undefined> {
  const [row] = await tx
    .select()
    .from(refunds)
    .where(and(eq(refunds.paymentId, paymentId), eq(refunds.providerRef, refundRef)));
  return row;
}

export async function deleteRefund(tx: DbOrTx, refundId: string): Promise<void> {
  await tx.delete(refunds).where(eq(refunds.id, refundId));
}

export async function settleRefund(
  tx: DbOrTx,
  refundId: string,
  values: { status: RefundStatus; providerRef: string | null; failureCode: string | null; now: Date },
): Promise<void> {
  await tx
    .update(refunds)
    .set({
      status: values.status,
      providerRef: values.providerRef,
      failureCode: values.failureCode,
      settledAt: values.status === 'pending' ? null : values.now,
    })
    .where(eq(refunds.id, refundId));
}

export async function listRefundsOfOrder(db: DbOrTx, orderId: string): Promise<RefundRow[]> {
  return db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.createdAt));
}

/** Refunds asked for but not yet confirmed: counted against what may still be refunded. */
export async function pendingRefundTotal(tx: DbOrTx, paymentId: string): Promise<number> {
  const [row] = await tx
    .select({ total: sql<string>`coalesce(sum(${refunds.amountMinor}), 0)` })
    .from(refunds)
    .where(and(eq(refunds.paymentId, paymentId), eq(refunds.status, 'pending')));
  return Number(row?.total ?? 0);
}

/** Who an order belongs to, for lockouts and the cart (a read of the orders table by id only). */
export async function findOrderParties(
  tx: DbOrTx,
  orderId: string,
): Promise<{ buyerId: string; cartId: string | null; number: number; status: string } | undefined> {
  const [row] = await tx
    .select({ buyerId: orders.buyerId, cartId: orders.cartId, number: orders.number, status: orders.status })
    .from(orders)
    .where(eq(orders.id, orderId));
  return row;
}

export async function findRefundByKey(
  tx: DbOrTx,
  paymentId: string,
  key: string,
): Promise<RefundRow | undefined> {
  const [row] = await tx
    .select()
    .from(refunds)
    .where(and(eq(refunds.paymentId, paymentId), eq(refunds.idempotencyKey, key)));
  return row;
}

/**
 * For providers that report a running refunded total instead of each refund's amount (Stripe's
 * charge.refunded): the refund with the reported id, then pending refunds oldest first while the
 * total covers them, become `succeeded`. Their amounts are already in the total, so nothing is
 * counted here; this only settles the rows staff see.
 */
export async function settleRefundsCoveredBy(
  tx: DbOrTx,
  paymentId: string,
  values: { refundRef: string | null; refundedTotal: number; now: Date },
): Promise<void> {
  if (values.refundRef) {
    await tx
      .update(refunds)
      .set({ status: 'succeeded', settledAt: values.now, failureCode: null })
      .where(
        and(
          eq(refunds.paymentId, paymentId),
          eq(refunds.providerRef, values.refundRef),
          ne(refunds.status, 'succeeded'),
        ),
      );
  }
  const rows = await tx
    .select()
    .from(refunds)
    .where(eq(refunds.paymentId, paymentId))
    .orderBy(asc(refunds.createdAt), asc(refunds.id));
  let settled = rows
    .filter((row) => row.status === 'succeeded')
    .reduce((sum, row) => sum + row.amountMinor, 0);
  for (const row of rows) {
    if (row.status !== 'pending' || settled + row.amountMinor > values.refundedTotal) continue;
    settled += row.amountMinor;
    await tx
      .update(refunds)
      .set({ status: 'succeeded', settledAt: values.now })
      .where(eq(refunds.id, row.id));
  }
}

/**
 * Payments still open at the provider whose order was cancelled meanwhile (buyer, staff, payment
 * timeout, superseded checkout): reconciliation asks the provider to close them.
 */
export async function listOpenPaymentsOfCancelledOrders(
  db: DbOrTx,
  since: Date,
  limit: number,
): Promise<PaymentRow[]> {
  const rows = await db
    .select({ payment: payments })
    .from(payments)
    .innerJoin(orders, eq(orders.id, payments.orderId))
    .where(
      and(
        inArray(payments.status, ['pending', 'authorized']),
        eq(orders.status, 'cancelled'),
        sql`${payments.providerRef} is not null`,
        sql`${payments.createdAt} >= ${since.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(payments.createdAt))
    .limit(limit);
  return rows.map((row) => row.payment);
}
