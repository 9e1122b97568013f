import { and, asc, desc, eq, getTableColumns, ilike, lte, type SQL, sql } from 'drizzle-orm';
import { preparedSql, tableRowMapper } from '../../platform/db/prepared-sql.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { users } from '../accounts/accounts.tables.ts';
import {
  type OrderPaymentStatus,
  type OrderStatus,
  orderEvents,
  orderLines,
  orders,
} from './orders.tables.ts';

export type OrderRow = typeof orders.$inferSelect;
export type NewOrderRow = typeof orders.$inferInsert;
export type OrderLineRow = typeof orderLines.$inferSelect;
export type NewOrderLineRow = typeof orderLines.$inferInsert;
export type OrderEventRow = typeof orderEvents.$inferSelect;
export type NewOrderEventRow = typeof orderEvents.$inferInsert;

/** Columns that change after placement; `status` only through order-status.ts. */
export type OrderStatusChanges = Partial<
  Pick<
    NewOrderRow,
    | 'paymentStatus'
    | 'paidMinor'
    | 'refundedMinor'
    | 'paidAt'
    | 'shippedAt'
    | 'deliveredAt'
    | 'cancelledAt'
    | 'cancelReason'
  >
>;

export interface OrderBuyer {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly locale: 'en' | 'ko';
}

/** What a placed order's first timeline event records besides the order. */
export interface PlacedEvent {
  readonly actorKind: string;
  readonly actorId: string | null;
  readonly data: Record<string, unknown>;
}

type OrderLineValues = Omit<NewOrderLineRow, 'id' | 'orderId'>;

const toOrderRow = tableRowMapper(orders);

const p = (name: string) => sql.placeholder(name);

/** The order, its lines and its `placed` event: one statement, prepared once (checkout's hot path). */
const insertPlacedOrderStatement = preparedSql<Record<string, unknown>, Record<string, unknown>>(
  'caravan_orders_insert_placed',
  sql`with o as (
        insert into orders (kind, source_ref, buyer_id, cart_id, currency, items_minor, shipping_minor,
                            tax_minor, fees_minor, total_minor, shipping_address, email, payment_due_at,
                            placed_at, updated_at)
        values (${p('kind')}, ${p('sourceRef')}, ${p('buyerId')}::uuid, ${p('cartId')}::uuid,
                ${p('currency')}, ${p('itemsMinor')}::bigint, ${p('shippingMinor')}::bigint,
                ${p('taxMinor')}::bigint, ${p('feesMinor')}::bigint, ${p('totalMinor')}::bigint,
                ${p('shippingAddress')}::text::jsonb, ${p('email')}, ${p('paymentDueAt')}::timestamptz,
                ${p('now')}::timestamptz, ${p('now')}::timestamptz)
        returning *
      ), l as (
        insert into order_lines (order_id, variant_id, product_id, seller_id, sku, title, quantity,
                                 unit_price_minor, total_minor, platform_fee_minor, position)
        select o.id, x."variantId", x."productId", x."sellerId", x.sku, x.title, x.quantity,
               x."unitPriceMinor", x."totalMinor", coalesce(x."platformFeeMinor", 0), coalesce(x.position, 0)
          from o, jsonb_to_recordset(${p('lines')}::text::jsonb) as x(
                 "variantId" uuid, "productId" uuid, "sellerId" uuid, sku text, title text, quantity int,
                 "unitPriceMinor" bigint, "totalMinor" bigint, "platformFeeMinor" bigint, position int)
      ), e as (
        insert into order_events (order_id, type, from_status, to_status, actor_kind, actor_id, data,
                                  created_at)
        select o.id, 'placed', null, o.status, ${p('actorKind')}, ${p('actorId')}::uuid,
               ${p('eventData')}::text::jsonb, ${p('now')}::timestamptz
          from o
      )
      select * from o`,
);

/**
 * Inserts an unpaid order with its lines and its `placed` timeline event (`to_status` the new
 * order's status) in one round trip; the CHECK constraints hold the same sums as before.
 */
