import type { OrderBuyer, OrderEventRow, OrderLineRow, OrderListRow, OrderRow } from './orders.repo.ts';
import type { AdminOrderView, OrderDetailView, OrderSummaryView } from './orders.schemas.ts';

/** Internal staff notes stay off the buyer's timeline. */
const STAFF_ONLY_EVENTS = new Set(['note']);

export function totalsOf(order: OrderRow): OrderSummaryView['totals'] {
  return {
    items: order.itemsMinor,
    shipping: order.shippingMinor,
    tax: order.taxMinor,
    fees: order.feesMinor,
    total: order.totalMinor,
    paid: order.paidMinor,
    refunded: order.refundedMinor,
  };
}

export function toSummary(order: OrderRow, itemCount: number): OrderSummaryView {
  return {
    id: order.id,
    number: order.number,
    kind: order.kind,
    status: order.status,
    paymentStatus: order.paymentStatus,
    currency: order.currency,
    totals: totalsOf(order),
    itemCount,
    email: order.email,
    placedAt: order.placedAt,
  };
}

export const listRowToSummary = (row: OrderListRow) => toSummary(row, row.itemCount);

/** Carrier and tracking number live on the latest `shipped` event. */
function shipmentOf(events: readonly OrderEventRow[]): OrderDetailView['shipment'] {
  const shipped = events.findLast((event) => event.type === 'shipped');
  if (!shipped) return null;
  return {
    carrier: String(shipped.data.carrier ?? ''),
    trackingNumber: String(shipped.data.trackingNumber ?? ''),
    shippedAt: shipped.createdAt,
  };
}

export function toDetail(
  order: OrderRow,
  lines: readonly OrderLineRow[],
  events: readonly OrderEventRow[],
): OrderDetailView {
  return {
    ...toSummary(
      order,
      lines.reduce((sum, line) => sum + line.quantity, 0),
    ),
    lines: lines.map((line) => ({
      id: line.id,
      variantId: line.variantId,
      productId: line.productId,
      sku: line.sku,
      title: line.title,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      totalMinor: line.totalMinor,
    })),
    shippingAddress: order.shippingAddress ?? null,
    paymentDueAt: order.paymentDueAt,
    paidAt: order.paidAt,
    shippedAt: order.shippedAt,
    deliveredAt: order.deliveredAt,
    cancelledAt: order.cancelledAt,
    cancelReason: order.cancelReason,
    shipment: shipmentOf(events),
    timeline: events
      .filter((event) => !STAFF_ONLY_EVENTS.has(event.type))
      .map((event) => ({
        type: event.type,
        fromStatus: event.fromStatus,
        toStatus: event.toStatus,
        actorKind: event.actorKind,
        note: event.note,
        at: event.createdAt,
      })),
  };
}

export function toAdminView(
  order: OrderRow,
  buyer: OrderBuyer | undefined,
  lines: readonly OrderLineRow[],
  events: readonly OrderEventRow[],
): AdminOrderView {
  return {
    ...toDetail(order, lines, events),
    sourceRef: order.sourceRef,
    cartId: order.cartId,
    buyer: {
      id: order.buyerId,
      email: buyer?.email ?? order.email,
      displayName: buyer?.displayName ?? '',
    },
    lines: lines.map((line) => ({
      id: line.id,
      variantId: line.variantId,
      productId: line.productId,
      sellerId: line.sellerId,
      sku: line.sku,
      title: line.title,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      totalMinor: line.totalMinor,
      platformFeeMinor: line.platformFeeMinor,
    })),
    timeline: events.map((event) => ({
      id: event.id,
      type: event.type,
      fromStatus: event.fromStatus,
      toStatus: event.toStatus,
      actorKind: event.actorKind,
      actorId: event.actorId,
      note: event.note,
      data: event.data,
      at: event.createdAt,
    })),
  };
}
