import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderRow, stockOf } from '../../../test/factories/commerce.ts';
import { waitForEmail } from '../../../test/factories/mailbox.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import type { ProductView } from '../catalog/products.schemas.ts';
import { cancelOverduePendingOrders, paymentTimeoutJob } from './index.ts';
import { lockOrder } from './orders.repo.ts';
import {
  activeHoldUnits,
  applyPayment,
  eventsOf,
  ordersTestApp,
  placeOrder,
  stockedProduct,
} from './orders.test-support.ts';

const HOUR_MS = 3600_000;

describe('payment timeout', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;
  let product: ProductView;

  beforeAll(async () => {
    ({ app, seller } = await ordersTestApp({ clock }));
    product = await stockedProduct(app, seller, { units: 100, priceMinor: 1500 });
  });
  afterAll(() => app?.close());

  const statusOf = (id: string) => orderRow(app, id);
  const dueIn = (hours: number) => new Date(clock.now().getTime() + hours * HOUR_MS);
  // Holds outlive the due time here, so inventory's own expiry sweep (a cron on the same fake
  // clock) cannot be what releases them.
  const longHold = { holdExpiresAt: new Date(Date.now() + 1000 * HOUR_MS) };

  it('cancels unpaid orders once their due time passes: holds released, timeline, email; others untouched', async () => {
    const buyer = await createUser(app);
    const variantId = product.variants[0]!.id;
    const before = (await stockOf(app, variantId))!.available;
    const due = await placeOrder(app, buyer, [product], {
      ...longHold,
      quantity: 2,
      paymentDueAt: dueIn(72),
    });
    const later = await placeOrder(app, buyer, [product], {
      ...longHold,
      quantity: 1,
      paymentDueAt: dueIn(120),
    });
    const paid = await placeOrder(app, buyer, [product], {
      ...longHold,
      quantity: 1,
      paymentDueAt: dueIn(72),
    });
    await applyPayment(app, paid, { status: 'captured', capturedMinor: paid.totalMinor });

    // Not yet due: nothing happens.
    clock.advance(71 * HOUR_MS);
    expect((await cancelOverduePendingOrders(app.platform)).cancelled).toBe(0);
    expect((await statusOf(due.id)).status).toBe('pending_payment');

    clock.advance(2 * HOUR_MS);
    expect(await cancelOverduePendingOrders(app.platform)).toEqual({ cancelled: 1, skipped: 0, failed: 0 });
    expect(await statusOf(due.id)).toMatchObject({
      status: 'cancelled',
      cancelReason: 'payment_timeout',
      cancelledAt: clock.now(),
    });
    expect(await activeHoldUnits(app, due.id)).toBe(0);
    expect((await statusOf(later.id)).status).toBe('pending_payment');
    expect(await activeHoldUnits(app, later.id)).toBe(1);
    expect((await statusOf(paid.id)).status).toBe('paid');
    // The two released units are on sale again; the later order's unit is still held, the paid one sold.
    expect((await stockOf(app, variantId))!.available).toBe(before - 2);
    const events = await eventsOf(app, due.id);
    expect(events.at(-1)).toMatchObject({
      type: 'cancelled',
      fromStatus: 'pending_payment',
      toStatus: 'cancelled',
      actorKind: 'system',
      actorId: null,
      note: 'payment_timeout',
    });
    const email = await waitForEmail(app, buyer.user.email, 'orders.payment-expired');
    expect(email.subject).toBe(`Order #${due.number} cancelled: payment not received`);

    // A second run finds nothing left to do.
    expect((await cancelOverduePendingOrders(app.platform)).cancelled).toBe(0);
    expect((await eventsOf(app, due.id)).filter((event) => event.type === 'cancelled')).toHaveLength(1);
  });

  it('walks a backlog in batches through the scheduled job', async () => {
    const buyer = await createUser(app);
    const backlog = [];
    for (let index = 0; index < 5; index++) {
      backlog.push(await placeOrder(app, buyer, [product], { hold: false, paymentDueAt: dueIn(1) }));
    }
    clock.advance(2 * HOUR_MS);
    expect(await cancelOverduePendingOrders(app.platform, { batchSize: 2 })).toEqual({
      cancelled: 5,
      skipped: 0,
      failed: 0,
    });

    // The hourly cron enqueues this job; here it is enqueued directly and run by the worker.
    const viaJob = await placeOrder(app, buyer, [product], { ...longHold, paymentDueAt: dueIn(1) });
    clock.advance(2 * HOUR_MS);
    await app.platform.jobs.enqueue(app.platform.db, paymentTimeoutJob, {});
    await waitFor(async () => (await statusOf(viaJob.id)).status === 'cancelled', {
      what: 'the job to cancel',
    });
    expect(await activeHoldUnits(app, viaJob.id)).toBe(0);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'skips an order another transaction holds (a payment being applied), and leaves it to that transaction',
    async () => {
      const buyer = await createUser(app);
      const order = await placeOrder(app, buyer, [product], { ...longHold, paymentDueAt: dueIn(1) });
      clock.advance(2 * HOUR_MS);
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: () => void = () => {};
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      // On PostgreSQL a second connection holds the row; PGlite has one connection, hence the skip.
      const holder = app.platform.db.transaction(async (tx) => {
        await lockOrder(tx, order.id);
        locked();
        await held;
      });
      await isLocked;
      expect(await cancelOverduePendingOrders(app.platform)).toEqual({ cancelled: 0, skipped: 1, failed: 0 });
      release();
      await holder;
      expect(await cancelOverduePendingOrders(app.platform)).toEqual({ cancelled: 1, skipped: 0, failed: 0 });
    },
  );
});
