import { decimalStringToMinor } from '../../../platform/money/money.ts';
import type { PaymentAction } from '../payments.tables.ts';
import type { ProviderEvent } from './payment-provider.port.ts';

type Json = Record<string, unknown>;

/**
 * A PayPal webhook event (the same shape in webhook deliveries and in the webhooks-events list),
 * reduced to the neutral vocabulary. Returns null for a body that is not an event at all.
 * https://developer.paypal.com/api/rest/webhooks/event-names/
 */
export function mapPayPalEvent(event: Json): ProviderEvent | null {
  const eventId = text(event.id);
  const type = text(event.event_type);
  const created = text(event.create_time);
  const occurredAt = created ? new Date(created) : null;
  if (!eventId || !type || !occurredAt || Number.isNaN(occurredAt.getTime())) return null;
  const resource = object(event.resource) ?? {};
  const base = { eventId, type, occurredAt, payload: event };

  switch (type) {
    case 'CHECKOUT.ORDER.APPROVED':
    case 'CHECKOUT.ORDER.VOIDED': {
      // The resource is the order; our payment id rides in purchase_units[0].custom_id.
      const unit = object(array(resource.purchase_units)[0]) ?? {};
      return neutral(base, type === 'CHECKOUT.ORDER.APPROVED' ? 'authorized' : 'canceled', {
        paymentRef: text(resource.id),
        ourPaymentId: text(unit.custom_id),
        ...money(unit.amount),
      });
    }
    case 'PAYMENT.CAPTURE.COMPLETED':
    case 'PAYMENT.CAPTURE.PENDING':
    case 'PAYMENT.CAPTURE.DENIED':
    case 'PAYMENT.CAPTURE.DECLINED': {
      // The resource is the capture; the order it belongs to is in supplementary_data.
      const action: PaymentAction =
        type === 'PAYMENT.CAPTURE.COMPLETED'
          ? 'captured'
          : type === 'PAYMENT.CAPTURE.PENDING'
            ? 'ignored'
            : 'failed';
      const related = object(object(resource.supplementary_data)?.related_ids);
      const processor = object(resource.processor_response);
      const statusDetails = object(resource.status_details);
      return neutral(base, action, {
        paymentRef: text(related?.order_id),
        secondaryRef: text(resource.id),
        ourPaymentId: text(resource.custom_id),
        ...money(resource.amount),
        failureCode:
          action === 'failed'
            ? (text(statusDetails?.reason) ?? text(processor?.response_code) ?? text(resource.status) ?? type)
            : null,
      });
    }
    case 'PAYMENT.CAPTURE.REFUNDED': {
      // The resource is the refund; its capture is the link with rel "up" (…/v2/payments/captures/<id>).
      const amount = money(resource.amount);
      return neutral(base, 'refunded', {
        secondaryRef: captureIdFromLinks(resource.links),
        ourPaymentId: text(resource.custom_id),
        ...amount,
        refund: { refundRef: text(resource.id), amountMinor: amount.amountMinor, totalRefundedMinor: null },
      });
    }
    case 'CUSTOMER.DISPUTE.CREATED':
    case 'CUSTOMER.DISPUTE.RESOLVED': {
      // Disputes name the capture (seller_transaction_id), not the order.
      const transaction = object(array(resource.disputed_transactions)[0]);
      return neutral(base, type === 'CUSTOMER.DISPUTE.CREATED' ? 'disputed' : 'dispute_closed', {
        secondaryRef: text(transaction?.seller_transaction_id),
        ourPaymentId: text(transaction?.custom),
        ...money(resource.dispute_amount),
        disputeRef: text(resource.dispute_id),
      });
    }
    default:
      return neutral(base, 'ignored', {});
  }
}

function neutral(
  base: Pick<ProviderEvent, 'eventId' | 'type' | 'occurredAt' | 'payload'>,
  action: PaymentAction,
  fields: Partial<Omit<ProviderEvent, 'eventId' | 'type' | 'occurredAt' | 'payload' | 'action'>>,
): ProviderEvent {
  return {
    ...base,
    action,
    paymentRef: fields.paymentRef ?? null,
    secondaryRef: fields.secondaryRef ?? null,
    ourPaymentId: fields.ourPaymentId ?? null,
    amountMinor: fields.amountMinor ?? null,
    currency: fields.currency ?? null,
    refund: fields.refund ?? null,
    disputeRef: fields.disputeRef ?? null,
    failureCode: fields.failureCode ?? null,
  };
}

function money(value: unknown): { amountMinor: number | null; currency: string | null } {
  const amount = object(value);
  const currency = text(amount?.currency_code)?.toUpperCase() ?? null;
  const decimal = text(amount?.value);
  if (!currency || !decimal) return { amountMinor: null, currency };
  try {
    return { amountMinor: decimalStringToMinor(decimal, currency), currency };
  } catch {
    // A signed event with an amount we cannot read exactly: better no amount than a rounded one.
    return { amountMinor: null, currency };
  }
}

function captureIdFromLinks(value: unknown): string | null {
  for (const entry of array(value)) {
    const link = object(entry);
    const href = text(link?.href);
    if (link?.rel !== 'up' || !href) continue;
    const match = /\/v2\/payments\/captures\/([^/?#]+)/.exec(href);
    if (match?.[1]) return decodeURIComponent(match[1]);
  }
  return null;
}

function object(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
