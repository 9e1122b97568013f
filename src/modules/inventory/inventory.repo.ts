import { and, count, desc, eq, lt, type SQL, sql } from 'drizzle-orm';
import { preparedSql } from '../../platform/db/prepared-sql.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { products, productVariants } from '../catalog/catalog.tables.ts';
import { inventoryMovements, type MovementReason, stockHolds, stockLevels } from './inventory.tables.ts';

export type StockLevelRow = typeof stockLevels.$inferSelect;
export type MovementRow = typeof inventoryMovements.$inferSelect;

/** A stock row's counters right after a change. */
export interface StockAfter {
  readonly available: number;
  readonly held: number;
  readonly sold: number;
}

/** Who and what a movement row records besides the counters. */
export interface MovementContext {
  readonly actorId: string | null;
  readonly orderId: string | null;
  readonly holdId: string | null;
  readonly note: string | null;
  /** When it happened; the database's transaction time when absent. */
  readonly at: Date | undefined;
}

interface Rows<T> {
  readonly rows: T[];
}

/** Raw statements come back as `{ rows }` from both drivers (node-postgres and PGlite). */
async function run<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as Rows<T>).rows;
}

const at = (time: Date | undefined) => sql`coalesce(${time?.toISOString() ?? null}::timestamptz, now())`;
const uuidOrNull = (id: string | null) => sql`${id}::uuid`;

export async function variantExists(db: DbOrTx, variantId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: productVariants.id })
    .from(productVariants)
    .where(eq(productVariants.id, variantId));
  return row !== undefined;
}

/** A variant the public may see: its product is active (drafts never reveal themselves by id). */
export async function publicVariantExists(db: DbOrTx, variantId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: productVariants.id })
    .from(productVariants)
    .innerJoin(products, eq(products.id, productVariants.productId))
    .where(and(eq(productVariants.id, variantId), eq(products.status, 'active')));
  return row !== undefined;
}

export async function findStockLevel(db: DbOrTx, variantId: string): Promise<StockLevelRow | undefined> {
  const [row] = await db.select().from(stockLevels).where(eq(stockLevels.variantId, variantId));
  return row;
}

/** Makes sure a stock row exists (all zero) so a relative update has something to move. */
export async function ensureStockLevel(db: DbOrTx, variantId: string): Promise<void> {
  await db.insert(stockLevels).values({ variantId }).onConflictDoNothing({ target: stockLevels.variantId });
}

export async function countActiveHolds(db: DbOrTx, variantId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(stockHolds)
    .where(and(eq(stockHolds.variantId, variantId), eq(stockHolds.status, 'active')));
  return row?.n ?? 0;
}

/** Units available per variant now (0 without a stock row), one round trip and no lock. */
export async function readAvailable(db: DbOrTx, variantIds: readonly string[]): Promise<Map<string, number>> {
  const values = sql.join(
    variantIds.map((id) => sql`(${id}::uuid)`),
    sql`, `,
  );
  const rows = await run<{ variantId: string; available: number }>(
    db,
    sql`select v.id::text as "variantId", coalesce(s.available, 0)::int as available
        from (values ${values}) as v(id)
        left join stock_levels s on s.variant_id = v.id`,
  );
  return new Map(rows.map((row) => [row.variantId, Number(row.available)]));
}

export type TakeHoldResult =
  | { readonly kind: 'held'; readonly holdId: string; readonly after: StockAfter }
  /** `checkAlreadyHeld` and the order already holds (or bought) stock: nothing changed. */
  | { readonly kind: 'alreadyHeld' }
  /**
   * The row has fewer units than asked (or no row): nothing changed. `availableSeen` is what the
   * statement's snapshot showed; when that is enough, a concurrent hold took the units while this
   * statement waited for the row lock, and only a new read tells how many are left.
   */
  | { readonly kind: 'short'; readonly availableSeen: number }
  /** Another transaction holds this (order, variant) right now: the caller must roll back. */
  | { readonly kind: 'conflict' };

const p = (name: string) => sql.placeholder(name);

