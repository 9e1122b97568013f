import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import { invalidQuantity, variantNotFound } from './inventory.errors.ts';
import {
  applyStockChange,
  ensureStockLevel,
  findStockLevel,
  type StockAfter,
  variantExists,
} from './inventory.repo.ts';

/** What a stock change left behind: the row's counters and the movement that recorded it. */
export interface StockChange {
  readonly movementId: number;
  readonly after: StockAfter;
}

interface ChangeContext {
  readonly actorId: string | null;
  readonly note: string | null;
  /** When it happens; the database's transaction time when absent. */
  readonly at?: Date;
}

function requireWhole(field: string, value: number, { positive }: { positive: boolean }): void {
  if (!Number.isSafeInteger(value) || (positive ? value <= 0 : value === 0)) {
    throw invalidQuantity(field, positive ? 'A whole number of at least 1' : 'A whole number other than 0');
  }
}

/** Goods arrived: `received` and `available` go up (the stock row is created on first receipt). */
export async function receiveStock(
  tx: DbOrTx,
  input: { variantId: string; quantity: number } & ChangeContext,
): Promise<StockChange> {
  requireWhole('quantity', input.quantity, { positive: true });
  if (!(await variantExists(tx, input.variantId))) throw variantNotFound();
  await ensureStockLevel(tx, input.variantId);
  const change = await applyStockChange(tx, {
    variantId: input.variantId,
    reason: 'receive',
    delta: { received: input.quantity, available: input.quantity },
    actorId: input.actorId,
    orderId: null,
    holdId: null,
    note: input.note,
    at: input.at,
  });
  if (!change) throw new Error(`stock row of variant ${input.variantId} vanished`);
  return change;
}

/**
 * A stock count correction of `available` by `delta` (negative: units lost or damaged; positive:
 * the count found more). `adjusted` moves the opposite way so the balance holds. Held and sold
 * units are never adjusted away: taking more than is available is `stock_adjustment_invalid`.
 */
export async function adjustStock(
  tx: DbOrTx,
  input: { variantId: string; delta: number } & ChangeContext,
): Promise<StockChange> {
  requireWhole('delta', input.delta, { positive: false });
  if (!(await variantExists(tx, input.variantId))) throw variantNotFound();
  if (input.delta > 0) await ensureStockLevel(tx, input.variantId);
  const change = await applyStockChange(tx, {
    variantId: input.variantId,
    reason: 'adjust',
    delta: { available: input.delta, adjusted: -input.delta },
    actorId: input.actorId,
    orderId: null,
    holdId: null,
    note: input.note,
    at: input.at,
  });
  if (change) return change;
  const level = await findStockLevel(tx, input.variantId);
  throw new AppError('stock_adjustment_invalid', 'Cannot take away more units than are available', {
    details: { variantId: input.variantId, delta: input.delta, available: level?.available ?? 0 },
  });
}

/** Sold units come back on sale (a refund or return restocked): sold → available. */
export async function returnStock(
  tx: DbOrTx,
  input: { variantId: string; quantity: number; orderId: string | null } & ChangeContext,
): Promise<StockChange> {
  requireWhole('quantity', input.quantity, { positive: true });
  const change = await applyStockChange(tx, {
    variantId: input.variantId,
    reason: 'return',
    delta: { available: input.quantity, sold: -input.quantity },
    actorId: input.actorId,
    orderId: input.orderId,
    holdId: null,
    note: input.note,
    at: input.at,
  });
  if (change) return change;
  const level = await findStockLevel(tx, input.variantId);
  if (!level) throw variantNotFound();
  throw new AppError('stock_return_invalid', 'Cannot return more units than were sold', {
    details: { variantId: input.variantId, quantity: input.quantity, sold: level.sold },
  });
}
