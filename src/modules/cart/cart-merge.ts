import type { DbOrTx } from '../../platform/db/types.ts';
import {
  type CartRow,
  deleteLinesById,
  listLineDetails,
  lockOrCreateUserCart,
  updateCart,
  updateLine,
} from './cart.repo.ts';
import { MAX_LINE_QUANTITY, type MergeNoteView } from './cart.schemas.ts';

/**
 * Moves an open guest cart into the user's open cart (created when there is none), in the
 * caller's transaction. `guest` must be locked FOR UPDATE and open: the lock is what makes
 * concurrent merges of one guest cart apply once (the others then find it merged).
 *
 * Per variant the quantities add up, capped at 99. A guest line whose variant is in another
 * currency than the user cart's is dropped (left on the merged guest cart) and reported. A line
 * for a variant the user cart lacks is moved, keeping its id and the price the guest saw.
 */
export async function mergeGuestCart(
  tx: DbOrTx,
  { guest, userId, now }: { guest: CartRow; userId: string; now: Date },
): Promise<{ userCart: CartRow; notes: MergeNoteView[] }> {
  const userCart = await lockOrCreateUserCart(tx, userId, now);
  const guestLines = await listLineDetails(tx, guest.id);
  const userLines = await listLineDetails(tx, userCart.id);
  const userLineByVariant = new Map(userLines.map((line) => [line.variantId, line]));
  let currency = userCart.currency ?? userLines[0]?.currency ?? null;
  const notes: MergeNoteView[] = [];
  const absorbed: string[] = [];
  let moved = 0;

  for (const line of guestLines) {
    const note = { variantId: line.variantId, quantity: line.quantity, currency: line.currency };
    if (currency !== null && line.currency !== currency) {
      notes.push({ code: 'currency_mismatch', ...note, keptQuantity: 0 });
      continue;
    }
    currency = line.currency;
    const existing = userLineByVariant.get(line.variantId);
    if (!existing) {
      await updateLine(tx, line.id, { cartId: userCart.id, updatedAt: now });
      moved++;
      continue;
    }
    const sum = existing.quantity + line.quantity;
    const kept = Math.min(sum, MAX_LINE_QUANTITY);
    if (kept !== existing.quantity) await updateLine(tx, existing.id, { quantity: kept, updatedAt: now });
    if (sum > MAX_LINE_QUANTITY) notes.push({ code: 'quantity_capped', ...note, keptQuantity: kept });
    absorbed.push(line.id);
  }

  await deleteLinesById(tx, absorbed);
  const userCurrency = userLines.length + moved > 0 ? currency : userCart.currency;
  await updateCart(tx, userCart.id, { currency: userCurrency, updatedAt: now });
  await updateCart(tx, guest.id, { status: 'merged', mergedIntoId: userCart.id, updatedAt: now });
  return { userCart: { ...userCart, currency: userCurrency, updatedAt: now }, notes };
}
