import type { Clock } from '../../platform/clock/clock.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { minorToDecimalString } from '../../platform/money/money.ts';
import type { Notifier } from '../../platform/notify/notify.service.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { findBuyer, type OrderBuyer, type OrderRow } from './orders.repo.ts';

/** What the order functions need from the platform; callers pass `ordersDeps(services)`. */
export interface OrdersDeps {
  readonly clock: Clock;
  readonly notifier: Notifier;
}

export function ordersDeps(services: Pick<PlatformServices, 'clock' | 'notifier'>): OrdersDeps {
  return { clock: services.clock, notifier: services.notifier };
}

/** 4999 USD → "49.99 USD"; 50000 KRW → "50000 KRW". */
export function formatMoney(amountMinor: number, currency: string): string {
  return `${minorToDecimalString(amountMinor, currency)} ${currency}`;
}

/** "2026-01-04 09:30" (UTC), for email text. */
export function formatUtc(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * Enqueues an email (and in-app notice) to the order's buyer in the caller's transaction: it goes
 * out only if that transaction commits. `event` names the business event; with the order id it is
 * the dedupe key, so the same event notified twice sends one message. `buyer` (name and language)
 * is read from the order's buyer unless the caller passes it.
 */
export async function notifyBuyer(
  tx: DbOrTx,
  deps: OrdersDeps,
  input: {
    order: OrderRow;
    buyer?: Pick<OrderBuyer, 'displayName' | 'locale'>;
    template: string;
    event: string;
    data?: Record<string, unknown>;
  },
): Promise<void> {
  const { order } = input;
  const buyer = input.buyer ?? (await findBuyer(tx, order.buyerId));
  await deps.notifier.notify(tx, {
    template: input.template,
    locale: buyer?.locale ?? 'en',
    data: {
      name: buyer?.displayName ?? order.email,
      number: order.number,
      total: formatMoney(order.totalMinor, order.currency),
      ...input.data,
    },
    to: { email: order.email, userId: order.buyerId },
    dedupeKey: `order-${input.event}:${order.id}`,
  });
}
