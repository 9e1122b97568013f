import { and, eq, sql } from 'drizzle-orm';
import { perHandle } from '../../platform/db/per-handle.ts';
import { preparedSql, tableRowMapper } from '../../platform/db/prepared-sql.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { addresses, provinces, users } from '../accounts/accounts.tables.ts';
import { cartLines, carts } from '../cart/cart.tables.ts';
import { stockLevels } from '../inventory/inventory.tables.ts';
import { orders } from '../orders/orders.tables.ts';
import { payments } from '../payments/payments.tables.ts';
import { type CheckoutStatus, checkoutAttempts } from './checkout.tables.ts';

export type CheckoutAttemptRow = typeof checkoutAttempts.$inferSelect;

type AttemptAndBuyerRow = {
  email: string;
  displayName: string;
  locale: 'en' | 'ko';
  attempt: CheckoutAttemptRow | null;
};

const attemptAndBuyerStatement = perHandle(
  (db) =>
    db
      .select({
        email: users.email,
        displayName: users.displayName,
        locale: users.locale,
        attempt: checkoutAttempts,
      })
      .from(users)
      .leftJoin(
        checkoutAttempts,
        and(
          eq(checkoutAttempts.userId, users.id),
          eq(checkoutAttempts.idempotencyKey, sql.placeholder('idempotencyKey')),
        ),
      )
      .where(eq(users.id, sql.placeholder('userId')))
      .prepare('caravan_checkout_attempt_and_buyer') as unknown as {
      execute(values: { userId: string; idempotencyKey: string }): Promise<AttemptAndBuyerRow[]>;
    },
);

/**
 * The buyer (email address, name and language for the order and its email) and the attempt stored
 * under this key, if any: one prepared statement, the buyer read once per checkout.
 */
export async function findAttemptAndBuyer(
  db: DbOrTx,
  userId: string,
  idempotencyKey: string,
): Promise<
  { buyer: Omit<AttemptAndBuyerRow, 'attempt'>; attempt: CheckoutAttemptRow | undefined } | undefined
> {
  const statement = attemptAndBuyerStatement(db);
  const [row] = await statement.execute({ userId, idempotencyKey });
  if (!row) return undefined;
  const { attempt, ...buyer } = row;
  return { buyer, attempt: attempt ?? undefined };
}

const toAttemptRow = tableRowMapper(checkoutAttempts);
const p = (name: string) => sql.placeholder(name);

/** The cart's orders still waiting for payment (a new checkout of the cart supersedes them). */
const staleOrderIds = sql`array(select o.id::text from orders o
                                where o.cart_id = ${p('cartId')}::uuid and o.status = 'pending_payment')`;

type ClaimRow = Record<string, unknown> & { staleOrderIds: string[] };
type ClaimValues = {
  userId: string;
  idempotencyKey: string;
  requestHash: string;
  cartId: string;
  now: string;
};

const claimNewStatement = preparedSql<ClaimRow, ClaimValues>(
  'caravan_checkout_claim_new',
  sql`with claimed as (
        insert into checkout_attempts (user_id, idempotency_key, request_hash, cart_id, created_at, updated_at)
        values (${p('userId')}::uuid, ${p('idempotencyKey')}, ${p('requestHash')}, ${p('cartId')}::uuid,
                ${p('now')}::timestamptz, ${p('now')}::timestamptz)
        on conflict do nothing
        returning *
      )
      select claimed.*, ${staleOrderIds} as "staleOrderIds" from claimed`,
);

// Only a finished attempt is recycled: a twin that is still running keeps its claim.
const claimTakeOverStatement = preparedSql<ClaimRow, ClaimValues & { takeOverId: string }>(
  'caravan_checkout_claim_take_over',
  sql`with claimed as (
        update checkout_attempts
           set status = 'in_progress', request_hash = ${p('requestHash')}, cart_id = ${p('cartId')}::uuid,
               order_id = null, response = null, error_code = null, updated_at = ${p('now')}::timestamptz
         where id = ${p('takeOverId')}::uuid and status in ('succeeded', 'failed')
        returning *
      )
      select claimed.*, ${staleOrderIds} as "staleOrderIds" from claimed`,
);

/**
 * Claims the key for this attempt. A row with the key already there (a concurrent twin, or a
 * recyclable stale attempt) is only taken over when `takeOverId` names it; otherwise null. In the
 * same statement: the ids of the cart's orders still waiting for payment, which this checkout
 * supersedes (`userId` is not used by a take-over).
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
): Promise<{ attempt: CheckoutAttemptRow; staleOrderIds: string[] } | null> {
  const common = {
    userId: values.userId,
    idempotencyKey: values.idempotencyKey,
    requestHash: values.requestHash,
    cartId: values.cartId,
    now: values.now.toISOString(),
  };
  const [row] = values.takeOverId
    ? await claimTakeOverStatement.run(tx, { ...common, takeOverId: values.takeOverId })
    : await claimNewStatement.run(tx, common);
  return row ? { attempt: toAttemptRow(row), staleOrderIds: row.staleOrderIds } : null;
}

const finishAttemptStatement = preparedSql<
  never,
  {
    attemptId: string;
    status: CheckoutStatus;
    orderId: string | null;
    response: string | null;
    errorCode: string | null;
    now: string;
  }
>(
  'caravan_checkout_finish_attempt',
  sql`update checkout_attempts
         set status = ${p('status')}, order_id = ${p('orderId')}::uuid, response = ${p('response')}::text::jsonb,
             error_code = ${p('errorCode')}, updated_at = ${p('now')}::timestamptz
       where id = ${p('attemptId')}::uuid`,
);

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
  await finishAttemptStatement.run(tx, {
    attemptId,
    status: values.status,
    orderId: values.orderId,
    response: values.response === null ? null : JSON.stringify(values.response),
    errorCode: values.errorCode,
    now: values.now.toISOString(),
  });
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

const cartStockStatement = perHandle(
  (db) =>
    db
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
    },
);

/**
 * The buyer's open cart lines with the units available now, in one statement and without locks:
 * in a sell-out most checkouts are refused on this read alone. Prepared once per database handle
 * (it runs for every checkout; building it each time was measurable in the flash-sale bench).
 */
export async function cartStock(db: DbOrTx, userId: string): Promise<CartStockRow[]> {
  const statement = cartStockStatement(db);
  return statement.execute({ userId });
}
