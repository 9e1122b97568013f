import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { products, productVariants } from '../catalog/catalog.tables.ts';
import { cartLines, carts } from './cart.tables.ts';

export type CartRow = typeof carts.$inferSelect;
export type CartLineRow = typeof cartLines.$inferSelect;
export type CartChanges = Partial<Pick<CartRow, 'currency' | 'status' | 'mergedIntoId'>> & {
  updatedAt: Date;
};

/** A line with what the API and checkout show of its variant and product (current values). */
export interface LineDetail {
  readonly id: string;
  readonly variantId: string;
  readonly quantity: number;
  readonly addedUnitPriceMinor: number;
  readonly createdAt: Date;
  readonly productId: string;
  readonly productTitle: string;
  readonly productStatus: 'draft' | 'active' | 'archived';
  readonly sellerId: string;
  readonly variantTitle: string;
  readonly sku: string;
  readonly unitPriceMinor: number;
  readonly currency: string;
}

export interface VariantForCart {
  readonly variantId: string;
  readonly productId: string;
  readonly productStatus: 'draft' | 'active' | 'archived';
  readonly priceMinor: number;
  readonly currency: string;
}

export async function findOpenUserCart(db: DbOrTx, userId: string): Promise<CartRow | undefined> {
  const [row] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')));
  return row;
}

/** Every change to a cart and its lines holds this lock, so quantities and currency move in order. */
export async function lockOpenUserCart(db: DbOrTx, userId: string): Promise<CartRow | undefined> {
  const [row] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.userId, userId), eq(carts.status, 'open')))
    .for('update');
  return row;
}

/**
 * Creates the user's open cart unless one exists. The partial unique index decides a race between
 * two first requests: the loser inserts nothing and then locks the winner's row.
 */
export async function insertUserCartIfAbsent(db: DbOrTx, userId: string, now: Date): Promise<void> {
  await db.insert(carts).values({ userId, createdAt: now, updatedAt: now }).onConflictDoNothing();
}

/** The user's open cart, locked, created first when there is none. */
export async function lockOrCreateUserCart(db: DbOrTx, userId: string, now: Date): Promise<CartRow> {
  const existing = await lockOpenUserCart(db, userId);
  if (existing) return existing;
  await insertUserCartIfAbsent(db, userId, now);
  const created = await lockOpenUserCart(db, userId);
  if (!created) throw new Error(`no open cart for user ${userId} after inserting one`);
  return created;
}

/** A guest cart (never a user's) by its token hash, in any status. */
export async function findGuestCart(db: DbOrTx, tokenHash: string): Promise<CartRow | undefined> {
  const [row] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.guestTokenHash, tokenHash), isNull(carts.userId)));
  return row;
}

/**
 * Locks a guest cart by token hash. When another transaction merges it meanwhile, PostgreSQL
 * re-reads the row once the lock is granted, so the caller sees the committed status.
 */
export async function lockGuestCart(db: DbOrTx, tokenHash: string): Promise<CartRow | undefined> {
  const [row] = await db
    .select()
    .from(carts)
    .where(and(eq(carts.guestTokenHash, tokenHash), isNull(carts.userId)))
    .for('update');
  return row;
}

export async function insertGuestCart(db: DbOrTx, tokenHash: string, now: Date): Promise<CartRow> {
  const [row] = await db
    .insert(carts)
    .values({ guestTokenHash: tokenHash, createdAt: now, updatedAt: now })
    .returning();
  if (!row) throw new Error('insert into carts returned no row');
  return row;
}

export async function findCartById(db: DbOrTx, id: string): Promise<CartRow | undefined> {
  const [row] = await db.select().from(carts).where(eq(carts.id, id));
  return row;
}

export async function updateCart(db: DbOrTx, id: string, changes: CartChanges): Promise<void> {
  await db.update(carts).set(changes).where(eq(carts.id, id));
}

/** Marks an open cart checked out; false when it is not open (already checked out, merged, gone). */
export async function markCheckedOut(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db
    .update(carts)
    .set({ status: 'checked_out', updatedAt: sql`now()` })
    .where(and(eq(carts.id, id), eq(carts.status, 'open')))
    .returning({ id: carts.id });
  return rows.length > 0;
}

