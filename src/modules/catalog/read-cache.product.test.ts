import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct } from '../../../test/factories/catalog.ts';
import { createUser, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { countStatements } from '../../../test/harness/query-counter.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import type { ProductView } from './products.schemas.ts';

/*
 * Anonymous product reads through the catalog read cache, on PGlite and PostgreSQL. Entries live
 * long here, so a read can only become fresh through a catalog notification.
 */

let app: TestApp;
let seller: TestUser;

beforeAll(async () => {
  app = await buildTestApp({
    startJobs: false,
    env: { CATALOG_CACHE_ENABLED: 'true', CATALOG_CACHE_MAX_AGE_SECONDS: '3600' },
  });
  seller = await createUser(app, { roles: ['seller'] });
  await waitFor(async () => {
    const values = (
      await app.platform.metrics.registry.getSingleMetric('caravan_catalog_cache_serving')?.get()
    )?.values;
    return values?.find((value) => value.labels.cache === 'product')?.value === 1;
  });
});
afterAll(() => app?.close());

async function read(idOrSlug: string, user?: TestUser) {
  const { result: response, count } = await countStatements(app, () =>
    sendAs(app, 'GET', `/api/products/${idOrSlug}`, user),
  );
  return { response, statements: count.statements };
}

/** Reads until `fresh` holds (PostgreSQL delivers the notification just after the commit). */
async function expectFresh(idOrSlug: string, fresh: (product: ProductView) => boolean) {
  return waitFor(
    async () => {
      const { response } = await read(idOrSlug);
      return response.statusCode === 200 && fresh(response.json() as ProductView) && response;
    },
    { what: `a fresh ${idOrSlug}`, timeoutMs: 5_000 },
  );
}

describe('GET /api/products/:idOrSlug through the catalog read cache', () => {
  it('answers a repeated anonymous read from memory, byte for byte, by id and by slug', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    for (const key of [product.id, product.slug]) {
      // On PostgreSQL a late notification of the product's creation may drop the first read.
      const { first, second } = await waitFor(async () => {
        const first = await read(key);
        const second = await read(key);
        return second.statements === 0 && { first, second };
      });
      expect(first.response.statusCode).toBe(200);
      expect(first.statements).toBeLessThanOrEqual(1);
      expect(second.response.rawPayload.equals(first.response.rawPayload)).toBe(true);
      expect(second.response.headers['content-type']).toBe(first.response.headers['content-type']);
    }
  });

  it('shows a change at once: title, variant price, publish and archive', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    await read(product.id);
    const patch = await sendAs(app, 'PATCH', `/api/products/${product.id}`, seller, {
      title: 'Renamed Lamp',
    });
    expect(patch.statusCode, patch.body).toBe(200);
    await expectFresh(product.id, (view) => view.title === 'Renamed Lamp');

    const variant = product.variants[0]!;
    const price = await sendAs(app, 'PATCH', `/api/products/${product.id}/variants/${variant.id}`, seller, {
      priceMinor: 77_700,
    });
    expect(price.statusCode, price.body).toBe(200);
    await expectFresh(product.id, (view) => view.variants[0]?.priceMinor === 77_700);

    const archive = await sendAs(app, 'POST', `/api/products/${product.id}/archive`, seller);
    expect(archive.statusCode, archive.body).toBe(200);
    await waitFor(async () => (await read(product.id)).response.statusCode === 404);
  });

  it('never caches what only its seller may see, nor a 404', async () => {
    const draft = await createProduct(app, seller, {
      status: 'draft',
      categoryId: (await createCategory(app)).id,
    });
    expect((await read(draft.id)).response.statusCode).toBe(404);
    const own = await read(draft.id, seller);
    expect(own.response.statusCode).toBe(200);
    expect((await read(draft.id, seller)).statements).toBe(1);
    expect((await read(draft.id)).response.statusCode).toBe(404);
    const publish = await sendAs(app, 'POST', `/api/products/${draft.id}/publish`, seller);
    expect(publish.statusCode, publish.body).toBe(200);
    await expectFresh(draft.id, (view) => view.status === 'active');
  });
});
