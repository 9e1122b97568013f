import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { Principal } from '../../platform/http/principal.ts';
import { availableQuantities } from '../inventory/availability.ts';
import {
  type CartRow,
  countLines,
  deleteAllLines,
  deleteLine,
  findCartById,
  findGuestCart,
  findLine,
  findLineByVariant,
  findOpenUserCart,
  findVariantForCart,
  insertGuestCart,
  insertLine,
  listLineDetails,
  lockGuestCart,
  lockOpenUserCart,
  lockOrCreateUserCart,
  updateCart,
  updateLine,
} from './cart.repo.ts';
import { type CartView, MAX_LINE_QUANTITY, type MergeNoteView } from './cart.schemas.ts';
import { mergeGuestCart } from './cart-merge.ts';
import { hashCartToken, newCartToken } from './cart-token.ts';

registerErrorCodes({
  /** The caller has no cart (a guest without a token, or with an unknown or merged one). */
  cart_not_found: 404,
  /** The variant's product is not active (draft or archived). */
  product_unavailable: 409,
  /** A cart holds one currency, fixed by its first line. */
  cart_currency_mismatch: 409,
  /** More than the units on sale now; `details: { variantId, available }`. */
  insufficient_stock: 409,
  /** Adding would take a line past 99 units. */
  cart_quantity_limit: 400,
});

/** Who is asking: a signed-in user, a guest with the token of their cart, or a guest without one. */
export interface CartCaller {
  readonly principal: Principal | null;
  /** The X-Cart-Token header, when sent. */
  readonly token?: string | undefined;
}

export interface CartService {
  /** The caller's cart; an empty view (id null) when there is none. Never creates one (except by a merge). */
  view(caller: CartCaller): Promise<CartView>;
  addLine(options: { caller: CartCaller; variantId: string; quantity: number }): Promise<CartView>;
  updateLine(options: { caller: CartCaller; lineId: string; quantity: number }): Promise<CartView>;
  removeLine(options: { caller: CartCaller; lineId: string }): Promise<CartView>;
  clear(caller: CartCaller): Promise<CartView>;
  /** Merges the guest cart of `token` into the user's cart; a second merge of it is a no-op. */
  merge(options: { userId: string; token: string }): Promise<CartView>;
}

const cartNotFound = () => new AppError('cart_not_found', 'No cart: add a line first');
const lineNotFound = () => new AppError('not_found', 'No such line in your cart');

const EMPTY_VIEW: CartView = {
  id: null,
  currency: null,
  lines: [],
  itemCount: 0,
  itemsMinor: 0,
  updatedAt: null,
};

/** The view of one cart (lines at current prices with availability), in two reads. */
export async function cartView(
  db: DbOrTx,
  cart: CartRow | undefined,
  extras: { guestToken?: string | undefined; mergeNotes?: MergeNoteView[] | undefined } = {},
): Promise<CartView> {
  const tail = {
    ...(extras.guestToken === undefined ? {} : { guestToken: extras.guestToken }),
    ...(extras.mergeNotes === undefined ? {} : { mergeNotes: extras.mergeNotes }),
  };
  if (!cart) return { ...EMPTY_VIEW, ...tail };
  const details = await listLineDetails(db, cart.id);
  const available = await availableQuantities(
    db,
    details.map((line) => line.variantId),
  );
  const lines = details.map((line) => ({
    id: line.id,
    variantId: line.variantId,
    productId: line.productId,
    productTitle: line.productTitle,
    variantTitle: line.variantTitle,
    sku: line.sku,
    quantity: line.quantity,
    unitPriceMinor: line.unitPriceMinor,
    addedUnitPriceMinor: line.addedUnitPriceMinor,
    priceChanged: line.unitPriceMinor !== line.addedUnitPriceMinor,
    available: available.get(line.variantId) ?? 0,
    lineTotalMinor: line.unitPriceMinor * line.quantity,
  }));
  return {
    id: cart.id,
    currency: cart.currency,
    lines,
    itemCount: lines.reduce((sum, line) => sum + line.quantity, 0),
    itemsMinor: lines.reduce((sum, line) => sum + line.lineTotalMinor, 0),
    updatedAt: cart.updatedAt,
    ...tail,
  };
}

