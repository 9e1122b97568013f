import type { PlatformServices } from '../../platform/services.ts';
import { recordProviderEvent } from './payment-events.service.ts';
import { applyPaymentEventJob } from './payments.jobs.ts';
import { listOpenPaymentsOfCancelledOrders, listUnprocessedEvents } from './payments.repo.ts';
import type { PaymentProviders } from './provider-registry.ts';

/** How far back each run asks providers for events; wider than the period so a missed run heals. */
const LOOKBACK_MS = 3 * 24 * 3600 * 1000;
const MAX_EVENTS_PER_PROVIDER = 1000;
/** Recorded events still unprocessed after this long get their job again (one may have been lost). */
const STUCK_AFTER_MS = 10 * 60 * 1000;

export interface ReconciliationReport {
  readonly providers: Record<string, { listed: number; recorded: number }>;
  readonly requeued: number;
  /** Provider payments closed because their order was cancelled. */
  readonly closed: number;
}

/**
 * Repairs what a lost webhook missed: lists each provider's recent events and records the ones we
 * never received through the same dedupe-by-event-id path (so nothing is applied twice), then
 * re-enqueues events recorded long ago but never processed, and closes provider payments (an open
 * Stripe Checkout Session, a PaymentIntent) of orders cancelled meanwhile, so a buyer cannot pay a
 * cancelled order — a payment that slips through anyway is refunded automatically.
 */
export async function reconcilePayments(
  services: PlatformServices,
  providers: PaymentProviders,
): Promise<ReconciliationReport> {
  const now = services.clock.now();
  const report: Record<string, { listed: number; recorded: number }> = {};
  for (const name of providers.names) {
    const events = await providers
      .get(name)
      .listEvents({ since: new Date(now.getTime() - LOOKBACK_MS), limit: MAX_EVENTS_PER_PROVIDER });
    let recorded = 0;
    for (const event of events) {
      const { duplicate } = await recordProviderEvent(services, name, event, 'reconciliation');
      if (!duplicate) recorded++;
    }
    report[name] = { listed: events.length, recorded };
    if (recorded > 0)
      services.logger.warn({ provider: name, recorded }, 'reconciliation recorded missed payment events');
  }
  const stuck = await listUnprocessedEvents(services.db, new Date(now.getTime() - STUCK_AFTER_MS), 500);
  for (const event of stuck) {
    // A fresh dedupe key per run: the earlier job may be dead; applying twice is harmless (processedAt).
    await services.jobs.enqueue(
      services.db,
      applyPaymentEventJob,
      { eventRowId: event.id },
      {
        dedupeKey: `payment-event:${event.id}:${now.getTime()}`,
      },
    );
  }
  let closed = 0;
  const open = await listOpenPaymentsOfCancelledOrders(
    services.db,
    new Date(now.getTime() - LOOKBACK_MS),
    500,
  );
  for (const payment of open) {
    if (!payment.providerRef || !providers.has(payment.provider)) continue;
    try {
      // The provider's own event (session expired, intent canceled) then records the outcome.
      await providers
        .get(payment.provider)
        .cancelPayment({ providerRef: payment.providerRef, idempotencyKey: `cancel:${payment.id}` });
      closed++;
    } catch (error) {
      services.logger.warn(
        { err: error, paymentId: payment.id },
        'could not close the payment of a cancelled order',
      );
    }
  }
  return { providers: report, requeued: stuck.length, closed };
}
