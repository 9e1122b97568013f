import type { PaymentStatus } from './payments.tables.ts';
import type { ProviderEvent } from './providers/payment-provider.port.ts';

/**
 * What we know about a payment, as facts that only ever grow: "it was authorized", "this much was
 * captured", "this much refunded", "dispute X opened/closed". Applying an event merges a fact in
 * (max, set union, first timestamp), so applying events in any order, or twice, gives the same
 * facts — and the status is a function of the facts, never stored on its own.
 */
export interface PaymentFacts {
  readonly authorizedAt: Date | null;
  readonly capturedMinor: number;
  readonly refundedMinor: number;
  readonly failedAt: Date | null;
  readonly canceledAt: Date | null;
  readonly failureCode: string | null;
  readonly disputes: Readonly<Record<string, 'open' | 'closed'>>;
}

export interface AppliedRefund {
  readonly refundRef: string;
  readonly amountMinor: number;
}

const earliest = (current: Date | null, candidate: Date) =>
  current === null || candidate < current ? candidate : current;

/**
 * Merges one event's fact. `knownRefunds` are the payment's refunds already recorded by provider
 * id: a refund event adds its amount only when its refund is new, and a vendor's running total
 * (Stripe's amount_refunded) raises the figure to at least that total.
 */
export function mergeEvent(
  facts: PaymentFacts,
  event: Pick<
    ProviderEvent,
    'action' | 'amountMinor' | 'occurredAt' | 'refund' | 'disputeRef' | 'failureCode'
  >,
  context: { readonly amountMinor: number; readonly newRefund: boolean },
): PaymentFacts {
  switch (event.action) {
    case 'authorized':
      return { ...facts, authorizedAt: earliest(facts.authorizedAt, event.occurredAt) };
    case 'captured': {
      const captured = event.amountMinor ?? context.amountMinor;
      return {
        ...facts,
        authorizedAt: earliest(facts.authorizedAt, event.occurredAt),
        capturedMinor: Math.max(facts.capturedMinor, captured),
      };
    }
    case 'failed':
      return {
        ...facts,
        failedAt: earliest(facts.failedAt ?? event.occurredAt, event.occurredAt),
        failureCode: facts.failureCode ?? event.failureCode,
      };
    case 'canceled':
      return { ...facts, canceledAt: earliest(facts.canceledAt ?? event.occurredAt, event.occurredAt) };
    case 'refunded': {
      const refund = event.refund;
      let refunded = facts.refundedMinor;
      if (refund?.amountMinor != null && context.newRefund) refunded += refund.amountMinor;
      if (refund?.totalRefundedMinor != null) refunded = Math.max(refunded, refund.totalRefundedMinor);
      // A refund implies the money was captured first, whatever order the events arrive in; Caravan
      // always captures the full amount, so the capture it implies is the whole payment.
      const captured =
        refunded > 0 ? Math.max(facts.capturedMinor, context.amountMinor) : facts.capturedMinor;
      return { ...facts, capturedMinor: captured, refundedMinor: refunded };
    }
    case 'disputed':
    case 'dispute_closed': {
      if (!event.disputeRef) return facts;
      const current = facts.disputes[event.disputeRef];
      // Closed is final: a "created" arriving after "closed" must not reopen it.
      const next = event.action === 'dispute_closed' || current === 'closed' ? 'closed' : 'open';
      // Only captured money can be disputed: the dispute implies the (full) capture.
      const capturedMinor = Math.max(facts.capturedMinor, context.amountMinor);
      if (current === next && capturedMinor === facts.capturedMinor) return facts;
      return { ...facts, capturedMinor, disputes: { ...facts.disputes, [event.disputeRef]: next } };
    }
    case 'ignored':
      return facts;
  }
}

/**
 * The status the facts imply. Money facts dominate: a payment that was captured stays captured
 * even if a "failed" for an earlier attempt arrives late (a declined first card, then a good one).
 * An open dispute outranks everything until it closes.
 */
export function deriveStatus(facts: PaymentFacts): PaymentStatus {
  if (Object.values(facts.disputes).includes('open')) return 'disputed';
  if (facts.capturedMinor > 0) {
    if (facts.refundedMinor >= facts.capturedMinor) return 'refunded';
    if (facts.refundedMinor > 0) return 'partially_refunded';
    return 'captured';
  }
  // Without money moved, an ending (declined capture, voided order) outranks the approval before it.
  if (facts.failedAt) return 'failed';
  if (facts.canceledAt) return 'canceled';
  if (facts.authorizedAt) return 'authorized';
  return 'pending';
}