async function assertAvailable(tx: DbOrTx, variantId: string, quantity: number): Promise<void> {
  const available = (await availableQuantities(tx, [variantId])).get(variantId) ?? 0;
  if (quantity > available) {
    throw new AppError('insufficient_stock', `Only ${available} available`, {
      details: { variantId, available },
    });
  }
}

/**
 * Guest and user carts. Every change runs in one transaction that first locks the cart row, so
 * lines, quantities and the cart currency change one request at a time per cart. A signed-in
 * request that carries the token of an open guest cart merges that cart first, in the same
 * transaction: if the change then fails, the merge rolls back with it and the next request merges.
 */
export function createCartService({ db, clock }: { db: Db; clock: Clock }): CartService {
  async function mergeFromToken(tx: DbOrTx, caller: CartCaller, now: Date) {
    if (!caller.principal || !caller.token) return undefined;
    const guest = await lockGuestCart(tx, hashCartToken(caller.token));
    if (guest?.status !== 'open') return undefined;
    return (await mergeGuestCart(tx, { guest, userId: caller.principal.userId, now })).notes;
  }

  /** The caller's open cart, locked; created (a guest cart gets a new token) when `create`. */
  async function lockCallerCart(
    tx: DbOrTx,
    caller: CartCaller,
    now: Date,
    create: boolean,
  ): Promise<{ cart: CartRow; guestToken?: string }> {
    if (caller.principal) {
      const userId = caller.principal.userId;
      if (create) return { cart: await lockOrCreateUserCart(tx, userId, now) };
      const cart = await lockOpenUserCart(tx, userId);
      if (!cart) throw cartNotFound();
      return { cart };
    }
    if (caller.token) {
      const cart = await lockGuestCart(tx, hashCartToken(caller.token));
      if (cart?.status === 'open') return { cart };
    }
    if (!create) throw cartNotFound();
    // An unknown or merged token gets a fresh cart and token: the old one opens nothing.
    const guestToken = newCartToken();
    return { cart: await insertGuestCart(tx, hashCartToken(guestToken), now), guestToken };
  }

  /** Runs a change to the caller's existing cart and answers its view. */
  function change(
    caller: CartCaller,
    apply: (tx: DbOrTx, cart: CartRow, now: Date) => Promise<void>,
  ): Promise<CartView> {
    return db.transaction(async (tx) => {
      const now = clock.now();
      const mergeNotes = await mergeFromToken(tx, caller, now);
      const { cart } = await lockCallerCart(tx, caller, now, false);
      await apply(tx, cart, now);
      return cartView(tx, await findCartById(tx, cart.id), { mergeNotes });
    });
  }

  /** An emptied cart takes any currency again. */
  async function touch(tx: DbOrTx, cart: CartRow, now: Date): Promise<void> {
    const empty = (await countLines(tx, cart.id)) === 0;
    await updateCart(tx, cart.id, { updatedAt: now, ...(empty ? { currency: null } : {}) });
  }

  return {
    async view(caller) {
      if (caller.principal && caller.token) {
        const userId = caller.principal.userId;
        return db.transaction(async (tx) => {
          const mergeNotes = await mergeFromToken(tx, caller, clock.now());
          return cartView(tx, await findOpenUserCart(tx, userId), { mergeNotes });
        });
      }
      if (caller.principal) return cartView(db, await findOpenUserCart(db, caller.principal.userId));
      if (!caller.token) return EMPTY_VIEW;
      const guest = await findGuestCart(db, hashCartToken(caller.token));
      return cartView(db, guest?.status === 'open' ? guest : undefined);
    },

    addLine({ caller, variantId, quantity }) {
      return db.transaction(async (tx) => {
        const now = clock.now();
        const mergeNotes = await mergeFromToken(tx, caller, now);
        const variant = await findVariantForCart(tx, variantId);
        if (!variant) throw new AppError('not_found', 'No such product variant');
        if (variant.productStatus !== 'active') {
          throw new AppError('product_unavailable', 'This product is not on sale', {
            details: { variantId, productId: variant.productId },
          });
        }
        const { cart, guestToken } = await lockCallerCart(tx, caller, now, true);
        if (cart.currency !== null && cart.currency !== variant.currency) {
          throw new AppError(
            'cart_currency_mismatch',
            `This cart is in ${cart.currency}; the product is priced in ${variant.currency}`,
            { details: { cartCurrency: cart.currency, variantCurrency: variant.currency } },
          );
        }
        const existing = await findLineByVariant(tx, cart.id, variantId);
        const total = (existing?.quantity ?? 0) + quantity;
        if (total > MAX_LINE_QUANTITY) {
          throw new AppError('cart_quantity_limit', `At most ${MAX_LINE_QUANTITY} per line`, {
            details: { max: MAX_LINE_QUANTITY, inCart: existing?.quantity ?? 0 },
          });
        }
        await assertAvailable(tx, variantId, total);
        // Adding again is a new decision at today's price: the line remembers that one.
        if (existing) {
          await updateLine(tx, existing.id, {
            quantity: total,
            unitPriceMinor: variant.priceMinor,
            updatedAt: now,
          });
        } else {
          await insertLine(tx, {
            cartId: cart.id,
            variantId,
            quantity,
            unitPriceMinor: variant.priceMinor,
            createdAt: now,
            updatedAt: now,
          });
        }
        await updateCart(tx, cart.id, { currency: variant.currency, updatedAt: now });
        return cartView(tx, await findCartById(tx, cart.id), { guestToken, mergeNotes });
      });
    },

    updateLine({ caller, lineId, quantity }) {
      return change(caller, async (tx, cart, now) => {
        const line = await findLine(tx, cart.id, lineId);
        if (!line) throw lineNotFound();
        if (quantity === line.quantity) return;
        // Lowering is always allowed (stock may have sold out since); raising must be on sale.
        if (quantity > line.quantity) {
          const variant = await findVariantForCart(tx, line.variantId);
          if (variant?.productStatus !== 'active') {
            throw new AppError('product_unavailable', 'This product is not on sale', {
              details: { variantId: line.variantId },
            });
          }
          await assertAvailable(tx, line.variantId, quantity);
        }
        await updateLine(tx, line.id, { quantity, updatedAt: now });
        await touch(tx, cart, now);
      });
    },

    removeLine({ caller, lineId }) {
      return change(caller, async (tx, cart, now) => {
        if (!(await deleteLine(tx, cart.id, lineId))) throw lineNotFound();
        await touch(tx, cart, now);
      });
    },

    clear(caller) {
      return change(caller, async (tx, cart, now) => {
        await deleteAllLines(tx, cart.id);
        await touch(tx, cart, now);
      });
    },

    merge({ userId, token }) {
      return db.transaction(async (tx) => {
        const now = clock.now();
        const guest = await lockGuestCart(tx, hashCartToken(token));
        if (guest?.status === 'open') {
          const { userCart, notes } = await mergeGuestCart(tx, { guest, userId, now });
          return cartView(tx, await findCartById(tx, userCart.id), { mergeNotes: notes });
        }
        // Merged before into this user's cart: nothing to do. Anyone else's: not revealed.
        const target =
          guest?.status === 'merged' && guest.mergedIntoId
            ? await findCartById(tx, guest.mergedIntoId)
            : undefined;
        if (target?.userId !== userId) throw cartNotFound();
        return cartView(tx, await findOpenUserCart(tx, userId));
      });
    },
  };
}