/** One variant's hold as one statement, prepared once: see `takeHold`. */
const takeHoldStatement = preparedSql<
  {
    available: number | null;
    held: number | null;
    sold: number | null;
    holdId: string | null;
    alreadyHeld: boolean;
    availableSeen: number | null;
  },
  {
    orderId: string;
    variantId: string;
    quantity: number;
    expiresAt: string;
    actorId: string | null;
    at: string | null;
    checkAlreadyHeld: boolean;
  }
>(
  'caravan_inventory_take_hold',
  sql`with guard as (
        select ${p('checkAlreadyHeld')}::boolean
               and exists(select 1 from stock_holds
                           where order_id = ${p('orderId')}::uuid and status <> 'released') as held
      ), s as (
        update stock_levels
           set available = available - ${p('quantity')}::int, held = held + ${p('quantity')}::int,
               updated_at = coalesce(${p('at')}::timestamptz, now())
         where variant_id = ${p('variantId')}::uuid and available >= ${p('quantity')}::int
           and not (select held from guard)
        returning available, held, sold
      ), h as (
        insert into stock_holds (order_id, variant_id, quantity, status, expires_at, created_at, settled_at)
        select ${p('orderId')}::uuid, ${p('variantId')}::uuid, ${p('quantity')}::int, 'active',
               ${p('expiresAt')}::timestamptz, coalesce(${p('at')}::timestamptz, now()), null
          from s
        on conflict (order_id, variant_id) do update
           set quantity = excluded.quantity, status = 'active', expires_at = excluded.expires_at,
               created_at = excluded.created_at, settled_at = null
         where stock_holds.status = 'released'
        returning id
      ), m as (
        insert into inventory_movements (variant_id, reason, quantity, available_before, available_after,
                                         held_after, sold_after, actor_id, order_id, hold_id, created_at)
        select ${p('variantId')}::uuid, 'hold', -${p('quantity')}::int, s.available + ${p('quantity')}::int,
               s.available, s.held, s.sold, ${p('actorId')}::uuid, ${p('orderId')}::uuid, h.id,
               coalesce(${p('at')}::timestamptz, now())
          from s, h
      )
      select s.available, s.held, s.sold, h.id::text as "holdId", (select held from guard) as "alreadyHeld",
             (select l.available from stock_levels l where l.variant_id = ${p('variantId')}::uuid)
               as "availableSeen"
        from (select 1) as one left join s on true left join h on true`,
);

/**
 * Takes `quantity` units of one variant into a hold in ONE statement (prepared): a conditional
 * decrement (`available >= quantity`, so it never goes negative and a short row is left
 * untouched, and a row that is short in the statement's snapshot is refused without waiting for
 * its lock), the hold row (new, or a released one made active again), and the movement. With
 * `checkAlreadyHeld` it first looks whether the order already holds or bought stock, and then
 * changes nothing. The row lock is taken here and kept to the caller's commit, so this is the
 * last thing before the commit that should touch a hot row.
 */
export async function takeHold(
  db: DbOrTx,
  input: {
    orderId: string;
    variantId: string;
    quantity: number;
    expiresAt: Date;
    actorId: string | null;
    at: Date | undefined;
    checkAlreadyHeld: boolean;
  },
): Promise<TakeHoldResult> {
  const [row] = await takeHoldStatement.run(db, {
    orderId: input.orderId,
    variantId: input.variantId,
    quantity: input.quantity,
    expiresAt: input.expiresAt.toISOString(),
    actorId: input.actorId,
    at: input.at?.toISOString() ?? null,
    checkAlreadyHeld: input.checkAlreadyHeld,
  });
  if (!row) throw new Error('the hold statement returned no row');
  if (row.alreadyHeld) return { kind: 'alreadyHeld' };
  if (row.available === null) return { kind: 'short', availableSeen: Number(row.availableSeen ?? 0) };
  if (!row.holdId) return { kind: 'conflict' };
  return {
    kind: 'held',
    holdId: row.holdId,
    after: { available: Number(row.available), held: Number(row.held), sold: Number(row.sold) },
  };
}

