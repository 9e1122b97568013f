import type { DbOrTx } from '../../platform/db/types.ts';
import { createFailureCounter, type FailureCounter } from '../../platform/security/failure-counter.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { markCartCheckedOut } from '../cart/index.ts';
import { applyPaymentToOrder, ordersDeps } from '../orders/index.ts';
import { deriveStatus, mergeEvent, type PaymentFacts } from './payment-state.ts';
import { applyPaymentEventJob, capturePaymentJob } from './payments.jobs.ts';
import {
  findOrderParties,
  insertEvent,
  lockEvent,
  lockPaymentForEvent,
  markEventProcessed,
  type PaymentEventRow,
  type PaymentRow,
  recordProviderRefund,
  savePaymentFacts,
  settleRefundsCoveredBy,
} from './payments.repo.ts';
import type { PaymentProviderName, PaymentStatus } from './payments.tables.ts';
import type { PaymentProviders } from './provider-registry.ts';
import type { ProviderEvent } from './providers/payment-provider.port.ts';
import { requestRefund } from './refunds.service.ts';

/** Statuses in which money has been taken (the order is, or was, paid). */
const MONEY_TAKEN: ReadonlySet<PaymentStatus> = new Set([
  'captured',
  'partially_refunded',
  'refunded',
  'disputed',
]);

export function checkoutFailureCounter(services: PlatformServices): FailureCounter {
  const { maxFailures, windowSeconds, lockoutSeconds } = services.config.commerce.checkoutLockout;
  return createFailureCounter(
    { scope: 'checkout:payment', maxFailures, windowSeconds, lockoutSeconds },
    services.clock,
  );
}

/**
 * Records a verified event once and enqueues its processing in the same transaction: the webhook
 * answers as soon as this commits, and a crash after it still leaves a job that will run.
 * Returns `duplicate: true` when this event id was already recorded (nothing enqueued).
 */
export async function recordProviderEvent(
  services: PlatformServices,
  provider: PaymentProviderName,
  event: ProviderEvent,
  source: 'webhook' | 'reconciliation',
): Promise<{ duplicate: boolean }> {
  return services.db.transaction(async (tx) => {
    const eventRowId = await insertEvent(tx, provider, event, source, services.clock.now());
    if (!eventRowId) return { duplicate: true };
    await services.jobs.enqueue(
      tx,
      applyPaymentEventJob,
      { eventRowId },
      { dedupeKey: `payment-event:${eventRowId}` },
    );
    return { duplicate: false };
  });
}

const factsOf = (payment: PaymentRow): PaymentFacts => ({
  authorizedAt: payment.authorizedAt,
  capturedMinor: payment.capturedMinor,
  refundedMinor: payment.refundedMinor,
  failedAt: payment.failedAt,
  canceledAt: payment.canceledAt,
  failureCode: payment.failureCode,
  disputes: payment.disputes,
});

const sameFacts = (a: PaymentFacts, b: PaymentFacts) =>
  a.authorizedAt?.getTime() === b.authorizedAt?.getTime() &&
  a.capturedMinor === b.capturedMinor &&
  a.refundedMinor === b.refundedMinor &&
  a.failedAt?.getTime() === b.failedAt?.getTime() &&
  a.canceledAt?.getTime() === b.canceledAt?.getTime() &&
  a.failureCode === b.failureCode &&
  JSON.stringify(a.disputes) === JSON.stringify(b.disputes);

const neutralOf = (event: PaymentEventRow) => ({
  action: event.action,
  amountMinor: event.amountMinor,
  occurredAt: event.occurredAt,
  refund:
    event.action === 'refunded'
      ? {
          refundRef: event.refundRef,
          amountMinor: event.refundAmountMinor,
          totalRefundedMinor: event.refundTotalMinor,
        }
      : null,
  disputeRef: event.disputeRef,
  failureCode: event.failureCode,
});

/**
 * Applies one recorded event (the job's body). Everything happens under the payment's row lock in
 * one transaction: the event is marked processed, the payment's facts merged, and the order told —
 * so a redelivered job, a duplicate event or events racing each other have exactly one effect.
 */
