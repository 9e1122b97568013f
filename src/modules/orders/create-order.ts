import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { formatUtc, notifyBuyer, type OrdersDeps } from './order-notifications.ts';
import { insertPlacedOrder, type OrderBuyer, type OrderRow } from './orders.repo.ts';
import type { OrderAddress, OrderKind } from './orders.tables.ts';
import { orderPlacedTemplate } from './orders.templates.ts';

registerErrorCodes({
  /** The caller (checkout, marketplace…) passed an order that cannot exist: no lines, bad amounts. */
  order_invalid: 422,
});

export interface NewOrderLine {
  variantId: string | null;
  productId: string | null;
  sellerId: string | null;
  sku: string | null;
  title: string;
  quantity: number;
  unitPriceMinor: number;
  platformFeeMinor?: number;
}

export interface NewOrder {
  kind?: OrderKind;
  sourceRef?: string | null;
  buyerId: string;
  email: string;
  /**
   * The buyer's name and language for the "order received" email when the caller has read them
   * already (checkout has); otherwise they are looked up in the transaction.
   */
  buyer?: Pick<OrderBuyer, 'displayName' | 'locale'>;
  cartId: string | null;
  currency: string;
  lines: readonly NewOrderLine[];
  shippingMinor: number;
  feesMinor?: number;
  taxMinor?: number;
  shippingAddress: OrderAddress | null;
  paymentDueAt: Date;
  /** Who placed it: `buyer` (default; the buyer is the actor) or `system` (an auction win…). */
  actorKind?: string;
}

const isAmount = (value: number) => Number.isSafeInteger(value) && value >= 0;

function invalid(message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('order_invalid', message, { details });
}

/**
 * Writes an unpaid order in the caller's transaction: the lines with their totals, the order with
 * items and total computed here (the CHECK constraints hold the same sums), the `placed` timeline
 * event (all three in one statement), and the "order received" email, which is enqueued in `tx`
 * and so sent only after commit. Stock is not touched: the caller holds it (inventory
 * `holdStock`) in the same transaction.
 */
export async function createPendingOrder(tx: DbOrTx, deps: OrdersDeps, input: NewOrder): Promise<OrderRow> {
  if (input.lines.length === 0) throw invalid('An order needs at least one line');
  if (!/^[A-Z]{3}$/.test(input.currency))
    throw invalid('Currency must be an ISO 4217 code', { currency: input.currency });
  let itemsMinor = 0;
  const lines = input.lines.map((line, position) => {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      throw invalid('Line quantities must be positive integers', { position, quantity: line.quantity });
    }
    const fee = line.platformFeeMinor ?? 0;
    if (!isAmount(line.unitPriceMinor) || !isAmount(fee)) {
      throw invalid('Line amounts must be non-negative integers (minor units)', { position });
    }
    const totalMinor = line.quantity * line.unitPriceMinor;
    if (!Number.isSafeInteger(totalMinor) || fee > totalMinor) {
      throw invalid('A line total is out of range, or its platform fee exceeds it', { position });
    }
    itemsMinor += totalMinor;
    return {
      variantId: line.variantId,
      productId: line.productId,
      sellerId: line.sellerId,
      sku: line.sku,
      title: line.title,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      totalMinor,
      platformFeeMinor: fee,
      position,
    };
  });
  const shippingMinor = input.shippingMinor;
  const feesMinor = input.feesMinor ?? 0;
  const taxMinor = input.taxMinor ?? 0;
  if (![shippingMinor, feesMinor, taxMinor].every(isAmount)) {
    throw invalid('Shipping, fees and tax must be non-negative integers (minor units)');
  }
  const totalMinor = itemsMinor + shippingMinor + feesMinor + taxMinor;
  if (!Number.isSafeInteger(totalMinor)) throw invalid('The order total is out of range');

  const kind = input.kind ?? 'store';
  const actorKind = input.actorKind ?? 'buyer';
  const order = await insertPlacedOrder(tx, {
    order: {
      kind,
      sourceRef: input.sourceRef ?? null,
      buyerId: input.buyerId,
      cartId: input.cartId,
      currency: input.currency,
      itemsMinor,
      shippingMinor,
      taxMinor,
      feesMinor,
      totalMinor,
      shippingAddress: input.shippingAddress,
      email: input.email,
      paymentDueAt: input.paymentDueAt,
      placedAt: deps.clock.now(),
    },
    lines,
    event: {
      actorKind,
      actorId: actorKind === 'buyer' ? input.buyerId : null,
      data: { kind, totalMinor, currency: input.currency, lines: lines.length },
    },
  });
  await notifyBuyer(tx, deps, {
    order,
    ...(input.buyer ? { buyer: input.buyer } : {}),
    template: orderPlacedTemplate.name,
    event: 'placed',
    data: { dueAt: formatUtc(input.paymentDueAt) },
  });
  return order;
}
