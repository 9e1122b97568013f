import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { type AppError, isAppError } from '../../platform/errors/index.ts';
import { holdStock, releaseHolds, returnStock, type StockLine, sellHeldStock } from './index.ts';
import {
  expectBalanced,
  holdsOf,
  inventoryTestApp,
  levelOf,
  movementsOf,
  newOrderId,
  stockedVariants,
} from './inventory.test-support.ts';

const WEEK_MS = 7 * 24 * 3600_000;

describe('stock holds', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await inventoryTestApp({ clock }));
  });
  afterAll(() => app?.close());

  /** One checkout step: its own transaction, as checkout will run it. */
  const hold = (orderId: string, lines: StockLine[], expiresAt = new Date(clock.now().getTime() + WEEK_MS)) =>
    app.platform.db.transaction((tx) => holdStock(tx, { orderId, lines, expiresAt, actorId: null }));

  it('200 concurrent buyers for 10 units: exactly 10 holds, 190 out_of_stock, never negative', async () => {
    const [variantId] = await stockedVariants(app, seller, [10]);
    if (!variantId) throw new Error('no variant');
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => hold(newOrderId(), [{ variantId, quantity: 1 }])),
    );
    const held = results.filter((result) => result.status === 'fulfilled');
    const refused = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    expect(held).toHaveLength(10);
    expect(refused).toHaveLength(190);
    for (const error of refused) {
      expect(isAppError(error) && error.code).toBe('out_of_stock');
      expect((error as AppError).details).toEqual({ variants: [{ variantId, requested: 1, available: 0 }] });
    }
    const row = await expectBalanced(app, variantId);
    expect(row).toMatchObject({ available: 0, held: 10, sold: 0, received: 10 });
    const holds = (await movementsOf(app, variantId)).filter((movement) => movement.reason === 'hold');
    expect(holds).toHaveLength(10);
    // Each hold saw the one before it: the counts step 9, 8, … 0 with no gap or repeat.
    expect(holds.map((movement) => movement.availableAfter).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    for (const movement of holds) {
      expect(movement.quantity).toBe(-1);
      expect(movement.availableBefore).toBe(movement.availableAfter + 1);
      expect(movement.holdId).not.toBeNull();
      expect(movement.orderId).not.toBeNull();
    }
  });

  it('holds over two variants taken in opposite line orders never deadlock, all or nothing', async () => {
    const [a, b] = await stockedVariants(app, seller, [30, 30]);
    if (!a || !b) throw new Error('no variants');
    const pairs = 25;
    const results = await Promise.allSettled(
      Array.from({ length: pairs * 2 }, (_, index) =>
        hold(
          newOrderId(),
          index % 2 === 0
            ? [
                { variantId: a, quantity: 1 },
                { variantId: b, quantity: 1 },
              ]
            : [
                { variantId: b, quantity: 1 },
                { variantId: a, quantity: 1 },
              ],
        ),
      ),
    );
    const errors = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    // A deadlock would surface as a driver error (40P01), not as out_of_stock.
    expect(errors.map((error) => (isAppError(error) ? error.code : String(error)))).toEqual(
      Array(20).fill('out_of_stock'),
    );
    const rowA = await expectBalanced(app, a);
    const rowB = await expectBalanced(app, b);
    // 30 orders got both units; the 20 refused ones rolled back whatever they took first.
    expect(rowA).toMatchObject({ available: 0, held: 30 });
    expect(rowB).toMatchObject({ available: 0, held: 30 });
    expect((await movementsOf(app, a)).filter((m) => m.reason === 'hold')).toHaveLength(30);
    expect((await movementsOf(app, b)).filter((m) => m.reason === 'hold')).toHaveLength(30);
  });

  it('sums lines per variant, is a no-op when retried, takes released holds again', async () => {
    const [a, b] = await stockedVariants(app, seller, [10, 10]);
    if (!a || !b) throw new Error('no variants');
    const orderId = newOrderId();
    await hold(orderId, [
      { variantId: a, quantity: 1 },
      { variantId: b, quantity: 1 },
      { variantId: a, quantity: 2 },
    ]);
    expect((await holdsOf(app, orderId)).map((h) => [h.variantId, h.quantity, h.status])).toEqual(
      [
        [a, 3, 'active'],
        [b, 1, 'active'],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    // A retried checkout step changes nothing, even with other quantities.
    await hold(orderId, [{ variantId: a, quantity: 5 }]);
    expect(await levelOf(app, a)).toMatchObject({ available: 7, held: 3 });
    expect((await movementsOf(app, a)).filter((m) => m.reason === 'hold')).toHaveLength(1);

    const released = await app.platform.db.transaction((tx) =>
      releaseHolds(tx, { orderId, reason: 'cancelled', actorId: null }),
    );
    expect(released).toBe(4);
    expect(await levelOf(app, a)).toMatchObject({ available: 10, held: 0 });
    const releases = (await movementsOf(app, a)).filter((m) => m.reason === 'release');
    expect(releases).toMatchObject([
      { quantity: 3, note: 'cancelled', orderId, availableAfter: 10, heldAfter: 0 },
    ]);
    expect(
      await app.platform.db.transaction((tx) =>
        releaseHolds(tx, { orderId, reason: 'cancelled', actorId: null }),
      ),
    ).toBe(0);

    // The same order checks out again: the released hold row becomes active with the new quantity.
    await hold(orderId, [{ variantId: a, quantity: 2 }]);
    expect((await holdsOf(app, orderId)).find((h) => h.variantId === a)).toMatchObject({
      quantity: 2,
      status: 'active',
    });
    await expectBalanced(app, a);
    await expectBalanced(app, b);
  });

  it('refuses a short multi-line hold whole, listing every short line, and changes nothing', async () => {
    const [a, b] = await stockedVariants(app, seller, [5, 1]);
    if (!a || !b) throw new Error('no variants');
    const orderId = newOrderId();
    const error = await hold(orderId, [
      { variantId: a, quantity: 2 },
      { variantId: b, quantity: 3 },
    ]).catch((caught: unknown) => caught);
    expect(isAppError(error) && error.code).toBe('out_of_stock');
    expect((error as AppError).details).toEqual({ variants: [{ variantId: b, requested: 3, available: 1 }] });
    expect(await levelOf(app, a)).toMatchObject({ available: 5, held: 0 });
    expect(await holdsOf(app, orderId)).toEqual([]);
  });

  it('payment turns holds into sales, once; a late payment takes from available; short → nothing', async () => {
    const [a, c] = await stockedVariants(app, seller, [10, 1]);
    if (!a || !c) throw new Error('no variants');
    const sell = (orderId: string, lines: StockLine[]) =>
      app.platform.db.transaction((tx) => sellHeldStock(tx, { orderId, lines, actorId: null }));

    // Paid in time: held → sold, available unchanged.
    const paid = newOrderId();
    await hold(paid, [{ variantId: a, quantity: 2 }]);
    expect(await sell(paid, [{ variantId: a, quantity: 2 }])).toEqual({ ok: true });
    expect(await expectBalanced(app, a)).toMatchObject({ available: 8, held: 0, sold: 2 });
    const sale = (await movementsOf(app, a)).filter((m) => m.reason === 'sell');
    expect(sale).toMatchObject([
      { quantity: 0, availableBefore: 8, availableAfter: 8, soldAfter: 2, orderId: paid },
    ]);
    expect(await holdsOf(app, paid)).toMatchObject([{ status: 'sold', quantity: 2 }]);
    // The same payment event again: nothing moves.
    const before = (await movementsOf(app, a)).length;
    expect(await sell(paid, [{ variantId: a, quantity: 2 }])).toEqual({ ok: true });
    expect((await movementsOf(app, a)).length).toBe(before);
    // A retried checkout step after payment does not hold again.
    await hold(paid, [{ variantId: a, quantity: 2 }]);
    expect(await levelOf(app, a)).toMatchObject({ available: 8, held: 0, sold: 2 });

    // The hold was released (payment failed) before the payment finally arrived.
    const late = newOrderId();
    await hold(late, [{ variantId: a, quantity: 1 }]);
    await app.platform.db.transaction((tx) =>
      releaseHolds(tx, { orderId: late, reason: 'payment_failed', actorId: null }),
    );
    expect(await levelOf(app, a)).toMatchObject({ available: 8, held: 0 });
    expect(await sell(late, [{ variantId: a, quantity: 1 }])).toEqual({ ok: true });
    expect(await expectBalanced(app, a)).toMatchObject({ available: 7, held: 0, sold: 3 });
    expect((await movementsOf(app, a)).at(-1)).toMatchObject({
      reason: 'sell',
      quantity: -1,
      availableBefore: 8,
      availableAfter: 7,
      orderId: late,
    });
    expect(await sell(late, [{ variantId: a, quantity: 1 }])).toEqual({ ok: true });
    expect(await levelOf(app, a)).toMatchObject({ available: 7, sold: 3 });

    // Not enough for one line: no line changes, the short variant is named.
    const short = newOrderId();
    const movementsBefore = [(await movementsOf(app, a)).length, (await movementsOf(app, c)).length];
    expect(
      await sell(short, [
        { variantId: a, quantity: 1 },
        { variantId: c, quantity: 2 },
      ]),
    ).toEqual({ ok: false, shortVariants: [c] });
    expect(await levelOf(app, a)).toMatchObject({ available: 7, sold: 3 });
    expect(await levelOf(app, c)).toMatchObject({ available: 1, sold: 0 });
    expect([(await movementsOf(app, a)).length, (await movementsOf(app, c)).length]).toEqual(movementsBefore);
    expect(await holdsOf(app, short)).toEqual([]);
  });

  it('returns sold units to available, never more than were sold', async () => {
    const [a] = await stockedVariants(app, seller, [4]);
    if (!a) throw new Error('no variant');
    const orderId = newOrderId();
    await hold(orderId, [{ variantId: a, quantity: 3 }]);
    await app.platform.db.transaction((tx) =>
      sellHeldStock(tx, { orderId, lines: [{ variantId: a, quantity: 3 }], actorId: null }),
    );
    await app.platform.db.transaction((tx) =>
      returnStock(tx, { variantId: a, quantity: 2, orderId, actorId: null, note: 'refund 1' }),
    );
    expect(await expectBalanced(app, a)).toMatchObject({ available: 3, sold: 1 });
    expect((await movementsOf(app, a)).at(-1)).toMatchObject({
      reason: 'return',
      quantity: 2,
      availableBefore: 1,
      availableAfter: 3,
      soldAfter: 1,
      note: 'refund 1',
    });
    const error = await app.platform.db
      .transaction((tx) => returnStock(tx, { variantId: a, quantity: 2, orderId, actorId: null, note: null }))
      .catch((caught: unknown) => caught);
    expect(isAppError(error) && error.code).toBe('stock_return_invalid');
    expect(await levelOf(app, a)).toMatchObject({ available: 3, sold: 1 });
  });
});
