import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { withDatabaseName } from '../../../test/harness/database-names.ts';
import { countStatements } from '../../../test/harness/query-counter.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { products } from './catalog.tables.ts';
import type { ProductView } from './products.schemas.ts';

/*
 * The public listing cache through the app, on PGlite and PostgreSQL. Entries live an hour here,
 * so a listing can only become fresh through a catalog notification.
 */

interface Page {
  items: ProductView[];
  nextCursor: string | null;
}

let app: TestApp;
let seller: TestUser;
let staff: TestUser;

beforeAll(async () => {
  app = await buildTestApp({
    startJobs: false,
    env: { CATALOG_CACHE_ENABLED: 'true', CATALOG_CACHE_MAX_AGE_SECONDS: '3600' },
  });
  seller = await createUser(app, { roles: ['seller'] });
  staff = await createUser(app, { roles: ['staff'] });
});
afterAll(() => app?.close());

async function metric(name: string, labels: Record<string, string> = {}, of: TestApp = app) {
  const values = (await of.platform.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  const matching = values.filter((value) =>
    Object.entries(labels).every(([key, label]) => value.labels[key] === label),
  );
  return matching.reduce((sum, value) => sum + value.value, 0);
}
const lookups = (result: string, of: TestApp = app) =>
  metric('caravan_catalog_cache_lookups_total', { cache: 'listing', result }, of);

/** One listing request, with the statements it ran and how the cache answered it. */
async function listing(url: string, user?: TestUser, of: TestApp = app) {
  const hits = await lookups('hit', of);
  const { result: response, count } = await countStatements(of, () => sendAs(of, 'GET', url, user));
  expect(response.statusCode, response.body).toBe(200);
  return {
    response,
    page: response.json() as Page,
    statements: count.statements,
    hit: (await lookups('hit', of)) > hits,
  };
}

/**
 * Lists `url` until `fresh` holds. On PGlite the notification is delivered in process before the
 * write returns, so the first listing must already be fresh; on PostgreSQL it arrives on the
 * listener's connection shortly after the commit (the staleness bound of the cache).
 */
async function expectFresh(url: string, fresh: (page: Page) => boolean) {
  let attempts = 0;
  const page = await waitFor(
    async () => {
      attempts++;
      const { page } = await listing(url);
      return fresh(page) && page;
    },
    { what: `a fresh ${url}`, timeoutMs: 5_000 },
  );
  if (app.platform.database.kind === 'pglite') expect(attempts).toBe(1);
  return page;
}

/**
 * A listing, cached: the second request is a hit. On PostgreSQL the notifications of the writes
 * just before can still arrive after the first read and drop it, so the pair is repeated until
 * the second one hits.
 */
async function cachedListing(url: string) {
  return waitFor(
    async () => {
      await listing(url);
      const second = await listing(url);
      return second.hit && second.page;
    },
    { what: `a cached ${url}`, timeoutMs: 5_000 },
  );
}

describe('GET /api/products through the catalog read cache', () => {
  it('serves a repeated listing from memory: no statement, the same bytes as without the cache', async () => {
    for (let i = 0; i < 3; i++) await createProduct(app, seller, { status: 'active' });
    const url = `/api/products?seller=${seller.user.id}&limit=2`;
    // On PostgreSQL a late notification of the writes above may drop the first read: ask again.
    const { first, second } = await waitFor(async () => {
      const first = await listing(url);
      const second = await listing(url);
      return second.hit && { first, second };
    });
    expect(first.statements).toBeLessThanOrEqual(1);
    expect(second.statements).toBe(0);
    expect(second.response.rawPayload.equals(first.response.rawPayload)).toBe(true);

    const uncachedApp = await buildTestApp({
      startJobs: false,
      sameDatabaseAs: app,
      env: { CATALOG_CACHE_ENABLED: 'false' },
    });
    try {
      const uncached = await listing(url, undefined, uncachedApp);
      expect(uncached.statements).toBe(1);
      expect(uncached.response.rawPayload.equals(second.response.rawPayload)).toBe(true);
      for (const header of ['content-type', 'content-length'])
        expect(second.response.headers[header]).toBe(uncached.response.headers[header]);
      expect(await lookups('miss', uncachedApp)).toBe(0);
    } finally {
      await uncachedApp.close();
    }

    const exposed = await app.http.inject({ url: '/metrics' });
    expect(exposed.body).toMatch(/caravan_catalog_cache_lookups_total\{cache="listing",result="hit"\} [1-9]/);
    expect(exposed.body).toMatch(/caravan_catalog_cache_serving\{cache="listing"\} 1/);
  });

  it('a product change through the API makes the next listing fresh', async () => {
    const product = await createProduct(app, seller, { status: 'active', title: 'Before the edit' });
    const url = `/api/products?seller=${seller.user.id}`;
    await cachedListing(url);
    const patched = await sendAs(app, 'PATCH', `/api/products/${product.id}`, seller, {
      title: 'After the edit',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    await expectFresh(url, (page) => page.items.some((item) => item.title === 'After the edit'));
  });

  it('a variant price change makes the next listing fresh', async () => {
    const product = await createProduct(app, seller, { status: 'active', priceMinor: 1000 });
    const url = `/api/products?seller=${seller.user.id}&sort=price_desc`;
    await cachedListing(url);
    const variantId = product.variants[0]!.id;
    const patched = await sendAs(app, 'PATCH', `/api/products/${product.id}/variants/${variantId}`, seller, {
      priceMinor: 987_654,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const page = await expectFresh(url, (page) => page.items[0]?.id === product.id);
    expect(page.items[0]).toMatchObject({ priceMinor: 987_654, variants: [{ priceMinor: 987_654 }] });
  });

  it('a category rename makes the next listing fresh', async () => {
    const category = await createCategory(app, { name: 'Cache Before Rename' });
    await createProduct(app, seller, { status: 'active', categoryId: category.id });
    const url = `/api/products?category=${category.id}`;
    expect((await cachedListing(url)).items[0]?.category?.name).toBe('Cache Before Rename');
    const renamed = await sendAs(app, 'PATCH', `/api/admin/categories/${category.id}`, staff, {
      name: 'Cache After Rename',
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    await expectFresh(url, (page) => page.items[0]?.category?.name === 'Cache After Rename');
  });

  it('a raw SQL UPDATE of products makes the next listing fresh', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    const url = `/api/products?seller=${seller.user.id}`;
    await cachedListing(url);
    await app.platform.db
      .update(products)
      .set({ title: 'Written by SQL' })
      .where(eq(products.id, product.id));
    await expectFresh(url, (page) => page.items.some((item) => item.title === 'Written by SQL'));
  });

  it('never shows a draft, whoever asked first; publishing and archiving show through', async () => {
    const own = await createUser(app, { roles: ['seller'] });
    const created = await sendAs(app, 'POST', '/api/products', own, {
      title: 'Never public while a draft',
      currency: 'USD',
      categoryId: (await createCategory(app)).id,
      variants: [{ sku: `DRAFT-${own.user.id}`, title: 'One', priceMinor: 500 }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const url = `/api/products?seller=${own.user.id}`;
    // The seller asks first (their own drafts are not in the public listing either), then the public.
    const anonymous = await waitFor(async () => {
      const asSeller = await listing(url, own);
      expect(asSeller.page.items).toEqual([]);
      const anonymous = await listing(url);
      return anonymous.hit && anonymous;
    });
    expect(anonymous.page.items).toEqual([]);

    const id = created.json().id as string;
    expect((await sendAs(app, 'POST', `/api/products/${id}/publish`, own)).statusCode).toBe(200);
    await expectFresh(url, (page) => page.items.map((item) => item.id).join() === id);
    expect((await sendAs(app, 'POST', `/api/products/${id}/archive`, own)).statusCode).toBe(200);
    await expectFresh(url, (page) => page.items.length === 0);
  });

  it('never caches a listing filtered by stock', async () => {
    await createProduct(app, seller, { status: 'active' });
    const url = `/api/products?seller=${seller.user.id}&inStock=true`;
    const before = await metric('caravan_catalog_cache_lookups_total');
    for (let i = 0; i < 2; i++) {
      const { statements, hit } = await listing(url);
      expect(statements).toBe(1);
      expect(hit).toBe(false);
    }
    expect(await metric('caravan_catalog_cache_lookups_total')).toBe(before);
  });

  it('keeps at most CATALOG_CACHE_MAX_ENTRIES listings, least recently used out first', async () => {
    const small = await buildTestApp({
      startJobs: false,
      sameDatabaseAs: app,
      env: {
        CATALOG_CACHE_ENABLED: 'true',
        CATALOG_CACHE_MAX_ENTRIES: '2',
        CATALOG_CACHE_MAX_AGE_SECONDS: '3600',
      },
    });
    try {
      const url = (limit: number) => `/api/products?seller=${seller.user.id}&limit=${limit}`;
      for (const limit of [1, 2, 3]) expect((await listing(url(limit), undefined, small)).hit).toBe(false);
      expect(await metric('caravan_catalog_cache_evictions_total', { cache: 'listing' }, small)).toBe(1);
      expect((await listing(url(3), undefined, small)).hit).toBe(true);
      const evicted = await listing(url(1), undefined, small);
      expect(evicted.hit).toBe(false);
      expect(evicted.statements).toBe(1);
    } finally {
      await small.close();
    }
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'PostgreSQL: while the listener is down every listing reads the database; caching resumes when it is back',
    async () => {
      const url = `/api/products?seller=${seller.user.id}&limit=3`;
      await cachedListing(url);
      const databaseUrl = app.testDatabase.url as string;
      const name = new URL(databaseUrl).pathname.slice(1);
      const admin = new pg.Client({ connectionString: withDatabaseName(databaseUrl, 'postgres') });
      await admin.connect();
      try {
        // Keep the listener out (the pool's open connections stay usable), then drop its connection.
        await admin.query(`alter database ${pg.escapeIdentifier(name)} allow_connections false`);
        const terminated = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
            where application_name = 'caravan-listen' and datname = $1`,
          [name],
        );
        expect(terminated.rowCount).toBe(1);
        await waitFor(
          async () => (await metric('caravan_catalog_cache_serving', { cache: 'listing' })) === 0,
          {
            what: 'the listener to be lost',
          },
        );
        const bypassed = await lookups('bypass');
        for (let i = 0; i < 2; i++) {
          const down = await listing(url);
          expect(down.hit).toBe(false);
          expect(down.statements).toBe(1);
        }
        expect(await lookups('bypass')).toBe(bypassed + 2);
      } finally {
        await admin.query(`alter database ${pg.escapeIdentifier(name)} allow_connections true`);
        await admin.end();
      }
      await waitFor(async () => (await metric('caravan_catalog_cache_serving', { cache: 'listing' })) === 1, {
        what: 'the listener to come back',
        timeoutMs: 15_000,
      });
      expect((await listing(url)).hit).toBe(false);
      expect((await listing(url)).hit).toBe(true);
    },
  );
});
