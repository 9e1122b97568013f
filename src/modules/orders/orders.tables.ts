import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/accounts.tables.ts';

/**
 * Fulfilment state. `pending_payment → paid → shipped → delivered`; `pending_payment → cancelled`
 * (buyer, staff, payment timeout); `paid|shipped|delivered → refunded` when fully refunded.
 * The transitions live in order-status.ts; nothing writes `status` without going through it.
 */
export const ORDER_STATUSES = [
  'pending_payment',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'refunded',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Money state, driven only by verified provider events (see payments). */
export const ORDER_PAYMENT_STATUSES = [
  'unpaid',
  'authorized',
  'paid',
  'partially_refunded',
  'refunded',
  'disputed',
  'failed',
] as const;
export type OrderPaymentStatus = (typeof ORDER_PAYMENT_STATUSES)[number];

/**
 * What created the order: the store checkout today; marketplace sales and auction wins, and the
 * concierge's item and delivery payments later reuse the same order + payment machinery.
 */
export const ORDER_KINDS = [
  'store',
  'marketplace',
  'auction',
  'concierge_items',
  'concierge_delivery',
] as const;
export type OrderKind = (typeof ORDER_KINDS)[number];

export interface OrderAddress {
  readonly name: string;
  readonly line1: string;
  readonly line2?: string | null;
  readonly city: string;
  readonly region?: string | null;
  readonly postalCode: string;
  readonly country: string;
  readonly phone?: string | null;
}

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Human-facing order number (shown in emails and support), from a sequence. */
    number: bigserial('number', { mode: 'number' }).notNull(),
    kind: text('kind', { enum: ORDER_KINDS }).notNull().default('store'),
    /** The marketplace listing, auction or concierge request behind the order, when there is one. */
    sourceRef: text('source_ref'),
    buyerId: uuid('buyer_id')
      .notNull()
      .references(() => users.id),
    cartId: uuid('cart_id'),
    status: text('status', { enum: ORDER_STATUSES }).notNull().default('pending_payment'),
    paymentStatus: text('payment_status', { enum: ORDER_PAYMENT_STATUSES }).notNull().default('unpaid'),
    currency: text('currency').notNull(),
    itemsMinor: bigint('items_minor', { mode: 'number' }).notNull(),
    shippingMinor: bigint('shipping_minor', { mode: 'number' }).notNull().default(0),
    /** Placeholder until tax rules exist: always 0 today, kept so totals never change shape. */
    taxMinor: bigint('tax_minor', { mode: 'number' }).notNull().default(0),
    /** Fees charged to the buyer (service fees); platform fees taken from sellers are on lines. */
    feesMinor: bigint('fees_minor', { mode: 'number' }).notNull().default(0),
    totalMinor: bigint('total_minor', { mode: 'number' }).notNull(),
    paidMinor: bigint('paid_minor', { mode: 'number' }).notNull().default(0),
    refundedMinor: bigint('refunded_minor', { mode: 'number' }).notNull().default(0),
    shippingAddress: jsonb('shipping_address').$type<OrderAddress>(),
    email: text('email').notNull(),
    paymentDueAt: timestamp('payment_due_at', { withTimezone: true }),
    placedAt: timestamp('placed_at', { withTimezone: true }).notNull().defaultNow(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    shippedAt: timestamp('shipped_at', { withTimezone: true }),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
    cancelReason: text('cancel_reason'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('orders_number_key').on(table.number),
    index('orders_buyer_idx').on(table.buyerId, table.placedAt, table.id),
    index('orders_status_idx').on(table.status, table.placedAt),
    index('orders_payment_due_idx').on(table.paymentDueAt).where(sql`${table.status} = 'pending_payment'`),
    check('orders_currency_iso', sql`${table.currency} ~ '^[A-Z]{3}$'`),
    check(
      'orders_total_sum',
      sql`${table.totalMinor} = ${table.itemsMinor} + ${table.shippingMinor} + ${table.taxMinor} + ${table.feesMinor}`,
    ),
    check(
      'orders_refund_bound',
      sql`${table.refundedMinor} >= 0 and ${table.refundedMinor} <= ${table.paidMinor}`,
    ),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    /** Null for lines that are not catalog variants (a concierge item bought on another shop). */
    variantId: uuid('variant_id'),
    productId: uuid('product_id'),
    sellerId: uuid('seller_id'),
    sku: text('sku'),
    title: text('title').notNull(),
    quantity: integer('quantity').notNull(),
    unitPriceMinor: bigint('unit_price_minor', { mode: 'number' }).notNull(),
    totalMinor: bigint('total_minor', { mode: 'number' }).notNull(),
    /** Platform fee taken from the seller's share (marketplace: 2 %); 0 for the store's own goods. */
    platformFeeMinor: bigint('platform_fee_minor', { mode: 'number' }).notNull().default(0),
    position: integer('position').notNull().default(0),
  },
  (table) => [
    index('order_lines_order_idx').on(table.orderId, table.position),
    index('order_lines_product_idx').on(table.productId),
    check('order_lines_quantity_positive', sql`${table.quantity} > 0`),
    check('order_lines_total', sql`${table.totalMinor} = ${table.quantity} * ${table.unitPriceMinor}`),
  ],
);

/** The order's timeline: every status or payment-status change, who or what caused it. */
export const orderEvents = pgTable(
  'order_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id, { onDelete: 'cascade' }),
    /** placed, paid, payment_failed, cancelled, shipped, delivered, refunded, note, ... */
    type: text('type').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    /** `buyer`, `staff`, `system`, `provider:stripe` ... */
    actorKind: text('actor_kind').notNull(),
    note: text('note'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('order_events_order_idx').on(table.orderId, table.id)],
);
