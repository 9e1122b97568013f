import { registerErrorCodes } from '../../../platform/errors/index.ts';
import type { PaymentAction, PaymentProviderName } from '../payments.tables.ts';

registerErrorCodes({
  /** A webhook whose signature, timestamp or shape does not check out. Nothing was recorded. */
  webhook_signature_invalid: 400,
  /** The provider refused or could not be reached; nothing was charged. */
  payment_provider_error: 502,
});

/**
 * What every payment vendor is reduced to. Adapters (local, stripe, paypal) translate between this
 * neutral vocabulary and the vendor's API; nothing outside `providers/` knows a vendor's names.
 */
export interface PaymentProvider {
  readonly name: PaymentProviderName;
  /**
   * Creates the provider-side payment for an order (Stripe Checkout Session or PaymentIntent,
   * PayPal order, local hosted page). Must send `input.idempotencyKey` as the vendor's idempotency
   * key so a retried call returns the same object instead of a second one.
   */
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  /**
   * Verifies the signature over the exact raw body (and timestamp, where the vendor signs one) and
   * maps the event. Throws `AppError('webhook_signature_invalid')` for anything not proven to come
   * from the vendor. Returns the neutral event; `action: 'ignored'` for event types we do not use.
   */
  verifyWebhook(request: WebhookRequest): Promise<ProviderEvent>;
  /**
   * Vendors that authorize first and need an explicit capture (PayPal Orders v2 with intent CAPTURE
   * after CHECKOUT.ORDER.APPROVED). Idempotent by `idempotencyKey`. Absent when capture is automatic.
   */
  capturePayment?(input: { readonly providerRef: string; readonly idempotencyKey: string }): Promise<void>;
  /** Refunds `amountMinor` of a captured payment; idempotent by `idempotencyKey`. */
  refund(input: RefundInput): Promise<RefundResult>;
  /**
   * Compensation for a checkout that failed after the payment was created: expire the Checkout
   * Session / cancel the PaymentIntent / void the PayPal order. Must not throw when already gone.
   */
  cancelPayment(input: { readonly providerRef: string; readonly idempotencyKey: string }): Promise<void>;
  /**
   * Events the vendor recorded since `since` (oldest first), mapped like webhooks: the
   * reconciliation job feeds them through the same dedupe-by-event-id path, so a webhook that
   * never arrived is repaired and one that did is not applied twice.
   */
  listEvents(input: { readonly since: Date; readonly limit: number }): Promise<ProviderEvent[]>;
}

export interface CreatePaymentInput {
  /** Our payment id: put it in the vendor's metadata / custom_id so events can be matched back. */
  readonly paymentId: string;
  readonly orderId: string;
  readonly orderNumber: number;
  readonly amountMinor: number;
  /** ISO 4217, upper case. Amounts are integer minor units of it (KRW has none, USD has cents). */
  readonly currency: string;
  readonly description: string;
  readonly buyerEmail: string;
  readonly lines: readonly {
    readonly title: string;
    readonly quantity: number;
    readonly unitPriceMinor: number;
  }[];
  /** Where the buyer's browser goes after paying / after giving up on the hosted page. */
  readonly returnUrl: string;
  readonly cancelUrl: string;
  readonly idempotencyKey: string;
}

export interface CreatedPayment {
  /** The vendor's id for this payment; what webhooks refer to. */
  readonly providerRef: string;
  /** Hosted page to send the buyer to (Stripe Checkout, PayPal approve link, local page). */
  readonly redirectUrl: string | null;
  /** For client-side confirmation (Stripe PaymentIntent client secret). */
  readonly clientSecret: string | null;
}

export interface WebhookRequest {
  /** The body exactly as received: signatures are over these bytes, never over re-serialised JSON. */
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface ProviderEvent {
  /** The vendor's event id: recorded once; a redelivery with the same id changes nothing. */
  readonly eventId: string;
  /** The vendor's event type, kept for the record (`payment_intent.succeeded`, `PAYMENT.CAPTURE.COMPLETED`). */
  readonly type: string;
  readonly action: PaymentAction;
  /**
   * The vendor id the event is about: for Stripe the Checkout Session or PaymentIntent id, for
   * PayPal the order id. Matched against `payments.provider_ref` then `provider_secondary_ref`.
   */
  readonly paymentRef: string | null;
  /** A further id learnt from this event (Stripe: PaymentIntent behind a session; PayPal: capture id). */
  readonly secondaryRef: string | null;
  /** Our payment id when the vendor echoes our metadata / custom_id. */
  readonly ourPaymentId: string | null;
  /** captured: the amount captured; others: the amount concerned, when the vendor says. */
  readonly amountMinor: number | null;
  readonly currency: string | null;
  /** For `refunded`: this refund's id and amount, and the total refunded so far when the vendor reports it. */
  readonly refund: {
    readonly refundRef: string | null;
    readonly amountMinor: number | null;
    readonly totalRefundedMinor: number | null;
  } | null;
  /** For `disputed` / `dispute_closed`: the dispute's id. */
  readonly disputeRef: string | null;
  /** For `failed`: the vendor's decline / failure code. */
  readonly failureCode: string | null;
  readonly occurredAt: Date;
  /** The verified event as the vendor sent it, stored for audit. */
  readonly payload: Record<string, unknown>;
}

export interface RefundInput {
  readonly providerRef: string;
  readonly secondaryRef: string | null;
  readonly amountMinor: number;
  readonly currency: string;
  readonly idempotencyKey: string;
  readonly reason: string | null;
  /** Our refund id, for the vendor's metadata. */
  readonly refundId: string;
}

export interface RefundResult {
  readonly refundRef: string;
  readonly status: 'pending' | 'succeeded' | 'failed';
}