/** Signed changes to a stock row's counters; the movement records `available`'s. */
export interface StockDelta {
  readonly available?: number;
  readonly held?: number;
  readonly sold?: number;
  readonly received?: number;
  readonly adjusted?: number;
}

/**
 * Moves a stock row's counters by relative deltas and writes its movement in the same statement.
 * Returns undefined (changing nothing) when the row is missing or any of available, held, sold
 * would go negative, so callers turn that into their own error instead of a CHECK violation that
 * would abort the caller's transaction.
 */
export async function applyStockChange(
  db: DbOrTx,
  input: { variantId: string; reason: MovementReason; delta: StockDelta } & MovementContext,
): Promise<{ movementId: number; after: StockAfter } | undefined> {
  const { variantId, delta } = input;
  const available = delta.available ?? 0;
  const held = delta.held ?? 0;
  const sold = delta.sold ?? 0;
  const when = at(input.at);
  const rows = await run<{ id: string | number; available: number; held: number; sold: number }>(
    db,
    sql`with s as (
          update stock_levels
             set available = available + ${available}::int, held = held + ${held}::int,
                 sold = sold + ${sold}::int, received = received + ${delta.received ?? 0}::int,
                 adjusted = adjusted + ${delta.adjusted ?? 0}::int, updated_at = ${when}
           where variant_id = ${variantId}::uuid
             and available + ${available}::int >= 0 and held + ${held}::int >= 0 and sold + ${sold}::int >= 0
          returning available, held, sold
        )
        insert into inventory_movements (variant_id, reason, quantity, available_before, available_after,
                                         held_after, sold_after, actor_id, order_id, hold_id, note, created_at)
        select ${variantId}::uuid, ${input.reason}, ${available}::int, s.available - ${available}::int,
               s.available, s.held, s.sold, ${uuidOrNull(input.actorId)}, ${uuidOrNull(input.orderId)},
               ${uuidOrNull(input.holdId)}, ${input.note}::text, ${when}
          from s
        returning id, available_after as available, held_after as held, sold_after as sold`,
  );
  const [row] = rows;
  if (!row) return undefined;
  return {
    movementId: Number(row.id),
    after: { available: Number(row.available), held: Number(row.held), sold: Number(row.sold) },
  };
}

export interface HoldRef {
  readonly id: string;
  readonly orderId: string;
  readonly variantId: string;
  readonly quantity: number;
}

/** Marks the order's active holds released (locking them) and returns what they held. */
export async function releaseActiveHolds(
  db: DbOrTx,
  orderId: string,
  at: Date | undefined,
): Promise<HoldRef[]> {
  return db
    .update(stockHolds)
    .set({ status: 'released', settledAt: at ?? sql`now()` })
    .where(and(eq(stockHolds.orderId, orderId), eq(stockHolds.status, 'active')))
    .returning({
      id: stockHolds.id,
      orderId: stockHolds.orderId,
      variantId: stockHolds.variantId,
      quantity: stockHolds.quantity,
    });
}

/**
 * Marks up to `limit` active holds that expired by `now` released, oldest first. SKIP LOCKED: a
 * hold being sold or released by a payment right now is left to that transaction (and two sweeps
 * running at once split the work instead of queueing).
 */
export async function releaseDueHolds(db: DbOrTx, now: Date, limit: number): Promise<HoldRef[]> {
  const rows = await run<HoldRef>(
    db,
    sql`with due as (
          select id from stock_holds
           where status = 'active' and expires_at <= ${now.toISOString()}::timestamptz
           order by expires_at, id
           limit ${limit}::int
           for update skip locked
        )
        update stock_holds h set status = 'released', settled_at = ${now.toISOString()}::timestamptz
          from due where h.id = due.id
        returning h.id::text as id, h.order_id::text as "orderId", h.variant_id::text as "variantId",
                  h.quantity`,
  );
  return rows.map((row) => ({ ...row, quantity: Number(row.quantity) }));
}

export type HoldRow = typeof stockHolds.$inferSelect;

