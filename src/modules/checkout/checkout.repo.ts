import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { addresses, provinces, users } from '../accounts/accounts.tables.ts';
import { cartLines, carts } from '../cart/cart.tables.ts';
import { stockLevels } from '../inventory/inventory.tables.ts';
import { orders } from '../orders/orders.tables.ts';
import { payments } from '../payments/payments.tables.ts';
import { type CheckoutStatus, checkoutAttempts } from './checkout.tables.ts';

export type CheckoutAttemptRow = typeof checkoutAttempts.$inferSelect;

export async function findAttempt(
  db: DbOrTx,
  userId: string,
  idempotencyKey: string,
): Promise<CheckoutAttemptRow | undefined> {
  const [row] = await db
    .select()
    .from(checkoutAttempts)
    .where(and(eq(checkoutAttempts.userId, userId), eq(checkoutAttempts.idempotencyKey, idempotencyKey)));
  return row;
}

/**
 * Claims the key for this attempt. A row with the key already there (a concurrent twin, or a
 * recyclable stale attempt) is only taken over when `takeOverId` names it; otherwise null.
 */
export async function claimAttempt(
  tx: DbOrTx,
  values: {
    userId: string;
    idempotencyKey: string;
    requestHash: string;
    cartId: string;
    now: Date;
    takeOverId: string | null;
  },
): Promise<CheckoutAttemptRow | null> {
  if (values.takeOverId) {
    // Only a finished attempt is recycled: a twin that is still running keeps its claim.
    const [row] = await tx
      .update(checkoutAttempts)
      .set({
        status: 'in_progress',
        requestHash: values.requestHash,
        cartId: values.cartId,
        orderId: null,
        response: null,
        errorCode: null,
        updatedAt: values.now,
      })
      .where(
        and(
          eq(checkoutAttempts.id, values.takeOverId),
          inArray(checkoutAttempts.status, ['succeeded', 'failed']),
        ),
      )
      .returning();
    return row ?? null;
  }
  const [row] = await tx
    .insert(checkoutAttempts)
    .values({
      userId: values.userId,
      idempotencyKey: values.idempotencyKey,
      requestHash: values.requestHash,
      cartId: values.cartId,
      createdAt: values.now,
      updatedAt: values.now,
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

export async function finishAttempt(
  tx: DbOrTx,
  attemptId: string,
  values: {
    status: CheckoutStatus;
    orderId: string | null;
    response: Record<string, unknown> | null;
    errorCode: string | null;
    now: Date;
  },
): Promise<void> {
  await tx
    .update(checkoutAttempts)
    .set({
      status: values.status,
      orderId: values.orderId,
      response: values.response,
      errorCode: values.errorCode,
      updatedAt: values.now,
    })
    .where(eq(checkoutAttempts.id, attemptId));
}

/** Orders of this cart still waiting for payment (a changed cart supersedes them). */
export async function pendingOrdersOfCart(tx: DbOrTx, cartId: string): Promise<{ id: string }[]> {
  return tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.cartId, cartId), eq(orders.status, 'pending_payment')));
}

/** Is the payment behind a stored checkout answer still payable (pending, its order unpaid)? */
export async function isPaymentStillOpen(db: DbOrTx, paymentId: string): Promise<boolean> {
  const [row] = await db
    .select({ status: payments.status, orderStatus: orders.status })
    .from(payments)
    .innerJoin(orders, eq(orders.id, payments.orderId))
    .where(eq(payments.id, paymentId));
  return row?.status === 'pending' && row.orderStatus === 'pending_payment';
}

export async function findBuyerEmail(db: DbOrTx, userId: string): Promise<string | undefined> {
  const [row] = await db.select({ email: users.email }).from(users).where(eq(users.id, userId));
  return row?.email;
}

export async function findSavedAddress(db: DbOrTx, userId: string, addressId: string) {
  const [row] = await db
    .select({
      recipientName: addresses.recipientName,
      phone: addresses.phone,
      line1: addresses.line1,
      line2: addresses.line2,
      postalCode: addresses.postalCode,
      countryCode: addresses.countryCode,
      cityName: addresses.cityName,
      provinceName: provinces.name,
    })
    .from(addresses)
    .innerJoin(provinces, eq(provinces.id, addresses.provinceId))
    .where(and(eq(addresses.id, addressId), eq(addresses.userId, userId)));
  return row;
}

type CartStockRow = { variantId: string; quantity: number; available: number };
const cartStockStatements = new WeakMap<
  DbOrTx,
  { execute(values: { userId: string }): Promise<CartStockRow[]> }
>();

/**
 * The buyer's open cart lines with the units available now, in one statement and without locks:
 * in a sell-out most checkouts are refused on this read alone. Prepared once per database handle
 * (it runs for every checkout; building it each time was measurable in the flash-sale bench).
 */
export async function cartStock(db: DbOrTx, userId: string): Promise<CartStockRow[]> {
  let statement = cartStockStatements.get(db);
  if (!statement) {
    statement = db
      .select({
        variantId: cartLines.variantId,
        quantity: cartLines.quantity,
        available: sql<number>`coalesce(${stockLevels.available}, 0)::int`,
      })
      .from(carts)
      .innerJoin(cartLines, eq(cartLines.cartId, carts.id))
      .leftJoin(stockLevels, eq(stockLevels.variantId, cartLines.variantId))
      .where(and(eq(carts.userId, sql.placeholder('userId')), eq(carts.status, 'open')))
      .prepare('caravan_checkout_cart_stock') as unknown as {
      execute(values: { userId: string }): Promise<CartStockRow[]>;
    };
    cartStockStatements.set(db, statement);
  }
  return statement.execute({ userId });
}