export async function insertPlacedOrder(
  db: DbOrTx,
  input: {
    order: Omit<NewOrderRow, 'placedAt' | 'updatedAt'> & { placedAt: Date };
    lines: readonly OrderLineValues[];
    event: PlacedEvent;
  },
): Promise<OrderRow> {
  const { order, lines, event } = input;
  const [raw] = await insertPlacedOrderStatement.run(db, {
    kind: order.kind ?? 'store',
    sourceRef: order.sourceRef ?? null,
    buyerId: order.buyerId,
    cartId: order.cartId ?? null,
    currency: order.currency,
    itemsMinor: order.itemsMinor,
    shippingMinor: order.shippingMinor ?? 0,
    taxMinor: order.taxMinor ?? 0,
    feesMinor: order.feesMinor ?? 0,
    totalMinor: order.totalMinor,
    shippingAddress: order.shippingAddress ? JSON.stringify(order.shippingAddress) : null,
    email: order.email,
    paymentDueAt: order.paymentDueAt?.toISOString() ?? null,
    now: order.placedAt.toISOString(),
    lines: JSON.stringify(lines),
    actorKind: event.actorKind,
    actorId: event.actorId,
    eventData: JSON.stringify(event.data),
  });
  if (!raw) throw new Error('the order insert returned no row');
  return toOrderRow(raw);
}

export async function insertOrderEvent(db: DbOrTx, event: NewOrderEventRow): Promise<void> {
  await db.insert(orderEvents).values(event);
}

export async function findOrder(db: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id));
  return row;
}

export async function findOrderOfBuyer(
  db: DbOrTx,
  { orderId, buyerId }: { orderId: string; buyerId: string },
): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.buyerId, buyerId)));
  return row;
}

/** The order under a row lock: every change to one order serialises here. */
export async function lockOrder(db: DbOrTx, id: string): Promise<OrderRow | undefined> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id)).for('update');
  return row;
}

/**
 * The order if it is still unpaid past its due time and no other transaction holds it: a payment
 * being applied right now (or another worker's sweep) keeps its lock and the sweep moves on.
 */
export async function lockOverdueOrder(db: DbOrTx, id: string, now: Date): Promise<OrderRow | undefined> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, id), eq(orders.status, 'pending_payment'), lte(orders.paymentDueAt, now)))
    .for('update', { skipLocked: true });
  return row;
}

/**
 * Unpaid orders past their due time, oldest due first (the partial index on payment_due_at), after
 * the keyset `(dueKey, id)` of the previous page. `dueKey` is the due time as PostgreSQL text.
 */
export async function findOverdueOrderIds(
  db: DbOrTx,
  { now, after, limit }: { now: Date; after: { dueKey: string; id: string } | undefined; limit: number },
): Promise<Array<{ id: string; dueKey: string }>> {
  const conditions: SQL[] = [eq(orders.status, 'pending_payment'), lte(orders.paymentDueAt, now)];
  if (after) {
    conditions.push(
      sql`(${orders.paymentDueAt}, ${orders.id}) > (cast(${after.dueKey} as timestamptz), cast(${after.id} as uuid))`,
    );
  }
  return db
    .select({ id: orders.id, dueKey: sql<string>`(${orders.paymentDueAt})::text` })
    .from(orders)
    .where(and(...conditions))
    .orderBy(asc(orders.paymentDueAt), asc(orders.id))
    .limit(limit);
}

/** Applies `changes` only while the order is still `status`; undefined when it no longer is. */
export async function updateOrderIfStatus(
  db: DbOrTx,
  id: string,
  status: OrderStatus,
  changes: OrderStatusChanges & { status?: OrderStatus; updatedAt: Date },
): Promise<OrderRow | undefined> {
  const [row] = await db
    .update(orders)
    .set(changes)
    .where(and(eq(orders.id, id), eq(orders.status, status)))
    .returning();
  return row;
}

export async function findOrderLines(db: DbOrTx, orderId: string): Promise<OrderLineRow[]> {
  return db
    .select()
    .from(orderLines)
    .where(eq(orderLines.orderId, orderId))
    .orderBy(asc(orderLines.position));
}

export async function findOrderEvents(db: DbOrTx, orderId: string): Promise<OrderEventRow[]> {
  return db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(asc(orderEvents.id));
}

/** Whether the timeline already has a `type` event about this payment (read under the order lock). */
export async function hasPaymentEvent(
  db: DbOrTx,
  { orderId, type, paymentId }: { orderId: string; type: string; paymentId: string },
): Promise<boolean> {
  const [row] = await db
    .select({ id: orderEvents.id })
    .from(orderEvents)
    .where(
      and(
        eq(orderEvents.orderId, orderId),
        eq(orderEvents.type, type),
        sql`${orderEvents.data}->>'paymentId' = ${paymentId}`,
      ),
    )
    .limit(1);
  return row !== undefined;
}

