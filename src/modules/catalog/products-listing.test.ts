import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { adjustStock, receiveStock } from '../inventory/index.ts';
import { products } from './catalog.tables.ts';
import type { ProductView } from './products.schemas.ts';

interface Page {
  items: ProductView[];
  nextCursor: string | null;
}

describe('GET /api/products', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
  });
  afterAll(() => app?.close());

  const list = async (query: string): Promise<Page> => {
    const response = await app.http.inject({ url: `/api/products?${query}` });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Page;
  };

  /** Every page of a listing, following nextCursor. */
  const listAll = async (query: string, limit: number): Promise<ProductView[]> => {
    const items: ProductView[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  };

  const newSeller = () => createUser(app, { roles: ['seller'] });

  it('lists active products only, each with its price, variants, category and rating', async () => {
    const seller = await newSeller();
    const category = await createCategory(app, { name: 'Listing Shape' });
    const active = await createProduct(app, seller, {
      status: 'active',
      categoryId: category.id,
      currency: 'KRW',
      variants: [
        { sku: `SHAPE-A-${seller.user.id}`, priceMinor: 2000, options: { color: 'red' } },
        { sku: `SHAPE-B-${seller.user.id}`, priceMinor: 1500 },
      ],
    });
    await createProduct(app, seller, { status: 'draft' });
    await createProduct(app, seller, { status: 'archived' });
    const page = await list(`seller=${seller.user.id}`);
    expect(page.items.map((item) => item.id)).toEqual([active.id]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[0]).toMatchObject({
      priceMinor: 1500,
      currency: 'KRW',
      category: { id: category.id, name: 'Listing Shape', slugPath: 'listing-shape' },
      rating: { count: 0, average: null },
      status: 'active',
    });
    expect(page.items[0]?.variants).toHaveLength(2);
    expect(page.items[0]?.variants[0]).toMatchObject({
      priceMinor: 2000,
      currency: 'KRW',
      options: { color: 'red' },
    });
  });

  it('filters by category subtree (id or slug path), price range, seller and brand', async () => {
    const seller = await newSeller();
    const root = await createCategory(app, { name: 'Filter Root' });
    const child = await createCategory(app, { name: 'Child', parentId: root.id });
    const grandchild = await createCategory(app, { name: 'Grandchild', parentId: child.id });
    const elsewhere = await createCategory(app, { name: 'Filter Elsewhere' });
    const make = (categoryId: string, priceMinor: number, brand: string) =>
      createProduct(app, seller, { status: 'active', categoryId, priceMinor, brand });
    const inRoot = await make(root.id, 1000, 'Acme');
    const inChild = await make(child.id, 2000, 'acme');
    const inGrandchild = await make(grandchild.id, 3000, 'Other');
    const outside = await make(elsewhere.id, 4000, 'Acme');
    const ids = (page: Page) => page.items.map((item) => item.id).sort();
    const s = `seller=${seller.user.id}`;

    expect(ids(await list(`${s}&category=filter-root`))).toEqual(
      [inRoot.id, inChild.id, inGrandchild.id].sort(),
    );
    expect(ids(await list(`${s}&category=${child.id}`))).toEqual([inChild.id, inGrandchild.id].sort());
    expect(ids(await list(`${s}&category=filter-root/child/grandchild`))).toEqual([inGrandchild.id]);
    expect(ids(await list(`${s}&minPrice=2000&maxPrice=3000`))).toEqual([inChild.id, inGrandchild.id].sort());
    expect(ids(await list(`${s}&maxPrice=999`))).toEqual([]);
    expect(ids(await list(`${s}&brand=ACME`))).toEqual([inRoot.id, inChild.id, outside.id].sort());
    expect(ids(await list(`${s}&brand=acme&category=filter-root&minPrice=1500`))).toEqual([inChild.id]);
    const other = await newSeller();
    expect(ids(await list(`seller=${other.user.id}`))).toEqual([]);
    expect((await app.http.inject({ url: '/api/products?category=no-such-category' })).statusCode).toBe(404);
  });

  it('inStock=true keeps products with a variant available now', async () => {
    const seller = await newSeller();
    const stocked = await createProduct(app, seller, { status: 'active', variants: [{}, {}] });
    const soldOut = await createProduct(app, seller, { status: 'active' });
    await createProduct(app, seller, { status: 'active' });
    await app.platform.db.transaction(async (tx) => {
      await receiveStock(tx, { variantId: stocked.variants[1]!.id, quantity: 3, actorId: null, note: null });
      await receiveStock(tx, { variantId: soldOut.variants[0]!.id, quantity: 2, actorId: null, note: null });
      await adjustStock(tx, { variantId: soldOut.variants[0]!.id, delta: -2, actorId: null, note: 'count' });
    });
    const page = await list(`seller=${seller.user.id}&inStock=true`);
    expect(page.items.map((item) => item.id)).toEqual([stocked.id]);
    expect((await list(`seller=${seller.user.id}&inStock=false`)).items).toHaveLength(3);
  });

  it('sorts by newest, price and rating, ties broken by id, across pages', async () => {
    const seller = await newSeller();
    const prices = [500, 300, 300, 900, 100, 700];
    const made: ProductView[] = [];
    for (const priceMinor of prices)
      made.push(await createProduct(app, seller, { status: 'active', priceMinor }));
    // Reviews arrive with another issue; set the aggregate directly as the review service will.
    const ratings = [
      [3, 1],
      [10, 2],
      [0, 0],
      [9, 2],
      [5, 1],
      [4, 1],
    ] as const;
    for (const [index, [sum, count]] of ratings.entries()) {
      await app.platform.db
        .update(products)
        .set({ ratingSum: sum, ratingCount: count })
        .where(eq(products.id, made[index]!.id));
    }
    const s = `seller=${seller.user.id}`;
    const byId = (a: ProductView, b: ProductView) => (a.id < b.id ? -1 : 1);

    const asc = await listAll(`${s}&sort=price_asc`, 2);
    const expectedAsc = [...made].sort((a, b) => a.priceMinor! - b.priceMinor! || byId(a, b));
    expect(asc.map((item) => item.id)).toEqual(expectedAsc.map((item) => item.id));

    const desc = await listAll(`${s}&sort=price_desc`, 4);
    const expectedDesc = [...made].sort((a, b) => b.priceMinor! - a.priceMinor! || byId(b, a));
    expect(desc.map((item) => item.id)).toEqual(expectedDesc.map((item) => item.id));

    const rating = await listAll(`${s}&sort=rating`, 2);
    const average = (index: number) => (ratings[index]![1] ? ratings[index]![0] / ratings[index]![1] : -1);
    const expectedRating = made
      .map((product, index) => ({ product, average: average(index) }))
      .sort((a, b) => b.average - a.average || byId(b.product, a.product))
      .map(({ product }) => product.id);
    expect(rating.map((item) => item.id)).toEqual(expectedRating);
    expect(rating[0]?.rating.average).toBe(5);
    expect(rating.at(-1)?.rating).toEqual({ count: 0, average: null });

    const newest = await listAll(s, 4);
    const expectedNewest = [...made].sort(
      (a, b) => new Date(b.createdAt).getTime() - new Date(a.createdAt).getTime() || byId(b, a),
    );
    expect(newest.map((item) => item.id)).toEqual(expectedNewest.map((item) => item.id));
    expect((await list(`${s}&limit=1`)).items).toHaveLength(1);
  });

  it('pages a category subtree spread over several categories in every sort, with a price range', async () => {
    const seller = await newSeller();
    const root = await createCategory(app, { name: 'Subtree Paging' });
    const left = await createCategory(app, { name: 'Left', parentId: root.id });
    const right = await createCategory(app, { name: 'Right', parentId: root.id });
    const deep = await createCategory(app, { name: 'Deep', parentId: right.id });
    const placed = [
      root.id,
      left.id,
      right.id,
      deep.id,
      left.id,
      deep.id,
      right.id,
      left.id,
      deep.id,
      root.id,
    ];
    const prices = [400, 100, 900, 400, 250, 700, 100, 550, 300, 820];
    const made: ProductView[] = [];
    for (const [index, categoryId] of placed.entries())
      made.push(
        await createProduct(app, seller, { status: 'active', categoryId, priceMinor: prices[index]! }),
      );
    await createProduct(app, seller, { status: 'draft', categoryId: left.id, priceMinor: 300 });
    const inRange = made.filter((product) => product.priceMinor! >= 200 && product.priceMinor! <= 800);
    const byId = (a: ProductView, b: ProductView) => (a.id < b.id ? -1 : 1);
    const time = (product: ProductView) => new Date(product.createdAt).getTime();
    const expected = {
      newest: [...inRange].sort((a, b) => time(b) - time(a) || byId(b, a)),
      price_asc: [...inRange].sort((a, b) => a.priceMinor! - b.priceMinor! || byId(a, b)),
      price_desc: [...inRange].sort((a, b) => b.priceMinor! - a.priceMinor! || byId(b, a)),
    };
    for (const [sort, want] of Object.entries(expected)) {
      for (const limit of [1, 2, 3, 20]) {
        const got = await listAll(
          `seller=${seller.user.id}&category=subtree-paging&minPrice=200&maxPrice=800&sort=${sort}`,
          limit,
        );
        expect(
          got.map((item) => item.id),
          `${sort}, ${limit} a page`,
        ).toEqual(want.map((item) => item.id));
      }
    }
    const underRight = await listAll(`seller=${seller.user.id}&category=subtree-paging/right`, 2);
    expect(underRight.map((item) => item.id).sort()).toEqual(
      made
        .filter((_, index) => placed[index] === right.id || placed[index] === deep.id)
        .map((p) => p.id)
        .sort(),
    );
  });

  it('keeps cursors stable when products are inserted between page fetches', async () => {
    for (const sort of ['newest', 'price_asc'] as const) {
      const seller = await newSeller();
      const original: ProductView[] = [];
      for (let i = 0; i < 7; i++) {
        original.push(await createProduct(app, seller, { status: 'active', priceMinor: 1000 + i * 100 }));
      }
      const query = `seller=${seller.user.id}&sort=${sort}&limit=3`;
      const seen: string[] = [];
      let page = await list(query);
      seen.push(...page.items.map((item) => item.id));
      let round = 0;
      while (page.nextCursor) {
        // New products land before, inside and after the pages still to come.
        for (const priceMinor of [950, 1250 + round, 1650 + round]) {
          await createProduct(app, seller, { status: 'active', priceMinor });
        }
        round++;
        page = await list(`${query}&cursor=${page.nextCursor}`);
        seen.push(...page.items.map((item) => item.id));
      }
      expect(new Set(seen).size).toBe(seen.length);
      const originalIds = new Set(original.map((item) => item.id));
      expect(seen.filter((id) => originalIds.has(id)).sort()).toEqual([...originalIds].sort());
    }
  });

  it('refuses bad cursors, a cursor of another sort, filters not available yet and bad limits', async () => {
    const bad = await app.http.inject({ url: '/api/products?cursor=not-a-cursor' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_cursor');

    const seller = await newSeller();
    await createProduct(app, seller, { status: 'active' });
    await createProduct(app, seller, { status: 'active' });
    const first = await list(`seller=${seller.user.id}&limit=1`);
    expect(first.nextCursor).not.toBeNull();
    const otherSort = await app.http.inject({
      url: `/api/products?seller=${seller.user.id}&sort=price_asc&cursor=${first.nextCursor}`,
    });
    expect(otherSort.json().error.code).toBe('invalid_cursor');

    expect((await app.http.inject({ url: '/api/products?inStock=maybe' })).statusCode).toBe(400);
    expect((await app.http.inject({ url: '/api/products?sort=relevance' })).statusCode).toBe(400);
    expect((await app.http.inject({ url: '/api/products?limit=0' })).statusCode).toBe(400);
    expect((await app.http.inject({ url: '/api/products?limit=101' })).statusCode).toBe(400);
  });

  it("/api/me/products pages through the seller's own products in every status", async () => {
    const seller: TestUser = await newSeller();
    const made = [
      await createProduct(app, seller, { status: 'draft' }),
      await createProduct(app, seller, { status: 'active' }),
      await createProduct(app, seller, { status: 'archived' }),
    ];
    const items: ProductView[] = [];
    let cursor: string | null = null;
    do {
      const response = await app.http.inject({
        url: `/api/me/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: seller.headers,
      });
      const page = response.json() as Page;
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(items.map((item) => item.id).sort()).toEqual(made.map((item) => item.id).sort());
    expect(new Set(items.map((item) => item.status))).toEqual(new Set(['draft', 'active', 'archived']));
    expect((await app.http.inject({ url: '/api/me/products' })).statusCode).toBe(401);
  });
});
