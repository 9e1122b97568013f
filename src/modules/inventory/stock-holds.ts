import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import { invalidQuantity, outOfStock, type ShortLine } from './inventory.errors.ts';
import {
  applyStockChange,
  type HoldRef,
  lockOrderHolds,
  lockStockLevels,
  markHoldSold,
  readAvailable,
  releaseActiveHolds,
  type StockDelta,
  takeHold,
} from './inventory.repo.ts';

export interface StockLine {
  readonly variantId: string;
  readonly quantity: number;
}

export type ReleaseReason = 'expired' | 'payment_failed' | 'cancelled' | 'compensation';

/**
 * Sums lines per variant and sorts them by variant id: the one order in which every writer locks
 * stock rows, so two transactions touching the same variants can never wait on each other in a
 * cycle (no deadlocks however the caller ordered its lines).
 */
export function normaliseLines(lines: readonly StockLine[]): StockLine[] {
  const totals = new Map<string, number>();
  for (const [index, line] of lines.entries()) {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      throw invalidQuantity(`lines.${index}.quantity`, 'Quantities are whole numbers of at least 1');
    }
    const variantId = line.variantId.toLowerCase();
    totals.set(variantId, (totals.get(variantId) ?? 0) + line.quantity);
  }
  return [...totals]
    .map(([variantId, quantity]) => ({ variantId, quantity }))
    .sort((a, b) => (a.variantId < b.variantId ? -1 : a.variantId > b.variantId ? 1 : 0));
}

const byVariant = <T extends { variantId: string }>(a: T, b: T) =>
  a.variantId < b.variantId ? -1 : a.variantId > b.variantId ? 1 : 0;

/**
 * Reserves stock for an order awaiting payment, all lines or none, inside the caller's
 * transaction. On a short line it throws `out_of_stock` after possibly having taken earlier
 * lines: the caller's transaction must roll back (it does when the error propagates out of
 * `db.transaction`); never catch it and commit.
 *
 * One statement per variant, in variant id order (`takeHold`): a conditional UPDATE that refuses
 * a row short in its snapshot without queueing behind the buyers holding it, and otherwise locks
 * the row until the caller commits. A refusal names every short line: the one refused, and the
 * variants not tried yet read once more (a line refused only after waiting for the lock is read
 * again too, for the units really left).
 *
 * Idempotent per order: when the order already has active (or sold) holds this is a retried
 * checkout step and nothing changes (the first variant's statement looks). Holds released earlier
 * are taken again.
 */
export async function holdStock(
  tx: DbOrTx,
  input: {
    orderId: string;
    lines: readonly StockLine[];
    expiresAt: Date;
    actorId: string | null;
    /** When it happens (movement and hold times); the database's transaction time when absent. */
    at?: Date;
  },
): Promise<void> {
  const lines = normaliseLines(input.lines);
  for (const [index, line] of lines.entries()) {
    const result = await takeHold(tx, {
      orderId: input.orderId,
      variantId: line.variantId,
      quantity: line.quantity,
      expiresAt: input.expiresAt,
      actorId: input.actorId,
      at: input.at,
      checkAlreadyHeld: index === 0,
    });
    if (result.kind === 'held') continue;
    if (result.kind === 'alreadyHeld') return;
    if (result.kind === 'conflict') {
      throw new AppError('hold_conflict', 'Stock for this order is being reserved by another request');
    }
    throw outOfStock(await shortLines(tx, line, result.availableSeen, lines.slice(index + 1)));
  }
}

/** The refused line and every later one that is short too (the lines before it were taken). */
async function shortLines(
  tx: DbOrTx,
  refused: StockLine,
  availableSeen: number,
  untried: readonly StockLine[],
): Promise<ShortLine[]> {
  const raced = availableSeen >= refused.quantity;
  const toRead = [...(raced ? [refused] : []), ...untried].map((line) => line.variantId);
  const available = toRead.length > 0 ? await readAvailable(tx, toRead) : new Map<string, number>();
  const refusedLine: ShortLine = {
    variantId: refused.variantId,
    requested: refused.quantity,
    available: raced ? (available.get(refused.variantId) ?? 0) : availableSeen,
  };
  return [
    refusedLine,
    ...untried
      .filter((line) => (available.get(line.variantId) ?? 0) < line.quantity)
      .map((line) => ({
        variantId: line.variantId,
        requested: line.quantity,
        available: available.get(line.variantId) ?? 0,
      })),
  ];
}

