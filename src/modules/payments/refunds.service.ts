import { randomUUID } from 'node:crypto';
import { recordAudit } from '../../platform/audit/audit.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { refundPaymentJob } from './payments.jobs.ts';
import {
  deleteRefund,
  findOrderParties,
  findRefundByKey,
  findRefundByProviderRef,
  insertRefund,
  listPaymentsOfOrder,
  lockPayment,
  lockRefund,
  type PaymentRow,
  pendingRefundTotal,
  type RefundRow,
  settleRefund,
} from './payments.repo.ts';
import type { PaymentProviders } from './provider-registry.ts';

registerErrorCodes({
  /** The order has no captured payment to refund. */
  order_not_refundable: 409,
  /** More than what was captured minus what is refunded or being refunded. */
  refund_exceeds_captured: 409,
});

/**
 * Asks for a refund inside the caller's transaction: a pending row plus the job that calls the
 * provider. The amount is clamped to what is still refundable, so two automatic refunds for one
 * payment never exceed it. Returns null when nothing is left to refund or the key was used.
 */
export async function requestRefund(
  services: PlatformServices,
  tx: DbOrTx,
  input: {
    payment: PaymentRow;
    amountMinor: number;
    reason: string | null;
    requestedBy: string | null;
    idempotencyKey: string;
  },
): Promise<RefundRow | null> {
  const { payment } = input;
  const refundable =
    payment.capturedMinor - payment.refundedMinor - (await pendingRefundTotal(tx, payment.id));
  const amountMinor = Math.min(input.amountMinor, refundable);
  if (amountMinor <= 0) return null;
  const refund = await insertRefund(tx, {
    paymentId: payment.id,
    orderId: payment.orderId,
    amountMinor,
    currency: payment.currency,
    reason: input.reason,
    requestedBy: input.requestedBy,
    idempotencyKey: input.idempotencyKey,
  }).catch((error: unknown) => {
    if (isUniqueViolation(error)) return null;
    throw error;
  });
  if (!refund) return null;
  await services.jobs.enqueue(
    tx,
    refundPaymentJob,
    { refundId: refund.id },
    { dedupeKey: `refund:${refund.id}` },
  );
  return refund;
}

function isUniqueViolation(error: unknown): boolean {
  const code =
    (error as { code?: string; cause?: { code?: string } })?.code ??
    (error as { cause?: { code?: string } })?.cause?.code;
  return code === '23505';
}

/**
 * Staff refund of an order, full (no amount) or partial. Idempotent by `idempotencyKey`: the same
 * key returns the refund it created. The money moves when the provider confirms by webhook.
 */
export async function refundOrder(
  services: PlatformServices,
  input: {
    orderId: string;
    amountMinor: number | undefined;
    reason: string | null;
    staffId: string;
    idempotencyKey: string | undefined;
  },
): Promise<RefundRow> {
  return services.db.transaction(async (tx) => {
    if (!(await findOrderParties(tx, input.orderId))) throw new AppError('not_found', 'No such order');
    const candidates = (await listPaymentsOfOrder(tx, input.orderId)).filter(
      (payment) => payment.capturedMinor > 0,
    );
    const newest = candidates.at(-1);
    if (!newest) throw new AppError('order_not_refundable', 'This order has no captured payment to refund');
    const payment = await lockPayment(tx, newest.id);
    if (!payment) throw new AppError('order_not_refundable', 'This order has no captured payment to refund');
    const key = input.idempotencyKey
      ? `staff:${input.orderId}:${input.idempotencyKey}`
      : `staff:${randomUUID()}`;
    const previous = input.idempotencyKey ? await findRefundByKey(tx, payment.id, key) : undefined;
    if (previous) return previous;
    const refundable =
      payment.capturedMinor - payment.refundedMinor - (await pendingRefundTotal(tx, payment.id));
    const amountMinor = input.amountMinor ?? refundable;
    if (refundable <= 0)
      throw new AppError('order_not_refundable', 'Everything captured is refunded or being refunded');
    if (amountMinor > refundable) {
      throw new AppError('refund_exceeds_captured', `At most ${refundable} can be refunded`, {
        details: { refundableMinor: refundable, currency: payment.currency },
      });
    }
    const refund = await requestRefund(services, tx, {
      payment,
      amountMinor,
      reason: input.reason,
      requestedBy: input.staffId,
      idempotencyKey: key,
    });
    if (!refund) throw new AppError('order_not_refundable', 'Nothing left to refund');
    await recordAudit(tx, {
      actorId: input.staffId,
      action: 'order.refund_requested',
      targetType: 'order',
      targetId: input.orderId,
      after: { refundId: refund.id, amountMinor, currency: payment.currency, reason: input.reason },
    });
    return refund;
  });
}

/**
 * The refund job: call the provider (outside any transaction; the idempotency key makes a retry
 * safe), then record its refund id. If the provider's webhook got here first, its row is folded
 * into ours so the refund is listed once.
 */
export async function executeRefund(
  services: PlatformServices,
  providers: PaymentProviders,
  refundId: string,
): Promise<void> {
  const { db, clock } = services;
  const loaded = await db.transaction(async (tx) => {
    const refund = await lockRefund(tx, refundId);
    if (refund?.status !== 'pending' || refund.providerRef) return null;
    const payment = await lockPayment(tx, refund.paymentId);
    return payment ? { refund, payment } : null;
  });
  if (!loaded) return;
  const { refund, payment } = loaded;
  if (!payment.providerRef) throw new Error(`payment ${payment.id} has no provider reference`);
  const result = await providers.get(payment.provider).refund({
    providerRef: payment.providerRef,
    secondaryRef: payment.providerSecondaryRef,
    amountMinor: refund.amountMinor,
    currency: refund.currency,
    idempotencyKey: refund.idempotencyKey,
    reason: refund.reason,
    refundId: refund.id,
  });
  await db.transaction(async (tx) => {
    await lockPayment(tx, payment.id);
    const current = await lockRefund(tx, refund.id);
    if (!current || current.providerRef) return;
    const recordedByWebhook = await findRefundByProviderRef(tx, payment.id, result.refundRef);
    if (recordedByWebhook && recordedByWebhook.id !== refund.id) await deleteRefund(tx, recordedByWebhook.id);
    await settleRefund(tx, refund.id, {
      // Only a provider event makes a refund `succeeded` (that is when its amount is counted); a
      // running-total webhook (Stripe) may have settled this row already.
      status:
        current.status === 'succeeded' || recordedByWebhook?.status === 'succeeded'
          ? 'succeeded'
          : result.status === 'failed'
            ? 'failed'
            : 'pending',
      providerRef: result.refundRef,
      failureCode: result.status === 'failed' ? 'provider_declined' : null,
      now: clock.now(),
    });
  });
}