export async function findVariantForCart(db: DbOrTx, variantId: string): Promise<VariantForCart | undefined> {
  const [row] = await db
    .select({
      variantId: productVariants.id,
      productId: productVariants.productId,
      productStatus: products.status,
      priceMinor: productVariants.priceMinor,
      currency: productVariants.currency,
    })
    .from(productVariants)
    .innerJoin(products, eq(products.id, productVariants.productId))
    .where(eq(productVariants.id, variantId));
  return row;
}

export async function findLine(db: DbOrTx, cartId: string, lineId: string): Promise<CartLineRow | undefined> {
  const [row] = await db
    .select()
    .from(cartLines)
    .where(and(eq(cartLines.id, lineId), eq(cartLines.cartId, cartId)));
  return row;
}

export async function findLineByVariant(
  db: DbOrTx,
  cartId: string,
  variantId: string,
): Promise<CartLineRow | undefined> {
  const [row] = await db
    .select()
    .from(cartLines)
    .where(and(eq(cartLines.cartId, cartId), eq(cartLines.variantId, variantId)));
  return row;
}

export async function insertLine(db: DbOrTx, line: typeof cartLines.$inferInsert): Promise<void> {
  await db.insert(cartLines).values(line);
}

export async function updateLine(
  db: DbOrTx,
  id: string,
  changes: Partial<Pick<CartLineRow, 'quantity' | 'unitPriceMinor' | 'cartId'>> & { updatedAt: Date },
): Promise<void> {
  await db.update(cartLines).set(changes).where(eq(cartLines.id, id));
}

/** Deletes a line of this cart only; false when the cart has no such line. */
export async function deleteLine(db: DbOrTx, cartId: string, lineId: string): Promise<boolean> {
  const rows = await db
    .delete(cartLines)
    .where(and(eq(cartLines.id, lineId), eq(cartLines.cartId, cartId)))
    .returning({ id: cartLines.id });
  return rows.length > 0;
}

export async function deleteLinesById(db: DbOrTx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.delete(cartLines).where(inArray(cartLines.id, [...ids]));
}

export async function deleteAllLines(db: DbOrTx, cartId: string): Promise<void> {
  await db.delete(cartLines).where(eq(cartLines.cartId, cartId));
}

export async function countLines(db: DbOrTx, cartId: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(cartLines)
    .where(eq(cartLines.cartId, cartId));
  return row?.count ?? 0;
}

/** The cart's lines, oldest first, with current variant and product data, in one query. */
export async function listLineDetails(db: DbOrTx, cartId: string): Promise<LineDetail[]> {
  return db
    .select({
      id: cartLines.id,
      variantId: cartLines.variantId,
      quantity: cartLines.quantity,
      addedUnitPriceMinor: cartLines.unitPriceMinor,
      createdAt: cartLines.createdAt,
      productId: products.id,
      productTitle: products.title,
      productStatus: products.status,
      sellerId: products.sellerId,
      variantTitle: productVariants.title,
      sku: productVariants.sku,
      unitPriceMinor: productVariants.priceMinor,
      currency: productVariants.currency,
    })
    .from(cartLines)
    .innerJoin(productVariants, eq(productVariants.id, cartLines.variantId))
    .innerJoin(products, eq(products.id, productVariants.productId))
    .where(eq(cartLines.cartId, cartId))
    .orderBy(asc(cartLines.createdAt), asc(cartLines.id));
}

/**
 * Deletes up to `limit` carts that are past keeping: open guest carts untouched since
 * `guestBefore`, merged or checked-out carts untouched since `closedBefore`. Lines go by cascade.
 * Returns how many carts it deleted (fewer than `limit` means nothing is left).
 */
export async function deleteStaleCarts(
  db: DbOrTx,
  options: { guestBefore: Date; closedBefore: Date; limit: number },
): Promise<number> {
  const stale = db
    .select({ id: carts.id })
    .from(carts)
    .where(
      or(
        and(isNull(carts.userId), eq(carts.status, 'open'), lt(carts.updatedAt, options.guestBefore)),
        and(inArray(carts.status, ['merged', 'checked_out']), lt(carts.updatedAt, options.closedBefore)),
      ),
    )
    .limit(options.limit);
  const rows = await db.delete(carts).where(inArray(carts.id, stale)).returning({ id: carts.id });
  return rows.length;
}
