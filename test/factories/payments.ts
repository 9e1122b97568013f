import { and, count, eq, inArray } from 'drizzle-orm';
import type { Static } from 'typebox';
import { orderEvents } from '../../src/modules/orders/orders.tables.ts';
import type { OrderPayments } from '../../src/modules/payments/payments.schemas.ts';
import { paymentEvents, payments } from '../../src/modules/payments/payments.tables.ts';
import { outboundMessages } from '../../src/platform/notify/notify.tables.ts';
import type { TestApp } from '../harness/build-test-app.ts';
import { waitFor } from '../harness/wait-for.ts';
import type { TestUser } from './users.ts';

/** Posts a webhook delivery (exactly these bytes and headers) to the provider's webhook route. */
export function postWebhook(
  app: TestApp,
  provider: string,
  delivery: { readonly body: string | Buffer; readonly headers: Readonly<Record<string, string>> },
) {
  return app.http.inject({
    method: 'POST',
    url: `/api/payments/webhooks/${provider}`,
    headers: { ...delivery.headers },
    payload: delivery.body,
  });
}

/** How many provider events are recorded, all providers and payments together. */
export async function countPaymentEvents(app: TestApp) {
  const [row] = await app.platform.db.select({ n: count() }).from(paymentEvents);
  return row?.n ?? 0;
}

/** How many times the order was marked paid and the buyer told so. */
export async function paidEffects(app: TestApp, orderId: string, email: string) {
  const db = app.platform.db;
  const [paid] = await db
    .select({ n: count() })
    .from(orderEvents)
    .where(and(eq(orderEvents.orderId, orderId), eq(orderEvents.type, 'paid')));
  const [mails] = await db
    .select({ n: count() })
    .from(outboundMessages)
    .where(
      and(eq(outboundMessages.recipient, email), eq(outboundMessages.template, 'orders.payment-received')),
    );
  return { paidEvents: paid?.n ?? 0, emails: mails?.n ?? 0 };
}

/** Waits until the jobs have applied every one of these recorded events; returns their rows. */
export async function waitForProcessedEvents(
  app: TestApp,
  provider: (typeof paymentEvents.$inferSelect)['provider'],
  eventIds: readonly string[],
) {
  return waitFor(
    async () => {
      const rows = await app.platform.db
        .select()
        .from(paymentEvents)
        .where(and(eq(paymentEvents.provider, provider), inArray(paymentEvents.eventId, [...eventIds])));
      return rows.length === eventIds.length && rows.every((row) => row.processedAt !== null)
        ? rows
        : undefined;
    },
    { what: `${eventIds.length} ${provider} events processed` },
  );
}

export async function paymentRow(app: TestApp, paymentId: string) {
  const [row] = await app.platform.db.select().from(payments).where(eq(payments.id, paymentId));
  if (!row) throw new Error(`no payment ${paymentId}`);
  return row;
}

/** The provider's reference for the payment (Stripe session or intent, PayPal order). */
export async function providerRefOf(app: TestApp, paymentId: string) {
  const ref = (await paymentRow(app, paymentId)).providerRef;
  if (!ref) throw new Error(`payment ${paymentId} has no provider reference`);
  return ref;
}

/** POST /api/admin/orders/:id/refunds as `user` (an idempotency key only when one is given). */
export function postRefund(
  app: TestApp,
  user: TestUser,
  orderId: string,
  { idempotencyKey, ...body }: { amountMinor?: number; reason?: string; idempotencyKey?: string } = {},
) {
  return app.http.inject({
    method: 'POST',
    url: `/api/admin/orders/${orderId}/refunds`,
    headers: idempotencyKey ? { ...user.headers, 'idempotency-key': idempotencyKey } : user.headers,
    payload: body,
  });
}

/** GET /api/orders/:id/payments as `user`; its refunds also as `[amountMinor, status]` pairs. */
export async function orderPayments(app: TestApp, user: TestUser, orderId: string) {
  const response = await app.http.inject({ url: `/api/orders/${orderId}/payments`, headers: user.headers });
  const body = response.json() as Static<typeof OrderPayments>;
  return { ...body, refundStates: body.refunds.map((refund) => [refund.amountMinor, refund.status]) };
}
