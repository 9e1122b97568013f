import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { purgeAbandonedCarts, purgeAbandonedCartsJob } from './cart.jobs.ts';
import { type CartStatus, cartLines, carts } from './cart.tables.ts';
import { addLine, cartTestApp, stockedProduct } from './cart.test-support.ts';
import { hashCartToken } from './cart-token.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('cart.purge-abandoned', () => {
  let app: TestApp;
  let seller: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await cartTestApp({ startJobs: true }));
  });
  afterAll(() => app?.close());

  /** A cart row last updated `days` ago: a guest's unless `user` is given. */
  async function cartAged(days: number, status: CartStatus, user?: TestUser): Promise<string> {
    const updatedAt = new Date(Date.now() - days * DAY_MS);
    const [row] = await app.platform.db
      .insert(carts)
      .values({
        userId: user?.user.id ?? null,
        guestTokenHash: user ? null : hashCartToken(randomUUID()),
        status,
        createdAt: updatedAt,
        updatedAt,
      })
      .returning({ id: carts.id });
    return row!.id;
  }

  const remaining = async (ids: string[]) =>
    (await app.platform.db.select({ id: carts.id }).from(carts).where(inArray(carts.id, ids))).map(
      (row) => row.id,
    );

  it('the job deletes guest carts idle 30 days and merged or checked-out carts after 90, lines with them', async () => {
    const product = await stockedProduct(app, seller);
    const withLine = await addLine(app, {}, product.variants[0]!.id, 2);
    await app.platform.db
      .update(carts)
      .set({ updatedAt: new Date(Date.now() - 31 * DAY_MS) })
      .where(eq(carts.id, withLine.id!));
    const [userOld, userCheckedOut, userRecent] = await Promise.all([
      createUser(app),
      createUser(app),
      createUser(app),
    ]);
    const stale = [
      withLine.id!,
      await cartAged(31, 'open'),
      await cartAged(91, 'merged'),
      await cartAged(91, 'checked_out', userCheckedOut),
    ];
    const kept = [
      await cartAged(29, 'open'),
      await cartAged(89, 'merged'),
      await cartAged(60, 'checked_out', userRecent),
      // A user's open cart is never abandoned: it waits for them.
      await cartAged(400, 'open', userOld),
    ];

    await app.platform.jobs.enqueue(app.platform.db, purgeAbandonedCartsJob, {});
    await waitFor(async () => (await remaining(stale)).length === 0, { what: 'stale carts to be purged' });
    expect((await remaining(kept)).sort()).toEqual([...kept].sort());
    const lines = await app.platform.db.select().from(cartLines).where(eq(cartLines.cartId, withLine.id!));
    expect(lines).toEqual([]);
  });

  it('works through more stale carts than one batch', async () => {
    const stale = [];
    for (let index = 0; index < 5; index++) stale.push(await cartAged(45, 'open'));
    const fresh = await cartAged(1, 'open');
    const deleted = await purgeAbandonedCarts(app.platform.db, new Date(), 2);
    expect(deleted).toBeGreaterThanOrEqual(5);
    expect(await remaining(stale)).toEqual([]);
    expect(await remaining([fresh])).toEqual([fresh]);
  });

  it('is scheduled daily', () => {
    const cron = app.modules.find((module) => module.name === 'cart')?.crons?.[0];
    expect(cron).toMatchObject({ key: 'cart.purge-abandoned', job: { name: 'cart.purge-abandoned' } });
    expect(cron!.cron.split(' ').slice(2)).toEqual(['*', '*', '*']);
  });
});
