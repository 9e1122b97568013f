import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import type { ProductView } from './products.schemas.ts';
import { slugify } from './slug.ts';

describe('slugify', () => {
  it('keeps letters of any script and caps the length', () => {
    expect(slugify('무선 이어폰', 'product')).toBe('무선-이어폰');
    expect(slugify('ہاتھ سے بنی شال', 'product')).toBe('ہاتھ-سے-بنی-شال');
    expect(slugify('  Ｃａｆé — Crème Brûlée!! ', 'product')).toBe('café-crème-brûlée');
    expect(slugify('!!! 🎉 ???', 'product')).toBe('product');
    expect(Array.from(slugify('가'.repeat(200), 'product'))).toHaveLength(80);
  });
});

describe('products', () => {
  let app: TestApp;
  let seller: TestUser;
  let otherSeller: TestUser;
  let staff: TestUser;
  let buyer: TestUser;
  let categoryId: string;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
    [seller, otherSeller, staff, buyer] = await Promise.all([
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['staff'] }),
      createUser(app),
    ]);
    categoryId = (await createCategory(app, { name: 'Products Test' })).id;
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  it('a verified seller creates a draft with variants; the price is the lowest variant', async () => {
    const response = await send('POST', '/api/products', seller, {
      title: '무선 이어폰',
      brand: 'Sori',
      attributes: { bluetooth: '5.3' },
      currency: 'KRW',
      categoryId,
      sellerId: otherSeller.user.id,
      variants: [
        { sku: 'EAR-WHT', title: 'White', priceMinor: 129000, options: { color: 'white' } },
        { sku: 'EAR-BLK', title: 'Black', priceMinor: 119000, currency: 'KRW', options: { color: 'black' } },
      ],
    });
    expect(response.statusCode).toBe(201);
    const product = response.json() as ProductView;
    expect(product).toMatchObject({
      slug: '무선-이어폰',
      status: 'draft',
      sellerId: seller.user.id,
      priceMinor: 119000,
      currency: 'KRW',
      category: { id: categoryId, slugPath: 'products-test' },
      rating: { count: 0, average: null },
    });
    expect(product.variants.map((variant) => variant.sku)).toEqual(['EAR-WHT', 'EAR-BLK']);
  });

  it('refuses buyers (not_a_seller), unverified sellers (email_not_verified) and anonymous callers', async () => {
    const body = { title: 'Nope', currency: 'USD' };
    const asBuyer = await send('POST', '/api/products', buyer, body);
    expect(asBuyer.statusCode).toBe(403);
    expect(asBuyer.json().error.code).toBe('not_a_seller');
    const unverified = await createUser(app, { roles: ['seller'], verified: false });
    const asUnverified = await send('POST', '/api/products', unverified, body);
    expect(asUnverified.statusCode).toBe(403);
    expect(asUnverified.json().error.code).toBe('email_not_verified');
    expect((await send('POST', '/api/products', undefined, body)).statusCode).toBe(401);
  });

  it('refuses a variant in another currency and a taken SKU', async () => {
    const mismatch = await send('POST', '/api/products', seller, {
      title: 'Shawl',
      currency: 'PKR',
      variants: [{ sku: 'SHAWL-1', title: 'Red', priceMinor: 500000, currency: 'USD' }],
    });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().error.code).toBe('currency_mismatch');
    const product = await createProduct(app, seller, { variants: [{ sku: 'UNIQUE-SKU-1' }] });
    const taken = await send('POST', `/api/products/${product.id}/variants`, seller, {
      sku: 'UNIQUE-SKU-1',
      title: 'Again',
      priceMinor: 1,
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('sku_taken');
  });

  it('numbers slug collisions, also for 10 concurrent creates of one title, and keeps Unicode titles', async () => {
    const created = await Promise.all(
      Array.from({ length: 10 }, () =>
        send('POST', '/api/products', seller, { title: 'Hand Made Shawl', currency: 'PKR' }),
      ),
    );
    expect(created.map((response) => response.statusCode)).toEqual(Array(10).fill(201));
    const slugs = created.map((response) => (response.json() as ProductView).slug).sort();
    expect(new Set(slugs).size).toBe(10);
    expect(slugs).toEqual(
      ['hand-made-shawl', ...Array.from({ length: 9 }, (_, i) => `hand-made-shawl-${i + 2}`)].sort(),
    );

    const urdu = (
      await send('POST', '/api/products', seller, { title: 'ہاتھ سے بنی شال', currency: 'PKR' })
    ).json();
    expect(urdu.slug).toBe('ہاتھ-سے-بنی-شال');
    const urdu2 = (
      await send('POST', '/api/products', seller, { title: 'ہاتھ سے بنی شال', currency: 'PKR' })
    ).json();
    expect(urdu2.slug).toBe('ہاتھ-سے-بنی-شال-2');
    const symbols = (await send('POST', '/api/products', seller, { title: '★★★', currency: 'USD' })).json();
    expect(symbols.slug).toMatch(/^product(-\d+)?$/);
  });

  it("hides drafts from the public and from other sellers; another seller's product is 404 for writes", async () => {
    const draft = await createProduct(app, seller, { title: 'Secret Draft' });
    expect((await send('GET', `/api/products/${draft.id}`)).statusCode).toBe(404);
    expect((await send('GET', `/api/products/${draft.slug}`)).statusCode).toBe(404);
    expect((await send('GET', `/api/products/${draft.id}`, otherSeller)).statusCode).toBe(404);
    expect((await send('GET', `/api/products/${draft.slug}`, seller)).statusCode).toBe(200);
    expect((await send('GET', `/api/products/${draft.id}`, staff)).statusCode).toBe(200);

    const edit = await send('PATCH', `/api/products/${draft.id}`, otherSeller, { title: 'Mine now' });
    expect(edit.statusCode).toBe(404);
    expect(edit.json().error.code).toBe('not_found');
    expect((await send('POST', `/api/products/${draft.id}/publish`, otherSeller)).statusCode).toBe(404);
    const variant = draft.variants[0]!;
    expect(
      (
        await send('PATCH', `/api/products/${draft.id}/variants/${variant.id}`, otherSeller, {
          priceMinor: 1,
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await send('DELETE', `/api/products/${draft.id}/variants/${variant.id}`, otherSeller)).statusCode,
    ).toBe(404);

    const byStaff = await send('PATCH', `/api/products/${draft.id}`, staff, { brand: 'Checked' });
    expect(byStaff.statusCode).toBe(200);
    const byOwner = await send('PATCH', `/api/products/${draft.id}`, seller, { title: 'Renamed Draft' });
    expect(byOwner.json()).toMatchObject({ title: 'Renamed Draft', slug: draft.slug, brand: 'Checked' });

    const mine = (await send('GET', '/api/me/products?status=draft&limit=100', seller)).json() as {
      items: ProductView[];
    };
    expect(mine.items.map((item) => item.id)).toContain(draft.id);
    const theirs = (await send('GET', '/api/me/products?limit=100', otherSeller)).json() as {
      items: ProductView[];
    };
    expect(theirs.items.map((item) => item.id)).not.toContain(draft.id);
  });

  it('publishes only with a category and a variant; archive hides it again', async () => {
    const bare = (
      await send('POST', '/api/products', seller, { title: 'Bare', currency: 'USD' })
    ).json() as ProductView;
    const refused = await send('POST', `/api/products/${bare.id}/publish`, seller);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({
      code: 'product_incomplete',
      details: { missing: ['a category', 'a variant'] },
    });
    await send('PATCH', `/api/products/${bare.id}`, seller, { categoryId });
    expect(
      (await send('POST', `/api/products/${bare.id}/publish`, seller)).json().error.details.missing,
    ).toEqual(['a variant']);
    await send('POST', `/api/products/${bare.id}/variants`, seller, {
      sku: `BARE-${bare.id}`,
      title: 'One',
      priceMinor: 500,
    });
    const published = await send('POST', `/api/products/${bare.id}/publish`, seller);
    expect(published.statusCode).toBe(200);
    expect(published.json()).toMatchObject({ status: 'active' });
    expect(published.json().publishedAt).not.toBeNull();
    expect((await send('GET', `/api/products/${bare.slug}`)).statusCode).toBe(200);

    const product = published.json() as ProductView;
    const lastVariant = await send(
      'DELETE',
      `/api/products/${bare.id}/variants/${product.variants[0]!.id}`,
      seller,
    );
    expect(lastVariant.statusCode).toBe(422);
    const noCategory = await send('PATCH', `/api/products/${bare.id}`, seller, { categoryId: null });
    expect(noCategory.json().error.code).toBe('product_incomplete');

    expect((await send('POST', `/api/products/${bare.id}/archive`, seller)).json().status).toBe('archived');
    expect((await send('GET', `/api/products/${bare.id}`)).statusCode).toBe(404);
  });

  it('keeps the product price at the lowest variant price through every variant change', async () => {
    const product = await createProduct(app, seller, { variants: [{ priceMinor: 3000 }] });
    expect(product.priceMinor).toBe(3000);
    const added = (
      await send('POST', `/api/products/${product.id}/variants`, seller, {
        sku: `CHEAP-${product.id}`,
        title: 'Cheap',
        priceMinor: 1000,
        options: { size: 'S' },
      })
    ).json() as ProductView;
    expect(added.priceMinor).toBe(1000);
    const cheap = added.variants.find((variant) => variant.priceMinor === 1000)!;
    expect(cheap.position).toBe(1);
    const raised = (
      await send('PATCH', `/api/products/${product.id}/variants/${cheap.id}`, seller, { priceMinor: 5000 })
    ).json() as ProductView;
    expect(raised.priceMinor).toBe(3000);
    const removed = (
      await send('DELETE', `/api/products/${product.id}/variants/${product.variants[0]!.id}`, seller)
    ).json();
    expect(removed.priceMinor).toBe(5000);
    const mismatch = await send('PATCH', `/api/products/${product.id}/variants/${cheap.id}`, seller, {
      currency: 'EUR',
    });
    expect(mismatch.json().error.code).toBe('currency_mismatch');
    const currency = await send('PATCH', `/api/products/${product.id}`, seller, { currency: 'EUR' });
    expect(currency.statusCode).toBe(422);
  });
});
