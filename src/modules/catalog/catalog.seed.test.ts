import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { runSeeds } from '../../app.ts';
import { stockLevels } from '../inventory/inventory.tables.ts';
import { DEMO_PRODUCTS } from './catalog.seed.ts';
import { products } from './catalog.tables.ts';

let app: TestApp;
beforeAll(async () => {
  app = await buildTestApp({ startJobs: true });
});
afterAll(() => app?.close());

describe('demo catalog seed', () => {
  it('a fresh database gets a browsable, stocked catalog once; a second run adds nothing', async () => {
    await runSeeds(app);
    const [first] = await app.platform.db.select({ n: count() }).from(products);
    expect(first?.n).toBe(DEMO_PRODUCTS);
    const [stocked] = await app.platform.db.select({ n: count() }).from(stockLevels);
    expect(stocked?.n).toBeGreaterThanOrEqual(DEMO_PRODUCTS);
    const listing = await app.http.inject({ url: '/api/products?limit=5' });
    expect(listing.statusCode).toBe(200);
    expect(listing.json().items.length).toBe(5);

    await runSeeds(app);
    const [second] = await app.platform.db.select({ n: count() }).from(products);
    expect(second?.n).toBe(DEMO_PRODUCTS);
  });
});
