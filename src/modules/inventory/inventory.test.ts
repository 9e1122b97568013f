import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import type { TestApp } from '../../../test/harness/build-test-app.ts';
import { holdStock } from './index.ts';
import type { MovementPageView, StockChangeView, StockLevelsView } from './inventory.schemas.ts';
import { expectBalanced, inventoryTestApp, newOrderId, stockedVariants } from './inventory.test-support.ts';

const UNKNOWN = '0b7f7c1e-1111-4222-8333-944445555666';

describe('inventory routes', () => {
  let app: TestApp;
  let seller: TestUser;
  let staff: TestUser;
  let buyer: TestUser;

  beforeAll(async () => {
    ({ app, seller } = await inventoryTestApp());
    [staff, buyer] = await Promise.all([createUser(app, { roles: ['staff'] }), createUser(app)]);
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  it('staff receive and adjust stock; each change is an audit row with before, after and actor', async () => {
    const [variantId] = await stockedVariants(app, seller, [0]);
    const base = `/api/admin/inventory/${variantId}`;
    const fresh = await send('GET', base, staff);
    expect(fresh.statusCode).toBe(200);
    expect(fresh.json()).toEqual({
      variantId,
      received: 0,
      adjusted: 0,
      available: 0,
      held: 0,
      sold: 0,
      activeHolds: 0,
      updatedAt: null,
    });

    const received = await send('POST', `${base}/receive`, staff, { quantity: 20, note: 'Pallet 7' });
    expect(received.statusCode).toBe(200);
    expect(received.json()).toMatchObject({
      levels: { received: 20, available: 20, held: 0, sold: 0, adjusted: 0 },
      movement: {
        reason: 'receive',
        quantity: 20,
        availableBefore: 0,
        availableAfter: 20,
        actorId: staff.user.id,
        note: 'Pallet 7',
      },
    } satisfies { levels: Partial<StockLevelsView>; movement: Partial<StockChangeView['movement']> });

    const adjusted = await send('POST', `${base}/adjust`, staff, { delta: -3, note: 'Damaged' });
    expect(adjusted.statusCode).toBe(200);
    expect(adjusted.json()).toMatchObject({
      levels: { received: 20, adjusted: 3, available: 17 },
      movement: {
        reason: 'adjust',
        quantity: -3,
        availableBefore: 20,
        availableAfter: 17,
        actorId: staff.user.id,
      },
    });
    const found = await send('POST', `${base}/adjust`, staff, { delta: 1 });
    expect(found.json()).toMatchObject({ levels: { adjusted: 2, available: 18 }, movement: { note: null } });

    const tooMuch = await send('POST', `${base}/adjust`, staff, { delta: -19 });
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json().error).toMatchObject({
      code: 'stock_adjustment_invalid',
      details: { variantId, delta: -19, available: 18 },
    });

    if (!variantId) throw new Error('no variant');
    await app.platform.db.transaction((tx) =>
      holdStock(tx, {
        orderId: newOrderId(),
        lines: [{ variantId, quantity: 2 }],
        expiresAt: new Date(Date.now() + 3600_000),
        actorId: buyer.user.id,
      }),
    );
    const levels = (await send('GET', base, staff)).json() as StockLevelsView;
    expect(levels).toMatchObject({ available: 16, held: 2, activeHolds: 1 });
    expect(levels.updatedAt).not.toBeNull();
    await expectBalanced(app, variantId);

    // The audit log, newest first, a page at a time.
    const first = (await send('GET', `${base}/movements?limit=2`, staff)).json() as MovementPageView;
    expect(first.items.map((m) => [m.reason, m.quantity, m.availableBefore, m.availableAfter])).toEqual([
      ['hold', -2, 18, 16],
      ['adjust', 1, 17, 18],
    ]);
    expect(first.items[0]).toMatchObject({ actorId: buyer.user.id, heldAfter: 2 });
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await send('GET', `${base}/movements?limit=2&cursor=${first.nextCursor}`, staff)
    ).json() as MovementPageView;
    expect(second.items.map((m) => m.reason)).toEqual(['adjust', 'receive']);
    expect(second.nextCursor).toBeNull();
    const badCursor = await send('GET', `${base}/movements?cursor=nope`, staff);
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.code).toBe('invalid_cursor');
  });

  it('only staff reach the stock tools; bad quantities are 400 and unknown variants 404', async () => {
    const [variantId] = await stockedVariants(app, seller, [5]);
    const base = `/api/admin/inventory/${variantId}`;
    expect((await send('GET', base, buyer)).statusCode).toBe(403);
    expect((await send('POST', `${base}/receive`, seller, { quantity: 1 })).statusCode).toBe(403);
    expect((await send('POST', `${base}/adjust`, buyer, { delta: 1 })).statusCode).toBe(403);
    expect((await send('GET', `${base}/movements`, buyer)).statusCode).toBe(403);
    expect((await send('GET', base)).statusCode).toBe(401);

    for (const body of [{ quantity: 0 }, { quantity: -1 }, { quantity: 1.5 }, { quantity: 2_000_000 }, {}]) {
      const response = await send('POST', `${base}/receive`, staff, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    const zero = await send('POST', `${base}/adjust`, staff, { delta: 0 });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().error).toMatchObject({ code: 'validation_failed', fields: [{ field: 'body.delta' }] });
    expect((await send('GET', base, staff)).json()).toMatchObject({ received: 5, available: 5, adjusted: 0 });

    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['GET', '/movements', undefined],
      ['POST', '/receive', { quantity: 1 }],
      ['POST', '/adjust', { delta: 1 }],
    ] as const) {
      const response = await send(method, `/api/admin/inventory/${UNKNOWN}${path}`, staff, body);
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }
    expect((await send('GET', '/api/admin/inventory/not-a-uuid', staff)).statusCode).toBe(400);
  });

  it('tells anyone how many units of a variant are on sale', async () => {
    const [stocked, unstocked] = await stockedVariants(app, seller, [7, 0]);
    expect((await send('GET', `/api/variants/${stocked}/availability`)).json()).toEqual({
      variantId: stocked,
      available: 7,
    });
    expect((await send('GET', `/api/variants/${unstocked}/availability`)).json()).toEqual({
      variantId: unstocked,
      available: 0,
    });
    const missing = await send('GET', `/api/variants/${UNKNOWN}/availability`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    // A draft's variant is as unknown as a missing one (ids never reveal drafts).
    const draft = await createProduct(app, seller);
    expect((await send('GET', `/api/variants/${draft.variants[0]?.id}/availability`)).statusCode).toBe(404);
  });
});
