import { randomUUID } from 'node:crypto';
import type { CategoryRow } from '../../src/modules/catalog/categories.repo.ts';
import type { CreateCategoryInput } from '../../src/modules/catalog/categories.schemas.ts';
import { createCategoriesService } from '../../src/modules/catalog/categories.service.ts';
import type { ProductView, VariantInputValue } from '../../src/modules/catalog/products.schemas.ts';
import { createProductsService } from '../../src/modules/catalog/products.service.ts';
import type { TestApp } from '../harness/build-test-app.ts';
import type { TestUser } from './users.ts';

/** A category straight through the service (no staff user needed). Names default to a unique one. */
export async function createCategory(
  app: TestApp,
  input: Partial<CreateCategoryInput> = {},
): Promise<CategoryRow> {
  const categories = createCategoriesService({ db: app.platform.db, clock: app.platform.clock });
  return categories.create({ input: { name: `Category ${randomUUID().slice(0, 8)}`, ...input } });
}

export interface ProductFactoryInput {
  title?: string;
  description?: string;
  brand?: string;
  attributes?: Record<string, unknown>;
  categoryId?: string;
  currency?: string;
  /** Defaults to one variant priced `priceMinor` (default 10000) with a unique SKU. */
  variants?: Array<Partial<VariantInputValue>>;
  priceMinor?: number;
  /** `active` publishes it (creating a category when none is given). Default `draft`. */
  status?: 'draft' | 'active' | 'archived';
}

/**
 * A product of `seller` (a seller or staff user from `createUser`) through the service, with its
 * variants, optionally published or archived. Returns the product as the API shows it.
 */
export async function createProduct(
  app: TestApp,
  seller: TestUser,
  input: ProductFactoryInput = {},
): Promise<ProductView> {
  const products = createProductsService({ db: app.platform.db, clock: app.platform.clock });
  const actor = { userId: seller.user.id, roles: seller.user.roles };
  const status = input.status ?? 'draft';
  let categoryId = input.categoryId;
  if (!categoryId && status !== 'draft') categoryId = (await createCategory(app)).id;
  const variants = (input.variants ?? [{}]).map((variant, index) => ({
    sku: `SKU-${randomUUID()}`,
    title: `Variant ${index + 1}`,
    priceMinor: input.priceMinor ?? 10_000,
    ...variant,
  }));
  let product = await products.create({
    actor,
    input: {
      title: input.title ?? `Product ${randomUUID().slice(0, 8)}`,
      currency: input.currency ?? 'USD',
      variants,
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.brand === undefined ? {} : { brand: input.brand }),
      ...(input.attributes === undefined ? {} : { attributes: input.attributes }),
      ...(categoryId === undefined ? {} : { categoryId }),
    },
  });
  if (status !== 'draft') product = await products.publish({ actor, id: product.id });
  if (status === 'archived') product = await products.archive({ actor, id: product.id });
  return product;
}