/**
 * The payment whose money the order holds: the first one whose application attached money to it
 * (the `paid` event, the out-of-stock `cancelled` event or a `late_payment` note carry
 * `data.settledBy`). Any other captured payment for the order is a duplicate to give back.
 */
export async function findSettlingPaymentId(db: DbOrTx, orderId: string): Promise<string | null> {
  const [row] = await db
    .select({ paymentId: sql<string>`${orderEvents.data}->>'settledBy'` })
    .from(orderEvents)
    .where(and(eq(orderEvents.orderId, orderId), sql`(${orderEvents.data}->>'settledBy') is not null`))
    .orderBy(asc(orderEvents.id))
    .limit(1);
  return row?.paymentId ?? null;
}

export async function findBuyer(db: DbOrTx, buyerId: string): Promise<OrderBuyer | undefined> {
  const [row] = await db
    .select({ id: users.id, email: users.email, displayName: users.displayName, locale: users.locale })
    .from(users)
    .where(eq(users.id, buyerId));
  return row;
}

/** A row of an order listing: the order, its unit count, and its keyset sort key as text. */
export type OrderListRow = OrderRow & { itemCount: number; sortKey: string };

const listColumns = {
  ...getTableColumns(orders),
  // Spelled out: Drizzle writes columns unqualified in a select list, which inside this subquery
  // would resolve `id` to order_lines.id.
  itemCount: sql<number>`(select coalesce(sum(l.quantity), 0)::int from order_lines l where l.order_id = "orders"."id")`,
  // Text keeps PostgreSQL's microseconds exactly, so the keyset condition never skips a row.
  sortKey: sql<string>`(${orders.placedAt})::text`,
};

function after(cursor: { placedAt: string; id: string } | undefined): SQL | undefined {
  if (!cursor) return undefined;
  return sql`(${orders.placedAt}, ${orders.id}) < (cast(${cursor.placedAt} as timestamptz), cast(${cursor.id} as uuid))`;
}

/** A page of list rows, newest first: the order `after` pages through. */
function newestFirst(db: DbOrTx, conditions: (SQL | undefined)[], limit: number): Promise<OrderListRow[]> {
  return db
    .select(listColumns)
    .from(orders)
    .where(and(...conditions))
    .orderBy(desc(orders.placedAt), desc(orders.id))
    .limit(limit);
}

/** A buyer's orders, newest first, after the keyset `(placedAt, id)` (the orders_buyer_idx index). */
export async function listBuyerOrders(
  db: DbOrTx,
  options: {
    buyerId: string;
    status: OrderStatus | undefined;
    after: { placedAt: string; id: string } | undefined;
    limit: number;
  },
): Promise<OrderListRow[]> {
  const conditions = [eq(orders.buyerId, options.buyerId), after(options.after)];
  if (options.status) conditions.push(eq(orders.status, options.status));
  return newestFirst(db, conditions, options.limit);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** Every order for staff, newest first, with filters; `q` is an order number (digits, `#` optional) or part of an email. */
export async function listOrdersForStaff(
  db: DbOrTx,
  options: {
    status: OrderStatus | undefined;
    paymentStatus: OrderPaymentStatus | undefined;
    q: string | undefined;
    after: { placedAt: string; id: string } | undefined;
    limit: number;
  },
): Promise<OrderListRow[]> {
  const conditions = [after(options.after)];
  if (options.status) conditions.push(eq(orders.status, options.status));
  if (options.paymentStatus) conditions.push(eq(orders.paymentStatus, options.paymentStatus));
  const q = options.q?.trim();
  if (q) {
    const number = /^#?(\d{1,15})$/.exec(q)?.[1];
    conditions.push(
      number === undefined ? ilike(orders.email, `%${escapeLike(q)}%`) : eq(orders.number, Number(number)),
    );
  }
  return newestFirst(db, conditions, options.limit);
}

/** Review eligibility: the user received (status delivered) an order with a line for the product. */
export async function hasDeliveredOrderLine(
  db: DbOrTx,
  { userId, productId }: { userId: string; productId: string },
): Promise<boolean> {
  const [row] = await db
    .select({ one: sql<number>`1` })
    .from(orderLines)
    .innerJoin(orders, eq(orders.id, orderLines.orderId))
    .where(
      and(eq(orderLines.productId, productId), eq(orders.buyerId, userId), eq(orders.status, 'delivered')),
    )
    .limit(1);
  return row !== undefined;
}
