import Type from 'typebox';
import { defineCron, defineJob } from '../../platform/jobs/define-job.ts';
import { applyRecordedEvent } from './payment-events.service.ts';
import { findPayment } from './payments.repo.ts';
import { paymentProvidersFor } from './provider-registry.ts';
import { reconcilePayments } from './reconciliation.service.ts';
import { executeRefund } from './refunds.service.ts';

/** Applies one recorded provider event (see payment-events.service.ts). */
export const applyPaymentEventJob = defineJob(
  'payments.apply-event',
  Type.Object({ eventRowId: Type.String({ format: 'uuid' }) }),
  async ({ payload, services }) =>
    applyRecordedEvent(services, await paymentProvidersFor(services), payload.eventRowId),
  { retryLimit: 10, retryDelaySeconds: 2, retryDelayMaxSeconds: 300 },
);

/**
 * Captures an approved payment (PayPal Orders v2 with intent CAPTURE). The idempotency key is per
 * payment, so a retried capture is the same capture; the result arrives as a webhook.
 */
export const capturePaymentJob = defineJob(
  'payments.capture',
  Type.Object({ paymentId: Type.String({ format: 'uuid' }) }),
  async ({ payload, services }) => {
    const payment = await findPayment(services.db, payload.paymentId);
    if (!payment?.providerRef || payment.status !== 'authorized') return;
    const provider = (await paymentProvidersFor(services)).get(payment.provider);
    await provider.capturePayment?.({
      providerRef: payment.providerRef,
      idempotencyKey: `capture:${payment.id}`,
    });
  },
  { retryLimit: 8, retryDelaySeconds: 5, retryDelayMaxSeconds: 600 },
);

export const refundPaymentJob = defineJob(
  'payments.refund',
  Type.Object({ refundId: Type.String({ format: 'uuid' }) }),
  async ({ payload, services }) =>
    executeRefund(services, await paymentProvidersFor(services), payload.refundId),
  { retryLimit: 8, retryDelaySeconds: 5, retryDelayMaxSeconds: 600 },
);

export const reconcilePaymentsJob = defineJob(
  'payments.reconcile',
  Type.Object({}),
  async ({ services }) => {
    await reconcilePayments(services, await paymentProvidersFor(services));
  },
  { retryLimit: 2 },
);

/** Every 15 minutes: what a lost webhook missed is picked up within one period. */
export const reconcilePaymentsCron = defineCron(
  'payments.reconcile',
  '*/15 * * * *',
  reconcilePaymentsJob,
  {},
);

export const paymentJobs = [applyPaymentEventJob, capturePaymentJob, refundPaymentJob, reconcilePaymentsJob];