/** Every hold of an order (any status), locked, so a payment and an expiry sweep never both act. */
export async function lockOrderHolds(db: DbOrTx, orderId: string): Promise<HoldRow[]> {
  return db
    .select()
    .from(stockHolds)
    .where(eq(stockHolds.orderId, orderId))
    .orderBy(stockHolds.variantId)
    .for('update');
}

/** Locks stock rows in variant id order (the one lock order every writer uses). */
export async function lockStockLevels(
  db: DbOrTx,
  variantIds: readonly string[],
): Promise<Map<string, StockLevelRow>> {
  const rows: StockLevelRow[] = [];
  // One row per statement, in sorted order: a single `IN (…) FOR UPDATE` locks in scan order,
  // which the planner does not promise to be id order.
  for (const variantId of [...variantIds].sort()) {
    const [row] = await db
      .select()
      .from(stockLevels)
      .where(eq(stockLevels.variantId, variantId))
      .for('update');
    if (row) rows.push(row);
  }
  return new Map(rows.map((row) => [row.variantId, row]));
}

/** Records a line as sold on its hold row (creating one for a line bought without a hold). */
export async function markHoldSold(
  db: DbOrTx,
  input: { orderId: string; variantId: string; quantity: number; at: Date | undefined },
): Promise<string> {
  const when = input.at ?? sql`now()`;
  const [row] = await db
    .insert(stockHolds)
    .values({
      orderId: input.orderId,
      variantId: input.variantId,
      quantity: input.quantity,
      status: 'sold',
      expiresAt: when,
      settledAt: when,
      ...(input.at ? { createdAt: input.at } : {}),
    })
    .onConflictDoUpdate({
      target: [stockHolds.orderId, stockHolds.variantId],
      set: { status: 'sold', quantity: input.quantity, settledAt: when },
    })
    .returning({ id: stockHolds.id });
  if (!row) throw new Error('hold upsert returned no row');
  return row.id;
}

/** Movements of a variant, newest first, before movement id `beforeId` when given. */
export async function listMovements(
  db: DbOrTx,
  options: { variantId: string; beforeId: number | undefined; limit: number },
): Promise<MovementRow[]> {
  const conditions: SQL[] = [eq(inventoryMovements.variantId, options.variantId)];
  if (options.beforeId !== undefined) conditions.push(lt(inventoryMovements.id, options.beforeId));
  return db
    .select()
    .from(inventoryMovements)
    .where(and(...conditions))
    .orderBy(desc(inventoryMovements.id))
    .limit(options.limit);
}

export async function findMovement(db: DbOrTx, id: number): Promise<MovementRow | undefined> {
  const [row] = await db.select().from(inventoryMovements).where(eq(inventoryMovements.id, id));
  return row;
}

/**
 * Demo stock: `quantity` received for up to `limit` variants that have no stock row, after
 * variant id `afterId`, with one `receive` movement each. Returns the last variant id done.
 */
export async function stockUnstockedVariants(
  db: DbOrTx,
  options: { quantity: number; limit: number; afterId: string | null; note: string },
): Promise<{ count: number; lastId: string | null }> {
  const rows = await run<{ count: number; lastId: string | null }>(
    db,
    sql`with batch as (
          select v.id from product_variants v
           where (${options.afterId}::uuid is null or v.id > ${options.afterId}::uuid)
             and not exists (select 1 from stock_levels s where s.variant_id = v.id)
           order by v.id
           limit ${options.limit}::int
        ), s as (
          insert into stock_levels (variant_id, received, available)
          select id, ${options.quantity}::int, ${options.quantity}::int from batch
          on conflict (variant_id) do nothing
          returning variant_id, available, held, sold
        ), m as (
          insert into inventory_movements (variant_id, reason, quantity, available_before, available_after,
                                           held_after, sold_after, note)
          select variant_id, 'receive', available, 0, available, held, sold, ${options.note}::text from s
        )
        select (select count(*) from batch)::int as count, (select max(id::text) from batch) as "lastId"`,
  );
  const row = rows[0];
  return { count: Number(row?.count ?? 0), lastId: row?.lastId ?? null };
}
