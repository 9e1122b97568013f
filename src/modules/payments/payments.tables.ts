import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/accounts.tables.ts';
import { orders } from '../orders/orders.tables.ts';

export const PAYMENT_PROVIDERS = ['local', 'stripe', 'paypal'] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];

/**
 * A payment's state in the neutral vocabulary. `pending` until the provider tells us more; the
 * transitions (payment-state.ts) accept events in any order and ignore what is already applied.
 */
export const PAYMENT_STATUSES = [
  'pending',
  'authorized',
  'captured',
  'failed',
  'canceled',
  'partially_refunded',
  'refunded',
  'disputed',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    provider: text('provider', { enum: PAYMENT_PROVIDERS }).notNull(),
    /** The provider's id for this payment (Checkout Session / PaymentIntent id, PayPal order id). */
    providerRef: text('provider_ref'),
    /** A second provider id learnt later (Stripe: the PaymentIntent behind a Checkout Session; PayPal: the capture id). */
    providerSecondaryRef: text('provider_secondary_ref'),
    status: text('status', { enum: PAYMENT_STATUSES }).notNull().default('pending'),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    /*
     * Facts learnt from provider events. `status` is derived from them (payment-state.ts), never
     * set directly, which is what makes any arrival order of events end in the same state.
     */
    authorizedAt: timestamp('authorized_at', { withTimezone: true }),
    capturedMinor: bigint('captured_minor', { mode: 'number' }).notNull().default(0),
    refundedMinor: bigint('refunded_minor', { mode: 'number' }).notNull().default(0),
    failedAt: timestamp('failed_at', { withTimezone: true }),
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    /** Dispute id → `open` | `closed`; a close seen before its open still ends closed. */
    disputes: jsonb('disputes').$type<Record<string, 'open' | 'closed'>>().notNull().default({}),
    /** What the client needs to pay: a redirect URL (hosted pages) and/or a client secret. */
    redirectUrl: text('redirect_url'),
    clientSecret: text('client_secret'),
    /** Sent with the create call, so a retried create returns the same provider object. */
    idempotencyKey: text('idempotency_key').notNull(),
    failureCode: text('failure_code'),
    /** Time of the newest provider event applied: older events never overwrite newer state. */
    lastEventAt: timestamp('last_event_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('payments_provider_ref_key').on(table.provider, table.providerRef),
    index('payments_provider_secondary_idx').on(table.provider, table.providerSecondaryRef),
    uniqueIndex('payments_idempotency_key').on(table.idempotencyKey),
    index('payments_order_idx').on(table.orderId, table.createdAt),
    index('payments_open_idx').on(table.createdAt).where(sql`${table.status} in ('pending', 'authorized')`),
    check(
      'payments_amounts',
      sql`${table.refundedMinor} >= 0 and ${table.refundedMinor} <= ${table.capturedMinor}`,
    ),
  ],
);

/** Neutral actions a provider event maps to; `ignored` events are recorded but change nothing. */
export const PAYMENT_ACTIONS = [
  'authorized',
  'captured',
  'failed',
  'canceled',
  'refunded',
  'disputed',
  'dispute_closed',
  'ignored',
] as const;
export type PaymentAction = (typeof PAYMENT_ACTIONS)[number];

/**
 * Every verified provider event, once (unique by provider + event id): the webhook route inserts
 * and enqueues in one transaction; the job applies it. Reconciliation inserts the events a lost
 * webhook missed through the same path.
 */
export const paymentEvents = pgTable(
  'payment_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider', { enum: PAYMENT_PROVIDERS }).notNull(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    action: text('action', { enum: PAYMENT_ACTIONS }).notNull(),
    /** Which payment it concerns, in provider ids (resolved to our payment when applied). */
    paymentRef: text('payment_ref'),
    secondaryRef: text('secondary_ref'),
    ourPaymentId: text('our_payment_id'),
    amountMinor: bigint('amount_minor', { mode: 'number' }),
    currency: text('currency'),
    refundRef: text('refund_ref'),
    refundAmountMinor: bigint('refund_amount_minor', { mode: 'number' }),
    refundTotalMinor: bigint('refund_total_minor', { mode: 'number' }),
    disputeRef: text('dispute_ref'),
    failureCode: text('failure_code'),
    /** Our payment, once the event was matched to it. */
    paymentId: uuid('payment_id'),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    /** `webhook` or `reconciliation`. */
    source: text('source').notNull().default('webhook'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    /** applied | duplicate | stale | unmatched — what processing did with it. */
    outcome: text('outcome'),
  },
  (table) => [
    uniqueIndex('payment_events_provider_event_key').on(table.provider, table.eventId),
    index('payment_events_ref_idx').on(table.provider, table.paymentRef),
    index('payment_events_unprocessed_idx').on(table.receivedAt).where(sql`${table.processedAt} is null`),
  ],
);

export const REFUND_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const refunds = pgTable(
  'refunds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => payments.id),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: REFUND_STATUSES }).notNull().default('pending'),
    reason: text('reason'),
    providerRef: text('provider_ref'),
    idempotencyKey: text('idempotency_key').notNull(),
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    failureCode: text('failure_code'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('refunds_idempotency_key').on(table.idempotencyKey),
    uniqueIndex('refunds_provider_ref_key').on(table.paymentId, table.providerRef),
    index('refunds_order_idx').on(table.orderId),
    check('refunds_amount_positive', sql`${table.amountMinor} > 0`),
  ],
);
