import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/accounts.tables.ts';
import { productVariants } from '../catalog/catalog.tables.ts';

export const CART_STATUSES = ['open', 'merged', 'checked_out'] as const;
export type CartStatus = (typeof CART_STATUSES)[number];

/**
 * A guest cart is found by the SHA-256 of its token (the token itself is only ever in the client);
 * a user has at most one open cart. `currency` is fixed by the first line: one currency per cart.
 */
export const carts = pgTable(
  'carts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    guestTokenHash: text('guest_token_hash'),
    currency: text('currency'),
    status: text('status', { enum: CART_STATUSES }).notNull().default('open'),
    mergedIntoId: uuid('merged_into_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('carts_open_user_key').on(table.userId).where(sql`${table.status} = 'open'`),
    uniqueIndex('carts_guest_token_key').on(table.guestTokenHash),
    index('carts_updated_idx').on(table.updatedAt),
    check('carts_owner', sql`${table.userId} is not null or ${table.guestTokenHash} is not null`),
  ],
);

export const cartLines = pgTable(
  'cart_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    cartId: uuid('cart_id')
      .notNull()
      .references(() => carts.id, { onDelete: 'cascade' }),
    variantId: uuid('variant_id')
      .notNull()
      .references(() => productVariants.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    /** The price shown when the line was added; checkout re-reads the variant and reports changes. */
    unitPriceMinor: bigint('unit_price_minor', { mode: 'number' }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('cart_lines_cart_variant_key').on(table.cartId, table.variantId),
    check('cart_lines_quantity_positive', sql`${table.quantity} > 0`),
  ],
);
