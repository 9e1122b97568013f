import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { generateCatalog } from './catalog.generator.ts';
import type { SearchResultView } from './search.schemas.ts';

describe('catalog generator', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
  });
  afterAll(() => app?.close());

  const count = async (query: ReturnType<typeof sql>) => {
    const result = (await app.platform.db.execute(query)) as unknown as { rows: Array<{ n: number }> };
    return Number(result.rows[0]?.n);
  };

  it('creates categories, sellers and active products with unique SKUs, and can run twice', async () => {
    const first = await generateCatalog(app.platform, { products: 200, vacuum: false });
    expect(first).toMatchObject({ products: 200, categories: 36, sellers: 30 });
    expect(first.variants).toBeGreaterThanOrEqual(200);
    expect(first.variants).toBeLessThanOrEqual(600);
    const second = await generateCatalog(app.platform, { products: 200 });
    expect(second.sellers).toBe(30);
    expect(await count(sql`select count(*)::int as n from products where status = 'active'`)).toBe(400);
    expect(await count(sql`select count(*)::int as n from categories`)).toBe(36);
    expect(await count(sql`select count(*)::int as n from categories where name_ko is null`)).toBe(0);
    expect(await count(sql`select count(distinct sku)::int as n from product_variants`)).toBe(
      first.variants + second.variants,
    );
    expect(
      await count(sql`select count(*)::int as n from products p where min_price_minor <>
        (select min(price_minor) from product_variants v where v.product_id = p.id)`),
    ).toBe(0);
    expect(await count(sql`select count(*)::int as n from products where title ~ '[가-힣]'`)).toBeGreaterThan(
      50,
    );
    expect(
      await count(sql`select count(*)::int as n from users where email like '%@demo.caravan.local'
        and email_verified_at is not null and 'seller' = any(roles)`),
    ).toBe(30);
  });

  it('makes products the API lists and search finds', async () => {
    const list = await app.http.inject({ url: '/api/products?category=electronics&limit=5' });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.length).toBeGreaterThan(0);
    const korean = (await app.platform.db.execute(
      sql`select id, title from products where title ~ '[가-힣]' limit 1`,
    )) as unknown as { rows: Array<{ id: string; title: string }> };
    const target = korean.rows[0]!;
    const response = await app.http.inject({
      url: `/api/search?q=${encodeURIComponent(target.title)}`,
    });
    expect(response.statusCode).toBe(200);
    const result = response.json() as SearchResultView;
    expect(result.items.map((item) => item.id)).toContain(target.id);
    expect(result.facets.categories.length).toBeGreaterThan(0);
  });
});