/** Puts released holds' units back on sale (held → available), one movement per hold. */
async function returnHeldUnits(
  tx: DbOrTx,
  holds: readonly HoldRef[],
  options: { note: string; actorId: string | null; at: Date | undefined },
): Promise<number> {
  let units = 0;
  // Variant id order (then order id) across all holds: the shared lock order.
  const sorted = [...holds].sort((a, b) => byVariant(a, b) || (a.orderId < b.orderId ? -1 : 1));
  for (const hold of sorted) {
    const change = await applyStockChange(tx, {
      variantId: hold.variantId,
      reason: 'release',
      delta: { available: hold.quantity, held: -hold.quantity },
      actorId: options.actorId,
      orderId: hold.orderId,
      holdId: hold.id,
      note: options.note,
      at: options.at,
    });
    // held ≥ every active hold's quantity by construction; anything else is corruption.
    if (!change)
      throw new Error(`stock row of variant ${hold.variantId} holds fewer units than hold ${hold.id}`);
    units += hold.quantity;
  }
  return units;
}

/**
 * Releases the order's active holds (held → available) in the caller's transaction, e.g. after a
 * failed payment or a cancelled checkout. Returns the units released; 0 when nothing is active,
 * so calling it twice is harmless.
 */
export async function releaseHolds(
  tx: DbOrTx,
  input: { orderId: string; reason: ReleaseReason; actorId: string | null; at?: Date },
): Promise<number> {
  const holds = await releaseActiveHolds(tx, input.orderId, input.at);
  if (holds.length === 0) return 0;
  return returnHeldUnits(tx, holds, { note: input.reason, actorId: input.actorId, at: input.at });
}

/** Used by the expiry sweep: the holds are already marked released by `releaseDueHolds`. */
export function returnExpiredHolds(tx: DbOrTx, holds: readonly HoldRef[], at: Date): Promise<number> {
  return returnHeldUnits(tx, holds, { note: 'expired', actorId: null, at });
}

export type SellResult = { readonly ok: true } | { readonly ok: false; readonly shortVariants: string[] };

/**
 * Turns a paid order's stock into sales, in the caller's transaction. Active holds move
 * held → sold (`available` unchanged; a hold larger or smaller than the line settles the
 * difference against `available`). A line whose hold is gone (expired or released before a late
 * payment) takes its units from `available`. All or nothing: if some line cannot be covered,
 * nothing changes and the short variants come back (the caller refunds). Lines already sold are
 * skipped, so a repeated payment event is a no-op.
 *
 * Lock order: the order's hold rows, then stock rows by variant id (as the expiry sweep).
 */
export async function sellHeldStock(
  tx: DbOrTx,
  input: { orderId: string; lines: readonly StockLine[]; actorId: string | null; at?: Date },
): Promise<SellResult> {
  const lines = normaliseLines(input.lines);
  if (lines.length === 0) return { ok: true };
  const holds = new Map((await lockOrderHolds(tx, input.orderId)).map((hold) => [hold.variantId, hold]));
  const plan = lines
    .filter((line) => holds.get(line.variantId)?.status !== 'sold')
    .map((line) => {
      const hold = holds.get(line.variantId);
      const heldUnits = hold?.status === 'active' ? hold.quantity : 0;
      const delta: StockDelta = {
        available: heldUnits - line.quantity,
        held: -heldUnits,
        sold: line.quantity,
      };
      return { line, hold, delta };
    });
  if (plan.length === 0) return { ok: true };

  const levels = await lockStockLevels(
    tx,
    plan.map((step) => step.line.variantId),
  );
  const shortVariants = plan
    .filter((step) => (levels.get(step.line.variantId)?.available ?? 0) + (step.delta.available ?? 0) < 0)
    .map((step) => step.line.variantId);
  if (shortVariants.length > 0) return { ok: false, shortVariants };

  for (const { line, delta } of plan) {
    const holdId = await markHoldSold(tx, {
      orderId: input.orderId,
      variantId: line.variantId,
      quantity: line.quantity,
      at: input.at,
    });
    const change = await applyStockChange(tx, {
      variantId: line.variantId,
      reason: 'sell',
      delta,
      actorId: input.actorId,
      orderId: input.orderId,
      holdId,
      note: null,
      at: input.at,
    });
    if (!change) throw new Error(`stock row of variant ${line.variantId} changed under its lock`);
  }
  return { ok: true };
}