export async function applyRecordedEvent(
  services: PlatformServices,
  providers: PaymentProviders,
  eventRowId: string,
): Promise<void> {
  const { clock, jobs, logger } = services;
  await services.db.transaction(async (tx) => {
    const event = await lockEvent(tx, eventRowId);
    if (!event || event.processedAt) return;
    const now = clock.now();
    const payment = await lockPaymentForEvent(tx, event.provider, {
      ourPaymentId: event.ourPaymentId,
      paymentRef: event.paymentRef,
      secondaryRef: event.secondaryRef,
    });
    if (!payment) {
      logger.warn(
        { provider: event.provider, eventId: event.eventId, type: event.type },
        'payment event matches no payment',
      );
      await markEventProcessed(tx, eventRowId, { outcome: 'unmatched', paymentId: null, now });
      return;
    }
    let newRefund = false;
    if (event.action === 'refunded' && event.refundRef && event.refundAmountMinor !== null) {
      newRefund = await recordProviderRefund(tx, {
        paymentId: payment.id,
        orderId: payment.orderId,
        refundRef: event.refundRef,
        amountMinor: event.refundAmountMinor,
        currency: payment.currency,
        provider: payment.provider,
        now,
      });
    }
    const before = factsOf(payment);
    const after = mergeEvent(before, neutralOf(event), { amountMinor: payment.amountMinor, newRefund });
    const previousStatus = payment.status;
    const status = deriveStatus(after);
    const changed = !sameFacts(before, after);
    const learnsRef = event.secondaryRef !== null && payment.providerSecondaryRef === null;
    if (changed || learnsRef) {
      await savePaymentFacts(tx, payment.id, {
        facts: after,
        status,
        secondaryRef: event.secondaryRef,
        eventAt: event.occurredAt,
        now,
      });
    }
    if (event.action === 'refunded' && event.refundTotalMinor !== null) {
      await settleRefundsCoveredBy(tx, payment.id, {
        refundRef: event.refundRef,
        refundedTotal: after.refundedMinor,
        now,
      });
    }
    await markEventProcessed(tx, eventRowId, {
      outcome: changed ? 'applied' : 'no_change',
      paymentId: payment.id,
      now,
    });
    if (!changed) return;

    await settleOrder(services, tx, payment, { status, previousStatus, facts: after });

    if (event.action === 'authorized' && status === 'authorized') {
      const provider = providers.get(payment.provider);
      if (provider.capturePayment) {
        await jobs.enqueue(
          tx,
          capturePaymentJob,
          { paymentId: payment.id },
          { dedupeKey: `capture:${payment.id}` },
        );
      }
    }
  });
}

/** Tells the order what the payment now is, and does what follows for money and for the buyer. */
async function settleOrder(
  services: PlatformServices,
  tx: DbOrTx,
  payment: PaymentRow,
  change: { status: PaymentStatus; previousStatus: PaymentStatus; facts: PaymentFacts },
): Promise<void> {
  const { status, previousStatus, facts } = change;
  const { refundMinor } = await applyPaymentToOrder(tx, ordersDeps(services), {
    orderId: payment.orderId,
    paymentId: payment.id,
    provider: payment.provider,
    status,
    previousStatus,
    capturedMinor: facts.capturedMinor,
    refundedMinor: facts.refundedMinor,
    currency: payment.currency,
    failureCode: facts.failureCode,
  });
  const parties = await findOrderParties(tx, payment.orderId);
  const failures = checkoutFailureCounter(services);
  if (status === 'failed' && previousStatus !== 'failed' && parties) {
    await failures.recordFailure(tx, parties.buyerId);
  }
  if (MONEY_TAKEN.has(status) && !MONEY_TAKEN.has(previousStatus) && parties) {
    await failures.reset(tx, parties.buyerId);
    if (parties.cartId) await markCartCheckedOut(tx, parties.cartId);
  }
  if (refundMinor > 0) {
    await requestRefund(services, tx, {
      payment: { ...payment, capturedMinor: facts.capturedMinor, refundedMinor: facts.refundedMinor },
      amountMinor: refundMinor,
      reason: 'automatic: payment arrived for an order that can no longer be fulfilled',
      requestedBy: null,
      idempotencyKey: `auto:${payment.id}:${facts.capturedMinor}`,
    });
  }
}
