import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { listAudit } from '../../platform/audit/audit.ts';
import type { ProductView } from './products.schemas.ts';
import { setReviewEligibility } from './review-eligibility.ts';
import type { ReviewPageView, ReviewView } from './reviews.schemas.ts';

describe('reviews', () => {
  let app: TestApp;
  let seller: TestUser;
  let otherSeller: TestUser;
  let staff: TestUser;
  let buyer: TestUser;
  let product: ProductView;
  /** Stands in for the orders module: `${userId}:${productId}` had a delivered order line. */
  const delivered = new Set<string>();
  const deliver = (user: TestUser, productId: string) => delivered.add(`${user.user.id}:${productId}`);

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
    setReviewEligibility(app.platform, {
      hasDeliveredOrderLine: async (_tx, { userId, productId }) => delivered.has(`${userId}:${productId}`),
    });
    [seller, otherSeller, staff, buyer] = await Promise.all([
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['staff'] }),
      createUser(app),
    ]);
    product = await createProduct(app, seller, { status: 'active' });
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  const rating = async (productId: string) =>
    ((await send('GET', `/api/products/${productId}`)).json() as ProductView).rating;

  it('only a buyer with a delivered order reviews, once; the seller never', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const body = { rating: 4, title: 'Nice', body: 'Works well.' };
    const notEligible = await send('POST', `/api/products/${target.id}/reviews`, buyer, body);
    expect(notEligible.statusCode).toBe(403);
    expect(notEligible.json().error.code).toBe('review_not_eligible');

    deliver(seller, target.id);
    const own = await send('POST', `/api/products/${target.id}/reviews`, seller, body);
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('review_not_eligible');

    deliver(buyer, target.id);
    const created = await send('POST', `/api/products/${target.id}/reviews`, buyer, body);
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      productId: target.id,
      author: { id: buyer.user.id },
      rating: 4,
      title: 'Nice',
      status: 'visible',
      sellerReply: null,
    });
    const twice = await send('POST', `/api/products/${target.id}/reviews`, buyer, { rating: 1 });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('review_exists');
    expect(await rating(target.id)).toEqual({ count: 1, average: 4 });

    expect((await send('POST', `/api/products/${target.id}/reviews`, undefined, body)).statusCode).toBe(401);
    const tooLong = await send('POST', `/api/products/${target.id}/reviews`, buyer, {
      rating: 6,
      title: 'x'.repeat(121),
    });
    expect(tooLong.statusCode).toBe(400);
    const draft = await createProduct(app, seller);
    deliver(buyer, draft.id);
    expect((await send('POST', `/api/products/${draft.id}/reviews`, buyer, body)).statusCode).toBe(404);
  });

  it('lists visible reviews newest first with a summary, a cursor page at a time', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const buyers = await Promise.all([1, 2, 3].map(() => createUser(app)));
    for (const [index, user] of buyers.entries()) {
      deliver(user, target.id);
      const response = await send('POST', `/api/products/${target.id}/reviews`, user, { rating: index + 3 });
      expect(response.statusCode).toBe(201);
    }
    const first = (await send('GET', `/api/products/${target.id}/reviews?limit=2`)).json() as ReviewPageView;
    expect(first.summary).toEqual({ count: 3, average: 4, histogram: { 1: 0, 2: 0, 3: 1, 4: 1, 5: 1 } });
    expect(first.items.map((review) => review.rating)).toEqual([5, 4]);
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await send('GET', `/api/products/${target.id}/reviews?limit=2&cursor=${first.nextCursor}`)
    ).json() as ReviewPageView;
    expect(second.items.map((review) => review.rating)).toEqual([3]);
    expect(second.nextCursor).toBeNull();
    const draft = await createProduct(app, seller);
    expect((await send('GET', `/api/products/${draft.id}/reviews`)).statusCode).toBe(404);
  });

  it('editing the rating, hiding, unhiding and deleting keep the aggregate exact', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const [alice, bob] = await Promise.all([createUser(app), createUser(app)]);
    deliver(alice, target.id);
    deliver(bob, target.id);
    const review = (
      await send('POST', `/api/products/${target.id}/reviews`, alice, { rating: 5 })
    ).json() as ReviewView;
    const bobs = (
      await send('POST', `/api/products/${target.id}/reviews`, bob, { rating: 2 })
    ).json() as ReviewView;
    expect(await rating(target.id)).toEqual({ count: 2, average: 3.5 });

    expect((await send('PATCH', `/api/reviews/${review.id}`, bob, { rating: 1 })).statusCode).toBe(404);
    const edited = await send('PATCH', `/api/reviews/${review.id}`, alice, {
      rating: 3,
      body: 'Changed my mind',
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ rating: 3, body: 'Changed my mind' });
    expect(await rating(target.id)).toEqual({ count: 2, average: 2.5 });

    expect(
      (await send('POST', `/api/admin/reviews/${review.id}/hide`, seller, { reason: 'x' })).statusCode,
    ).toBe(403);
    const hidden = await send('POST', `/api/admin/reviews/${review.id}/hide`, staff, { reason: 'Off topic' });
    expect(hidden.statusCode).toBe(200);
    expect(hidden.json()).toMatchObject({ status: 'hidden', hiddenReason: 'Off topic' });
    expect(await rating(target.id)).toEqual({ count: 1, average: 2 });
    const page = (await send('GET', `/api/products/${target.id}/reviews`)).json() as ReviewPageView;
    expect(page.items.map((item) => item.id)).toEqual([bobs.id]);
    expect(page.summary.count).toBe(1);

    // Editing a hidden review does not count it.
    await send('PATCH', `/api/reviews/${review.id}`, alice, { rating: 5 });
    expect(await rating(target.id)).toEqual({ count: 1, average: 2 });
    // Hiding twice changes nothing.
    await send('POST', `/api/admin/reviews/${review.id}/hide`, staff, { reason: 'Off topic' });
    expect(await rating(target.id)).toEqual({ count: 1, average: 2 });

    const shown = await send('POST', `/api/admin/reviews/${review.id}/unhide`, staff);
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ status: 'visible', hiddenReason: null, rating: 5 });
    expect(await rating(target.id)).toEqual({ count: 2, average: 3.5 });

    const audit = await listAudit(app.platform.db, { targetType: 'review', targetId: review.id, limit: 10 });
    expect(audit.map((entry) => entry.action)).toEqual(['review.unhide', 'review.hide']);
    expect(audit[1]).toMatchObject({
      actorId: staff.user.id,
      after: { status: 'hidden', hiddenReason: 'Off topic' },
    });

    expect((await send('DELETE', `/api/reviews/${bobs.id}`, alice)).statusCode).toBe(404);
    expect((await send('DELETE', `/api/reviews/${bobs.id}`, bob)).statusCode).toBe(204);
    expect(await rating(target.id)).toEqual({ count: 1, average: 5 });
  });

  it("only the product's seller replies, once, and can edit the reply", async () => {
    deliver(buyer, product.id);
    const review = (
      await send('POST', `/api/products/${product.id}/reviews`, buyer, { rating: 3 })
    ).json() as ReviewView;
    const byOther = await send('POST', `/api/reviews/${review.id}/reply`, otherSeller, { body: 'Hi' });
    expect(byOther.statusCode).toBe(403);
    expect((await send('POST', `/api/reviews/${review.id}/reply`, buyer, { body: 'Hi' })).statusCode).toBe(
      403,
    );
    const replied = await send('POST', `/api/reviews/${review.id}/reply`, seller, { body: 'Thanks!' });
    expect(replied.statusCode).toBe(200);
    expect(replied.json().sellerReply).toMatchObject({ body: 'Thanks!' });
    const edited = await send('POST', `/api/reviews/${review.id}/reply`, seller, { body: 'Thanks, fixed.' });
    expect(edited.json().sellerReply).toMatchObject({ body: 'Thanks, fixed.' });
    const page = (await send('GET', `/api/products/${product.id}/reviews`)).json() as ReviewPageView;
    expect(page.items.find((item) => item.id === review.id)?.sellerReply?.body).toBe('Thanks, fixed.');
    expect((await send('POST', `/api/reviews/${review.id}/reply`, seller, { body: '' })).statusCode).toBe(
      400,
    );
  });

  it('20 concurrent reviews by 20 buyers: count 20 and the exact sum', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const buyers = await Promise.all(Array.from({ length: 20 }, () => createUser(app)));
    for (const user of buyers) deliver(user, target.id);
    const responses = await Promise.all(
      buyers.map((user, index) =>
        send('POST', `/api/products/${target.id}/reviews`, user, { rating: (index % 5) + 1 }),
      ),
    );
    expect(responses.map((response) => response.statusCode)).toEqual(buyers.map(() => 201));
    // Ratings 1..5 four times each: sum 60, average 3.
    expect(await rating(target.id)).toEqual({ count: 20, average: 3 });
    const page = (await send('GET', `/api/products/${target.id}/reviews?limit=1`)).json() as ReviewPageView;
    expect(page.summary).toEqual({ count: 20, average: 3, histogram: { 1: 4, 2: 4, 3: 4, 4: 4, 5: 4 } });
  });
});
