import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { holdStock, inventoryModule, releaseExpiredHolds, type StockLine } from './index.ts';
import {
  expectBalanced,
  holdsOf,
  inventoryTestApp,
  inventoryTestModules,
  levelOf,
  movementsOf,
  newOrderId,
  stockedVariants,
} from './inventory.test-support.ts';

const MINUTE = 60_000;

describe('hold expiry', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    // Jobs stay off: the test runs the sweep itself at the fake time it chose.
    ({ app, seller } = await inventoryTestApp({ clock }));
  });
  afterAll(() => app?.close());

  const hold = (orderId: string, lines: StockLine[], ttlMs: number) =>
    app.platform.db.transaction((tx) =>
      holdStock(tx, { orderId, lines, expiresAt: new Date(clock.now().getTime() + ttlMs), actorId: null }),
    );

  it('returns expired holds to available once; holds not yet expired stay', async () => {
    const [a, b] = await stockedVariants(app, seller, [5, 5]);
    if (!a || !b) throw new Error('no variants');
    const expiring = newOrderId();
    const lasting = newOrderId();
    await hold(
      expiring,
      [
        { variantId: a, quantity: 2 },
        { variantId: b, quantity: 1 },
      ],
      15 * MINUTE,
    );
    await hold(lasting, [{ variantId: a, quantity: 1 }], 60 * MINUTE);
    expect(await levelOf(app, a)).toMatchObject({ available: 2, held: 3 });

    // Before the deadline nothing is due.
    clock.advance(14 * MINUTE);
    expect(await releaseExpiredHolds({ db: app.platform.db, clock })).toEqual({
      holds: 0,
      units: 0,
      orders: 0,
    });

    clock.advance(6 * MINUTE);
    expect(await releaseExpiredHolds({ db: app.platform.db, clock })).toEqual({
      holds: 2,
      units: 3,
      orders: 1,
    });
    expect(await expectBalanced(app, a)).toMatchObject({ available: 4, held: 1 });
    expect(await expectBalanced(app, b)).toMatchObject({ available: 5, held: 0 });
    expect((await holdsOf(app, expiring)).map((h) => h.status)).toEqual(['released', 'released']);
    expect(await holdsOf(app, lasting)).toMatchObject([{ status: 'active', quantity: 1 }]);
    const release = (await movementsOf(app, a)).filter((m) => m.reason === 'release');
    expect(release).toMatchObject([
      {
        quantity: 2,
        availableBefore: 2,
        availableAfter: 4,
        heldAfter: 1,
        note: 'expired',
        orderId: expiring,
        actorId: null,
        createdAt: clock.now(),
      },
    ]);

    // A second run finds nothing to do.
    expect(await releaseExpiredHolds({ db: app.platform.db, clock })).toEqual({
      holds: 0,
      units: 0,
      orders: 0,
    });
    expect(await levelOf(app, a)).toMatchObject({ available: 4, held: 1 });
  });

  it('works through a backlog in batches', async () => {
    const [a] = await stockedVariants(app, seller, [10]);
    if (!a) throw new Error('no variant');
    const orders = Array.from({ length: 5 }, () => newOrderId());
    for (const orderId of orders) await hold(orderId, [{ variantId: a, quantity: 1 }], MINUTE);
    clock.advance(2 * MINUTE);
    expect(await releaseExpiredHolds({ db: app.platform.db, clock, batchSize: 2 })).toEqual({
      holds: 5,
      units: 5,
      orders: 5,
    });
    expect(await expectBalanced(app, a)).toMatchObject({ available: 10, held: 0 });
  });
});

describe('hold expiry schedule', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ modules: inventoryTestModules });
  });
  afterAll(() => app?.close());

  it('runs inventory.expire-holds every minute', async () => {
    expect(inventoryModule.crons?.map((cron) => [cron.key, cron.cron, cron.job.name])).toEqual([
      ['inventory.expire-holds', '* * * * *', 'inventory.expire-holds'],
    ]);
    const schedules = await waitFor(async () => {
      const all = await app.platform.jobs.boss.getSchedules();
      return all.some((schedule) => schedule.name === 'inventory.expire-holds') && all;
    });
    expect(schedules.find((schedule) => schedule.name === 'inventory.expire-holds')).toMatchObject({
      key: 'inventory.expire-holds',
      cron: '* * * * *',
    });
  });
});
