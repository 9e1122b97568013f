import { and, eq, sql } from 'drizzle-orm';
import { createProduct } from '../../../test/factories/catalog.ts';
import { appWithSeller } from '../../../test/factories/commerce.ts';
import type { TestUser } from '../../../test/factories/users.ts';
import type { TestApp, TestAppOptions } from '../../../test/harness/build-test-app.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { outboundMessages } from '../../platform/notify/notify.tables.ts';
import { accountsModule } from '../accounts/index.ts';
import { catalogModule } from '../catalog/index.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import { holdStock, inventoryModule, receiveStock } from '../inventory/index.ts';
import { stockHolds } from '../inventory/inventory.tables.ts';
import {
  applyPaymentToOrder,
  createPendingOrder,
  type NewOrder,
  ordersDeps,
  ordersModule,
  type PaymentStateForOrder,
} from './index.ts';
import type { OrderRow } from './orders.repo.ts';
import { orderEvents } from './orders.tables.ts';

/** What orders needs to run: accounts (buyers, staff), catalog (products), inventory, and itself. */
export const ordersTestModules = [notifyModule, accountsModule, catalogModule, inventoryModule, ordersModule];

/** A test app with only what orders needs, and a seller. */
export function ordersTestApp(options: TestAppOptions = {}) {
  return appWithSeller({ modules: ordersTestModules, ...options });
}

const DAY_MS = 24 * 3600_000;

/** An active product of `seller` with one variant priced `priceMinor`, `units` in stock. */
export async function stockedProduct(
  app: TestApp,
  seller: TestUser,
  {
    units = 10,
    priceMinor = 2500,
    currency = 'USD',
  }: { units?: number; priceMinor?: number; currency?: string } = {},
): Promise<ProductView> {
  const product = await createProduct(app, seller, { status: 'active', priceMinor, currency });
  const variantId = product.variants[0]!.id;
  if (units > 0) {
    await app.platform.db.transaction((tx) =>
      receiveStock(tx, { variantId, quantity: units, actorId: null, note: 'orders test stock' }),
    );
  }
  return product;
}

export interface PlaceOrderOptions {
  readonly quantity?: number;
  readonly shippingMinor?: number;
  readonly feesMinor?: number;
  readonly paymentDueAt?: Date;
  /** Hold the stock as checkout does (default true). */
  readonly hold?: boolean;
  /** Default 30 minutes from now. */
  readonly holdExpiresAt?: Date;
  readonly extra?: Partial<NewOrder>;
}

/** What checkout does: a pending order for `products` (one line each) and its stock holds, in one transaction. */
export async function placeOrder(
  app: TestApp,
  buyer: TestUser,
  products: readonly ProductView[],
  options: PlaceOrderOptions = {},
): Promise<OrderRow> {
  const quantity = options.quantity ?? 1;
  const now = app.platform.clock.now();
  return app.platform.db.transaction(async (tx) => {
    const order = await createPendingOrder(tx, ordersDeps(app.platform), {
      buyerId: buyer.user.id,
      email: buyer.user.email,
      cartId: null,
      currency: products[0]?.currency ?? 'USD',
      lines: products.map((product) => {
        const variant = product.variants[0]!;
        return {
          variantId: variant.id,
          productId: product.id,
          sellerId: product.sellerId,
          sku: variant.sku,
          title: product.title,
          quantity,
          unitPriceMinor: variant.priceMinor,
        };
      }),
      shippingMinor: options.shippingMinor ?? 500,
      feesMinor: options.feesMinor ?? 0,
      shippingAddress: {
        name: 'Test Buyer',
        line1: '1 Main St',
        city: 'Springfield',
        postalCode: '12345',
        country: 'US',
      },
      paymentDueAt: options.paymentDueAt ?? new Date(now.getTime() + 3 * DAY_MS),
      ...options.extra,
    });
    if (options.hold ?? true) {
      await holdStock(tx, {
        orderId: order.id,
        lines: products.map((product) => ({ variantId: product.variants[0]!.id, quantity })),
        expiresAt: options.holdExpiresAt ?? new Date(now.getTime() + 30 * 60_000),
        actorId: buyer.user.id,
        at: now,
      });
    }
    return order;
  });
}

/** Payments' call after a payment status change, in its own transaction. */
export function applyPayment(
  app: TestApp,
  order: Pick<OrderRow, 'id' | 'currency' | 'totalMinor'>,
  state: Partial<PaymentStateForOrder> & Pick<PaymentStateForOrder, 'status'>,
) {
  return app.platform.db.transaction((tx) =>
    applyPaymentToOrder(tx, ordersDeps(app.platform), {
      orderId: order.id,
      paymentId: '00000000-0000-4000-8000-000000000001',
      provider: 'local',
      previousStatus: 'pending',
      capturedMinor: 0,
      refundedMinor: 0,
      currency: order.currency,
      failureCode: null,
      ...state,
    }),
  );
}

export async function eventsOf(app: TestApp, orderId: string) {
  return app.platform.db
    .select()
    .from(orderEvents)
    .where(eq(orderEvents.orderId, orderId))
    .orderBy(orderEvents.id);
}

export async function activeHoldUnits(app: TestApp, orderId: string): Promise<number> {
  const [row] = await app.platform.db
    .select({ units: sql<number>`coalesce(sum(${stockHolds.quantity}), 0)::int` })
    .from(stockHolds)
    .where(and(eq(stockHolds.orderId, orderId), eq(stockHolds.status, 'active')));
  return row?.units ?? 0;
}

/** Emails of `template` to `recipient` in the local outbox (sent or stored). */
export async function emailsTo(app: TestApp, recipient: string, template: string) {
  return app.platform.db
    .select()
    .from(outboundMessages)
    .where(and(eq(outboundMessages.recipient, recipient), eq(outboundMessages.template, template)));
}
