import { createHash } from 'node:crypto';
import { createLimiter } from '../../platform/concurrency/limiter.ts';
import { AppError, isAppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { type CheckoutCart, cartFingerprint, lockCartForCheckout } from '../cart/index.ts';
import { holdStock, releaseHolds } from '../inventory/index.ts';
import { outOfStock } from '../inventory/inventory.errors.ts';
import { cancelOrder, createPendingOrder, type OrderAddress, ordersDeps } from '../orders/index.ts';
import { checkoutFailureCounter, paymentProvidersFor } from '../payments/index.ts';
import { insertPayment, markPaymentSetupFailed, setProviderPayment } from '../payments/payments.repo.ts';
import type { PaymentProviderName } from '../payments/payments.tables.ts';
import {
  type CheckoutAttemptRow,
  cartStock,
  claimAttempt,
  findAttemptAndBuyer,
  findSavedAddress,
  finishAttempt,
  isPaymentStillOpen,
} from './checkout.repo.ts';
import type { CheckoutBodyValue, CheckoutResultValue } from './checkout.schemas.ts';
import { shippingRatesFor } from './shipping-rates.ts';

registerErrorCodes({
  cart_empty: 409,
  /** Some lines can no longer be bought (product unpublished, other currency); `details.lines`. */
  cart_item_unavailable: 409,
  /** The total differs from `expectedTotalMinor` (a price changed since the buyer looked). */
  checkout_total_changed: 409,
  /** The same Idempotency-Key is being processed right now. */
  checkout_in_progress: 409,
  /** The Idempotency-Key was used with a different cart or body. */
  idempotency_key_reused: 422,
  address_required: 400,
});

/**
 * Checkout as ordered steps, each undone by a compensation when a later one fails (Medusa's
 * core-flows shape, written as plain code):
 *
 *   1. validate      lockout, cart, lines, totals, idempotency          — nothing to undo
 *   2. reserve       create the order pending payment + its payment row
 *                    + hold stock, in ONE transaction (rolled back
 *                    together; stock rows are touched last, so their
 *                    locks are held for the shortest time)              — undo: cancel order, release holds
 *   3. pay           create the payment with the provider (network,
 *                    outside any transaction, provider idempotency key) — undo: cancel it at the provider
 *   4. respond       store the provider's answer with the attempt       — (nothing after it)
 *
 * Idempotent per `Idempotency-Key` (or, without one, per cart contents): a repeat returns the
 * stored answer instead of creating a second order or charge.
 */
export interface CheckoutService {
  checkout(input: { userId: string; idempotencyKey: string | undefined; body: CheckoutBodyValue }): Promise<{
    result: CheckoutResultValue;
    replayed: boolean;
  }>;
}

interface Plan {
  readonly cart: CheckoutCart;
  readonly currency: string;
  readonly key: string;
  readonly clientKey: boolean;
  readonly requestHash: string;
  readonly buyer: { readonly email: string; readonly displayName: string; readonly locale: 'en' | 'ko' };
  readonly address: OrderAddress;
  readonly shippingMinor: number;
  readonly itemsMinor: number;
  readonly provider: PaymentProviderName;
}

interface Reservation {
  readonly attempt: CheckoutAttemptRow;
  readonly orderId: string;
  readonly orderNumber: number;
  readonly paymentId: string;
  readonly paymentKey: string;
  readonly totals: {
    itemsMinor: number;
    shippingMinor: number;
    taxMinor: number;
    feesMinor: number;
    totalMinor: number;
  };
  readonly holdExpiresAt: Date;
  readonly paymentDueAt: Date;
}

/**
 * Retries a short transaction on failures that say nothing about the data (no pool connection in
 * time, a dropped connection): giving up there would undo a reservation that already committed.
 */
async function withRetry<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      const transient = /timeout exceeded when trying to connect|Connection terminated|ECONNRESET/.test(
        message,
      );
      if (!transient || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

export function createCheckoutService(services: PlatformServices): CheckoutService {
  const { db, clock, config } = services;
  const failures = checkoutFailureCounter(services);
  const deps = ordersDeps(services);

  // Checkouts in flight per process: about half the pool, so a burst queues here (FIFO, bounded)
  // instead of in the pool, where every request would hold a connection for a step at a time.
  const limiter = createLimiter({
    concurrency:
      services.database.kind === 'pglite' ? 4 : Math.max(2, Math.floor(config.database.poolMax / 2)),
    maxQueue: 10_000,
    maxWaitMs: 20_000,
  });

  /**
   * The cheapest refusal: one lock-free read of the cart's lines with their stock, first thing once
   * admitted (by then earlier buyers' holds have committed). The hold itself re-checks under the
   * row lock, so this can only refuse early, never oversell.
   */
  async function refuseShortStock(userId: string): Promise<void> {
    const lines = await cartStock(db, userId);
    if (lines.length === 0) throw new AppError('cart_empty', 'Your cart is empty');
    const short = lines.filter((line) => line.quantity > line.available);
    if (short.length > 0) {
      throw outOfStock(
        short.map((line) => ({
          variantId: line.variantId,
          requested: line.quantity,
          available: line.available,
        })),
      );
    }
  }

  /** Step 1. Also answers a repeat from the stored attempt. */
  async function validate(input: Parameters<CheckoutService['checkout']>[0]) {
    const { userId, body } = input;
    await refuseShortStock(userId);
    await failures.assertNotLocked(db, userId);
    const providers = await paymentProvidersFor(services);
    const provider = body.provider ?? providers.defaultName;
    providers.get(provider);

    // A snapshot is enough (no transaction to hold a lock in): the order is built from exactly these
    // lines, and an edit after this point changes the cart's fingerprint, so it is the next checkout.
    const cart = await lockCartForCheckout(db, userId);
    if (!cart || cart.lines.length === 0 || !cart.currency)
      throw new AppError('cart_empty', 'Your cart is empty');
    const currency = cart.currency;
    const unavailable = cart.lines.filter(
      (line) => line.productStatus !== 'active' || line.currency !== currency,
    );
    if (unavailable.length > 0) {
      throw new AppError(
        'cart_item_unavailable',
        'Some items can no longer be bought; remove them to continue',
        {
          details: {
            lines: unavailable.map((line) => ({
              lineId: line.lineId,
              variantId: line.variantId,
              title: line.title,
            })),
          },
        },
      );
    }

    const fingerprint = cartFingerprint(cart);
    const clientKey = input.idempotencyKey !== undefined;
    const key = input.idempotencyKey ?? `cart:${cart.id}:${fingerprint}`;
    const requestHash = sha256(JSON.stringify({ fingerprint, body }));
    const found = await findAttemptAndBuyer(db, userId, key);
    if (!found) throw new AppError('not_found', 'No such user');
    const { buyer, attempt: existing } = found;
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new AppError(
          'idempotency_key_reused',
          'This Idempotency-Key was used for a different checkout',
        );
      }
      if (existing.status === 'in_progress') {
        throw new AppError('checkout_in_progress', 'This checkout is already being processed', {
          headers: { 'retry-after': '1' },
        });
      }
      const stored = existing.response as CheckoutResultValue | null;
      // A client's key replays whatever it got. Our own per-cart key replays only while that
      // payment can still be paid; after a decline or a cancellation the buyer may check out again.
      if (
        existing.status === 'succeeded' &&
        stored &&
        (clientKey || (await isPaymentStillOpen(db, stored.paymentId)))
      ) {
        return { kind: 'replay', result: stored } as const;
      }
      if (existing.status === 'failed' && clientKey) {
        throw new AppError(
          existing.errorCode ?? 'payment_provider_error',
          'This checkout failed; start a new one',
        );
      }
    }

    const address = await resolveAddress(userId, body);
    const itemsMinor = cart.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceMinor, 0);
    const shipping = await shippingRatesFor(services).quote({
      currency,
      lines: cart.lines.map(({ variantId, quantity }) => ({ variantId, quantity })),
      address,
    });
    const totalMinor = itemsMinor + shipping.amountMinor;
    if (body.expectedTotalMinor !== undefined && body.expectedTotalMinor !== totalMinor) {
      throw new AppError('checkout_total_changed', 'Prices changed since you looked; review your cart', {
        details: { expectedTotalMinor: body.expectedTotalMinor, totalMinor, currency },
      });
    }
    const plan: Plan = {
      cart,
      currency,
      key,
      clientKey,
      requestHash,
      buyer,
      address,
      shippingMinor: shipping.amountMinor,
      itemsMinor,
      provider,
    };
    return { kind: 'new', plan, recycle: existing ?? null } as const;
  }

  async function resolveAddress(userId: string, body: CheckoutBodyValue): Promise<OrderAddress> {
    if (body.shippingAddress) return body.shippingAddress;
    if (body.addressId) {
      const saved = await findSavedAddress(db, userId, body.addressId);
      if (!saved) throw new AppError('not_found', 'No such address');
      return {
        name: saved.recipientName,
        line1: saved.line1,
        line2: saved.line2 || null,
        city: saved.cityName,
        region: saved.provinceName,
        postalCode: saved.postalCode,
        country: saved.countryCode,
        phone: saved.phone,
      };
    }
    throw new AppError('address_required', 'Give a shipping address or the id of a saved one', {
      fields: [{ field: 'shippingAddress', message: 'required unless addressId is given' }],
    });
  }

  /** Step 2: order + payment row + stock hold, all or nothing. */
  async function reserve(plan: Plan, recycle: CheckoutAttemptRow | null): Promise<Reservation> {
    const now = clock.now();
    const holdExpiresAt = new Date(now.getTime() + config.commerce.holdMinutes * 60_000);
    const paymentDueAt = new Date(now.getTime() + config.commerce.paymentGraceHours * 3_600_000);
    return db.transaction(async (tx) => {
      const claimed = await claimAttempt(tx, {
        userId: plan.cart.userId,
        idempotencyKey: plan.key,
        requestHash: plan.requestHash,
        cartId: plan.cart.id,
        now,
        takeOverId: recycle?.id ?? null,
      });
      if (!claimed) {
        throw new AppError('checkout_in_progress', 'This checkout is already being processed', {
          headers: { 'retry-after': '1' },
        });
      }
      const { attempt } = claimed;
      // A cart checks out into one open order: an earlier unpaid order of it is superseded.
      for (const staleOrderId of claimed.staleOrderIds) {
        await cancelOrder(tx, deps, {
          orderId: staleOrderId,
          reason: 'superseded by a new checkout of the same cart',
          actorKind: 'system',
          actorId: null,
        });
      }
      const order = await createPendingOrder(tx, deps, {
        kind: 'store',
        buyerId: plan.cart.userId,
        email: plan.buyer.email,
        buyer: plan.buyer,
        cartId: plan.cart.id,
        currency: plan.currency,
        lines: plan.cart.lines.map((line) => ({
          variantId: line.variantId,
          productId: line.productId,
          sellerId: line.sellerId,
          sku: line.sku,
          title: line.title,
          quantity: line.quantity,
          unitPriceMinor: line.unitPriceMinor,
        })),
        shippingMinor: plan.shippingMinor,
        shippingAddress: plan.address,
        paymentDueAt,
        actorKind: 'buyer',
      });
      const paymentKey = `payment:${order.id}`;
      const payment = await insertPayment(tx, {
        orderId: order.id,
        provider: plan.provider,
        amountMinor: order.totalMinor,
        currency: order.currency,
        idempotencyKey: paymentKey,
        createdAt: now,
        updatedAt: now,
      });
      await holdStock(tx, {
        orderId: order.id,
        lines: plan.cart.lines.map(({ variantId, quantity }) => ({ variantId, quantity })),
        expiresAt: holdExpiresAt,
        actorId: plan.cart.userId,
      });
      return {
        attempt,
        orderId: order.id,
        orderNumber: order.number,
        paymentId: payment.id,
        paymentKey,
        totals: {
          itemsMinor: order.itemsMinor,
          shippingMinor: order.shippingMinor,
          taxMinor: order.taxMinor,
          feesMinor: order.feesMinor,
          totalMinor: order.totalMinor,
        },
        holdExpiresAt,
        paymentDueAt,
      };
    });
  }

  /** Compensation of step 2: the order is cancelled, its stock released, the attempt failed. */
  async function undoReservation(plan: Plan, reservation: Reservation, errorCode: string): Promise<void> {
    await db.transaction(async (tx) => {
      const now = clock.now();
      await releaseHolds(tx, { orderId: reservation.orderId, reason: 'compensation', actorId: null });
      await cancelOrder(tx, deps, {
        orderId: reservation.orderId,
        reason: `checkout failed: ${errorCode}`,
        actorKind: 'system',
        actorId: null,
      });
      await markPaymentSetupFailed(tx, reservation.paymentId, { failureCode: errorCode, now });
      await finishAttempt(tx, reservation.attempt.id, {
        status: 'failed',
        orderId: reservation.orderId,
        response: null,
        errorCode,
        now,
      });
    });
    services.logger.warn(
      { orderId: reservation.orderId, errorCode, provider: plan.provider },
      'checkout compensated',
    );
  }

  return {
    // No stock read before queueing: in a burst every request would pass it (nothing is sold yet)
    // and it would only double the refusals' cost; once admitted, the first read refuses cheaply.
    async checkout(input) {
      return limiter.run(() => checkoutAdmitted(input));
    },
  };

  async function checkoutAdmitted(
    input: Parameters<CheckoutService['checkout']>[0],
  ): ReturnType<CheckoutService['checkout']> {
    const validated = await validate(input);
    if (validated.kind === 'replay') return { result: validated.result, replayed: true };
    const { plan, recycle } = validated;

    const reservation = await reserve(plan, recycle);
    const provider = (await paymentProvidersFor(services)).get(plan.provider);

    let created: Awaited<ReturnType<typeof provider.createPayment>>;
    try {
      created = await provider.createPayment({
        paymentId: reservation.paymentId,
        orderId: reservation.orderId,
        orderNumber: reservation.orderNumber,
        amountMinor: reservation.totals.totalMinor,
        currency: plan.currency,
        description: `Order #${reservation.orderNumber}`,
        buyerEmail: plan.buyer.email,
        lines: plan.cart.lines.map((line) => ({
          title: line.title,
          quantity: line.quantity,
          unitPriceMinor: line.unitPriceMinor,
        })),
        returnUrl: `${config.server.publicUrl}/orders/${reservation.orderId}?paid=1`,
        cancelUrl: `${config.server.publicUrl}/cart`,
        idempotencyKey: reservation.paymentKey,
      });
    } catch (error) {
      await undoReservation(plan, reservation, isAppError(error) ? error.code : 'payment_provider_error');
      if (isAppError(error)) throw error;
      throw new AppError(
        'payment_provider_error',
        'The payment provider could not be reached; nothing was charged',
        {
          cause: error,
        },
      );
    }

    const result: CheckoutResultValue = {
      orderId: reservation.orderId,
      orderNumber: reservation.orderNumber,
      paymentId: reservation.paymentId,
      provider: plan.provider,
      currency: plan.currency,
      ...reservation.totals,
      redirectUrl: created.redirectUrl,
      clientSecret: created.clientSecret,
      holdExpiresAt: reservation.holdExpiresAt.toISOString(),
      paymentDueAt: reservation.paymentDueAt.toISOString(),
    };
    try {
      await withRetry(() =>
        db.transaction(async (tx) => {
          const now = clock.now();
          await setProviderPayment(tx, reservation.paymentId, {
            providerRef: created.providerRef,
            redirectUrl: created.redirectUrl,
            clientSecret: created.clientSecret,
            now,
          });
          await finishAttempt(tx, reservation.attempt.id, {
            status: 'succeeded',
            orderId: reservation.orderId,
            response: result,
            errorCode: null,
            now,
          });
        }),
      );
    } catch (error) {
      // Compensation of step 3, then of step 2.
      await provider
        .cancelPayment({
          providerRef: created.providerRef,
          idempotencyKey: `cancel:${reservation.paymentId}`,
        })
        .catch((cancelError: unknown) =>
          services.logger.error(
            { err: cancelError, paymentId: reservation.paymentId },
            'could not cancel provider payment',
          ),
        );
      await undoReservation(plan, reservation, 'checkout_store_failed');
      throw error;
    }
    return { result, replayed: false };
  }
}
