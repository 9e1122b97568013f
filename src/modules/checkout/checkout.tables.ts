import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../accounts/accounts.tables.ts';

export const CHECKOUT_STATUSES = ['in_progress', 'succeeded', 'failed'] as const;
export type CheckoutStatus = (typeof CHECKOUT_STATUSES)[number];

/**
 * One row per checkout attempt, keyed by the buyer's `Idempotency-Key` (or the cart id when the
 * client sends none): a retry with the same key returns the stored answer instead of charging twice,
 * and a different body under the same key is refused.
 */
export const checkoutAttempts = pgTable(
  'checkout_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    cartId: uuid('cart_id').notNull(),
    status: text('status', { enum: CHECKOUT_STATUSES }).notNull().default('in_progress'),
    orderId: uuid('order_id'),
    response: jsonb('response').$type<Record<string, unknown>>(),
    errorCode: text('error_code'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('checkout_attempts_key').on(table.userId, table.idempotencyKey),
    index('checkout_attempts_cart_idx').on(table.cartId, table.createdAt),
  ],
);
