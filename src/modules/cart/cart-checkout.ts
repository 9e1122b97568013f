import { createHash } from 'node:crypto';
import type { DbOrTx } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import { findCartById, listLineDetails, lockOpenUserCart, markCheckedOut } from './cart.repo.ts';

export interface CheckoutCartLine {
  readonly lineId: string;
  readonly variantId: string;
  readonly productId: string;
  readonly sellerId: string;
  readonly sku: string;
  /** "Product title — Variant title" */
  readonly title: string;
  readonly quantity: number;
  /** The variant's current price. */
  readonly unitPriceMinor: number;
  /** The price when the line was last added to. */
  readonly addedUnitPriceMinor: number;
  /** The variant's currency. */
  readonly currency: string;
  readonly productStatus: 'draft' | 'active' | 'archived';
}

export interface CheckoutCart {
  readonly id: string;
  readonly userId: string;
  readonly currency: string | null;
  readonly updatedAt: Date;
  readonly lines: readonly CheckoutCartLine[];
}

/**
 * The user's open cart with its lines, row-locked (FOR UPDATE on the cart row) in the caller's
 * transaction; null when the user has no open cart. While checkout holds the lock no cart route
 * can change the cart (they all lock the same row first).
 */
export async function lockCartForCheckout(tx: DbOrTx, userId: string): Promise<CheckoutCart | null> {
  const cart = await lockOpenUserCart(tx, userId);
  if (!cart) return null;
  const lines = await listLineDetails(tx, cart.id);
  return {
    id: cart.id,
    userId,
    currency: cart.currency,
    updatedAt: cart.updatedAt,
    lines: lines.map((line) => ({
      lineId: line.id,
      variantId: line.variantId,
      productId: line.productId,
      sellerId: line.sellerId,
      sku: line.sku,
      title: `${line.productTitle} — ${line.variantTitle}`,
      quantity: line.quantity,
      unitPriceMinor: line.unitPriceMinor,
      addedUnitPriceMinor: line.addedUnitPriceMinor,
      currency: line.currency,
      productStatus: line.productStatus,
    })),
  };
}

/**
 * Marks the cart checked_out (called by checkout in its transaction once the order is paid or
 * placed). Idempotent for a cart already checked out; a merged or missing cart is a 404
 * `cart_not_found`, since checking one out would be a bug in the caller.
 */
export async function markCartCheckedOut(tx: DbOrTx, cartId: string): Promise<void> {
  if (await markCheckedOut(tx, cartId)) return;
  const cart = await findCartById(tx, cartId);
  if (cart?.status === 'checked_out') return;
  throw new AppError('cart_not_found', 'No open cart to check out');
}

/**
 * The cart id and a SHA-256 of its contents (variant ids + quantities, sorted by variant id), as
 * `<cartId>:<hex>`, for checkout idempotency: same cart, same contents, same fingerprint, whatever
 * the line order or prices.
 */
export function cartFingerprint(cart: CheckoutCart): string {
  const contents = [...cart.lines]
    .map((line) => `${line.variantId}:${line.quantity}`)
    .sort()
    .join('\n');
  return `${cart.id}:${createHash('sha256').update(contents).digest('hex')}`;
}
