import type { PlatformServices } from '../../platform/services.ts';
import { generateCatalog } from './catalog.generator.ts';
import { products } from './catalog.tables.ts';

/** Enough products to browse, search and buy from on a first `npm start`; nothing on a second. */
export const DEMO_PRODUCTS = 60;

/**
 * Demo catalog for a fresh database: the generator's products (English and Korean titles, brands,
 * categories, variants), published. Skipped when any product exists, so it is safe to run twice
 * and never touches a real catalog. The inventory module's seed, which runs after this one, stocks them.
 */
export async function seedDemoCatalog(services: PlatformServices): Promise<void> {
  const [existing] = await services.db.select({ id: products.id }).from(products).limit(1);
  if (existing) return;
  const result = await generateCatalog(services, { products: DEMO_PRODUCTS, seed: 1, vacuum: false });
  services.logger.info({ products: result.products, variants: result.variants }, 'demo catalog created');
}
