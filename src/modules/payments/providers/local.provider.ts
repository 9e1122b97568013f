import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../../platform/clock/clock.ts';
import { AppError } from '../../../platform/errors/index.ts';
import type { PaymentAction } from '../payments.tables.ts';
import {
  LOCAL_SIGNATURE_HEADER,
  localWebhookKey,
  signLocalWebhook,
  verifyLocalWebhook,
} from './local-signature.ts';
import type { PaymentProvider, ProviderEvent } from './payment-provider.port.ts';

/** The local vendor's event names, mapped to the neutral vocabulary. */
const LOCAL_EVENT_ACTIONS: Readonly<Record<string, PaymentAction>> = {
  'payment.authorized': 'authorized',
  'payment.captured': 'captured',
  'payment.failed': 'failed',
  'payment.canceled': 'canceled',
  'refund.succeeded': 'refunded',
  'dispute.created': 'disputed',
  'dispute.closed': 'dispute_closed',
};
export type LocalEventType = keyof typeof LOCAL_EVENT_ACTIONS;

/** The body of a local webhook: shaped like a small vendor's event. */
export interface LocalEvent {
  readonly id: string;
  readonly type: string;
  readonly created: number;
  readonly data: {
    readonly payment_id: string;
    readonly payment_ref: string;
    readonly amount_minor: number | null;
    readonly currency: string | null;
    readonly refund_ref?: string | null;
    readonly refund_amount_minor?: number | null;
    readonly dispute_id?: string | null;
    readonly failure_code?: string | null;
  };
}

/** Sends a signed webhook to our own endpoint (set by the payments module once HTTP is up). */
export type LocalWebhookDelivery = (body: string, headers: Record<string, string>) => Promise<number>;

export interface LocalPaymentProvider extends PaymentProvider {
  /** `/pay/local/<payment id>?expires=&sig=`: what the buyer opens. */
  checkoutPageUrl(paymentId: string): string;
  /** Checks a page link's signature; false when forged or expired. */
  verifyPageLink(paymentId: string, expires: string, sig: string): boolean;
  /** Emits one vendor event as a signed webhook, as a real vendor would after the buyer acts. */
  emit(type: LocalEventType, data: LocalEvent['data'], eventId?: string): Promise<LocalEvent>;
  setDelivery(delivery: LocalWebhookDelivery): void;
}

const PAGE_LINK_TTL_SECONDS = 24 * 3600;
const WEBHOOK_TOLERANCE_SECONDS = 300;
const FUTURE_SKEW_SECONDS = 30;

/**
 * The embedded default provider: a hosted checkout page under /pay/local where a person clicks
 * "pay" or "fail", which fires a signed webhook at our own endpoint — so every payment flow
 * (including webhook verification, dedupe and the state machine) runs offline, in a browser.
 */
export function createLocalPaymentProvider(options: {
  readonly secret: string;
  readonly publicUrl: string;
  readonly clock: Clock;
}): LocalPaymentProvider {
  const webhookKey = localWebhookKey(options.secret);
  const pageKey = createHmac('sha256', options.secret).update('caravan:local-payments:page').digest();
  const nowSeconds = () => Math.floor(options.clock.now().getTime() / 1000);
  let delivery: LocalWebhookDelivery | undefined;

  const pageMac = (paymentId: string, expires: string) =>
    createHmac('sha256', pageKey).update(`${paymentId}.${expires}`).digest('base64url');

  const checkoutPageUrl = (paymentId: string) => {
    const expires = String(nowSeconds() + PAGE_LINK_TTL_SECONDS);
    return `${options.publicUrl}/pay/local/${paymentId}?expires=${expires}&sig=${pageMac(paymentId, expires)}`;
  };

  const emit: LocalPaymentProvider['emit'] = async (type, data, eventId) => {
    if (!delivery) throw new AppError('payment_provider_error', 'Local payments are not ready yet');
    const event: LocalEvent = {
      // Deterministic per (payment, action): a double click sends the same event id, which we dedupe.
      id:
        eventId ??
        `evt_local_${createHash('sha256').update(`${data.payment_id}:${type}`).digest('hex').slice(0, 24)}`,
      type,
      created: nowSeconds(),
      data,
    };
    const body = JSON.stringify(event);
    const status = await delivery(body, {
      'content-type': 'application/json',
      [LOCAL_SIGNATURE_HEADER]: signLocalWebhook(webhookKey, body, event.created),
    });
    if (status >= 300) throw new AppError('payment_provider_error', `Local webhook answered ${status}`);
    return event;
  };

  return {
    name: 'local',
    checkoutPageUrl,
    verifyPageLink(paymentId, expires, sig) {
      if (!/^\d+$/.test(expires) || Number(expires) < nowSeconds()) return false;
      const expected = Buffer.from(pageMac(paymentId, expires));
      const given = Buffer.from(sig);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
    emit,
    setDelivery(next) {
      delivery = next;
    },
    async createPayment(input) {
      return {
        providerRef: `lp_${input.paymentId}`,
        redirectUrl: checkoutPageUrl(input.paymentId),
        clientSecret: null,
      };
    },
    async verifyWebhook(request) {
      verifyLocalWebhook(webhookKey, request.rawBody, request.headers[LOCAL_SIGNATURE_HEADER], {
        nowSeconds: nowSeconds(),
        toleranceSeconds: WEBHOOK_TOLERANCE_SECONDS,
        futureSkewSeconds: FUTURE_SKEW_SECONDS,
      });
      return parseLocalEvent(request.rawBody);
    },
    async refund(input) {
      const refundRef = `lre_${input.refundId}`;
      // Like a real vendor: the answer says "pending", the webhook that follows settles it.
      await emit(
        'refund.succeeded',
        {
          payment_id: input.providerRef.replace(/^lp_/, ''),
          payment_ref: input.providerRef,
          amount_minor: null,
          currency: input.currency,
          refund_ref: refundRef,
          refund_amount_minor: input.amountMinor,
        },
        `evt_local_refund_${input.refundId}`,
      );
      return { refundRef, status: 'pending' };
    },
    async cancelPayment() {
      // Nothing lives outside our database: the hosted page refuses payments of cancelled orders.
    },
    async listEvents() {
      // Local webhooks are delivered in-process at the moment of the click; there is no remote log.
      return [];
    },
  };
}

function parseLocalEvent(rawBody: Buffer): ProviderEvent {
  let event: LocalEvent;
  try {
    event = JSON.parse(rawBody.toString('utf8')) as LocalEvent;
  } catch {
    throw new AppError('webhook_signature_invalid', 'Webhook refused: body is not JSON');
  }
  if (
    typeof event?.id !== 'string' ||
    typeof event.type !== 'string' ||
    typeof event.data?.payment_id !== 'string'
  ) {
    throw new AppError('webhook_signature_invalid', 'Webhook refused: not a payment event');
  }
  const data = event.data;
  const action = LOCAL_EVENT_ACTIONS[event.type] ?? 'ignored';
  return {
    eventId: event.id,
    type: event.type,
    action,
    paymentRef: data.payment_ref ?? null,
    secondaryRef: null,
    ourPaymentId: data.payment_id,
    amountMinor: data.amount_minor ?? null,
    currency: data.currency ?? null,
    refund:
      action === 'refunded'
        ? {
            refundRef: data.refund_ref ?? null,
            amountMinor: data.refund_amount_minor ?? null,
            totalRefundedMinor: null,
          }
        : null,
    disputeRef: data.dispute_id ?? null,
    failureCode: data.failure_code ?? null,
    occurredAt: new Date(event.created * 1000),
    payload: event as unknown as Record<string, unknown>,
  };
}
