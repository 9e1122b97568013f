import type Stripe from 'stripe';
import type { ProviderEvent } from './payment-provider.port.ts';
import { fromStripeAmount } from './stripe-amounts.ts';

/**
 * The event types that change a payment; also the `types` filter of the reconciliation read.
 * Anything else that reaches the webhook is recorded as `ignored`.
 */
export const STRIPE_EVENT_TYPES = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'payment_intent.amount_capturable_updated',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
] as const;

type Mapped = Partial<Omit<ProviderEvent, 'eventId' | 'type' | 'occurredAt' | 'payload'>>;

/** A verified Stripe event in the neutral vocabulary. */
export function mapStripeEvent(event: Stripe.Event): ProviderEvent {
  return {
    eventId: event.id,
    type: event.type,
    action: 'ignored',
    paymentRef: null,
    secondaryRef: null,
    ourPaymentId: null,
    amountMinor: null,
    currency: null,
    refund: null,
    disputeRef: null,
    failureCode: null,
    ...mapObject(event),
    occurredAt: new Date(event.created * 1000),
    payload: event as unknown as Record<string, unknown>,
  };
}

function mapObject(event: Stripe.Event): Mapped {
  switch (event.type) {
    case 'checkout.session.completed':
      // `unpaid` here means an async method (bank debit…) is still settling: its outcome comes
      // as async_payment_succeeded / async_payment_failed.
      return session(event.data.object, event.data.object.payment_status === 'paid' ? 'captured' : 'ignored');
    case 'checkout.session.async_payment_succeeded':
      return session(event.data.object, 'captured');
    case 'checkout.session.async_payment_failed':
      return session(event.data.object, 'failed');
    case 'checkout.session.expired':
      return session(event.data.object, 'canceled');
    case 'payment_intent.amount_capturable_updated':
      return paymentIntent(event.data.object, 'authorized', event.data.object.amount_capturable);
    case 'payment_intent.succeeded':
      return paymentIntent(event.data.object, 'captured', event.data.object.amount_received);
    case 'payment_intent.payment_failed': {
      const error = event.data.object.last_payment_error;
      return {
        ...paymentIntent(event.data.object, 'failed', event.data.object.amount),
        failureCode: error?.decline_code ?? error?.code ?? null,
      };
    }
    case 'payment_intent.canceled':
      return paymentIntent(event.data.object, 'canceled', event.data.object.amount);
    case 'charge.refunded':
      return chargeRefunded(event.data.object);
    case 'charge.dispute.created':
      return dispute(event.data.object, 'disputed');
    case 'charge.dispute.closed':
      return dispute(event.data.object, 'dispute_closed');
    default:
      return {};
  }
}

function session(object: Stripe.Checkout.Session, action: ProviderEvent['action']): Mapped {
  const currency = object.currency?.toUpperCase() ?? null;
  return {
    action,
    paymentRef: object.id,
    secondaryRef: idOf(object.payment_intent),
    ourPaymentId: object.client_reference_id ?? object.metadata?.payment_id ?? null,
    amountMinor:
      currency && object.amount_total !== null ? fromStripeAmount(object.amount_total, currency) : null,
    currency,
  };
}

function paymentIntent(
  object: Stripe.PaymentIntent,
  action: ProviderEvent['action'],
  amount: number,
): Mapped {
  const currency = object.currency.toUpperCase();
  return {
    action,
    paymentRef: object.id,
    ourPaymentId: object.metadata?.payment_id ?? null,
    amountMinor: fromStripeAmount(amount, currency),
    currency,
  };
}

function chargeRefunded(charge: Stripe.Charge): Mapped {
  const currency = charge.currency.toUpperCase();
  // Since API version 2022-11-15 `refunds` is no longer included in event payloads; when it is,
  // the newest refund is the one this event reports. Its amount stays null: the charge's running
  // total is the figure that cannot be misread when refunds overlap.
  const newest = [...(charge.refunds?.data ?? [])].sort((a, b) => b.created - a.created)[0];
  return {
    action: 'refunded',
    paymentRef: idOf(charge.payment_intent),
    ourPaymentId: charge.metadata?.payment_id ?? null,
    currency,
    refund: {
      refundRef: newest?.id ?? null,
      amountMinor: null,
      totalRefundedMinor: fromStripeAmount(charge.amount_refunded, currency),
    },
  };
}

function dispute(object: Stripe.Dispute, action: ProviderEvent['action']): Mapped {
  const currency = object.currency.toUpperCase();
  return {
    action,
    paymentRef: idOf(object.payment_intent),
    ourPaymentId: object.metadata?.payment_id ?? null,
    amountMinor: fromStripeAmount(object.amount, currency),
    currency,
    disputeRef: object.id,
  };
}

/** Stripe fields that hold an id, or the object itself when expanded. */
function idOf(value: string | { readonly id: string } | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.id;
}
