import { sql } from 'drizzle-orm';
import {
  bigserial,
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

/**
 * One row per stocked variant. The invariant `available + held + sold = received - adjusted` and
 * "nothing negative" are CHECK constraints, so no writer (service, SQL console, bug) can break them.
 * `adjusted` is the net quantity taken out by stock counts (negative when a count found more).
 */
export const stockLevels = pgTable(
  'stock_levels',
  {
    variantId: uuid('variant_id')
      .primaryKey()
      .references(() => productVariants.id, { onDelete: 'cascade' }),
    received: integer('received').notNull().default(0),
    adjusted: integer('adjusted').notNull().default(0),
    available: integer('available').notNull().default(0),
    held: integer('held').notNull().default(0),
    sold: integer('sold').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    check('stock_levels_available_nonnegative', sql`${table.available} >= 0`),
    check('stock_levels_held_nonnegative', sql`${table.held} >= 0`),
    check('stock_levels_sold_nonnegative', sql`${table.sold} >= 0`),
    check(
      'stock_levels_balance',
      sql`${table.available} + ${table.held} + ${table.sold} = ${table.received} - ${table.adjusted}`,
    ),
  ],
);

export const MOVEMENT_REASONS = ['receive', 'adjust', 'hold', 'release', 'sell', 'return'] as const;
export type MovementReason = (typeof MOVEMENT_REASONS)[number];

/** The inventory audit log: every change to a stock row writes one movement, in the same transaction. */
export const inventoryMovements = pgTable(
  'inventory_movements',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    variantId: uuid('variant_id')
      .notNull()
      .references(() => productVariants.id, { onDelete: 'cascade' }),
    reason: text('reason', { enum: MOVEMENT_REASONS }).notNull(),
    /** Signed change to `available` (a sale moves held → sold and changes `available` by 0). */
    quantity: integer('quantity').notNull(),
    availableBefore: integer('available_before').notNull(),
    availableAfter: integer('available_after').notNull(),
    heldAfter: integer('held_after').notNull(),
    soldAfter: integer('sold_after').notNull(),
    actorId: uuid('actor_id').references(() => users.id, { onDelete: 'set null' }),
    orderId: uuid('order_id'),
    holdId: uuid('hold_id'),
    note: text('note'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('inventory_movements_variant_idx').on(table.variantId, table.id),
    index('inventory_movements_order_idx').on(table.orderId),
  ],
);

export const HOLD_STATUSES = ['active', 'released', 'sold'] as const;
export type HoldStatus = (typeof HOLD_STATUSES)[number];

/** Stock reserved for an order awaiting payment; released on expiry/failure, sold on payment. */
export const stockHolds = pgTable(
  'stock_holds',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id').notNull(),
    variantId: uuid('variant_id')
      .notNull()
      .references(() => productVariants.id, { onDelete: 'cascade' }),
    quantity: integer('quantity').notNull(),
    status: text('status', { enum: HOLD_STATUSES }).notNull().default('active'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('stock_holds_order_variant_key').on(table.orderId, table.variantId),
    index('stock_holds_active_expiry_idx').on(table.expiresAt).where(sql`${table.status} = 'active'`),
    check('stock_holds_quantity_positive', sql`${table.quantity} > 0`),
  ],
);
