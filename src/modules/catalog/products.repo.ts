import { and, asc, count, desc, eq, getTableColumns, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { categories, type PRODUCT_STATUSES, products, productVariants } from './catalog.tables.ts';
import type { Cursor } from './cursor.ts';
import type { ProductSort } from './products.schemas.ts';

export type ProductRow = typeof products.$inferSelect;
export type NewProduct = typeof products.$inferInsert;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];
export type ProductChanges = Partial<
  Pick<
    NewProduct,
    'title' | 'description' | 'brand' | 'attributes' | 'categoryId' | 'currency' | 'status' | 'publishedAt'
  >
>;
export type VariantRow = typeof productVariants.$inferSelect;
export type NewVariant = typeof productVariants.$inferInsert;
export type VariantChanges = Partial<
  Pick<NewVariant, 'sku' | 'title' | 'priceMinor' | 'currency' | 'options' | 'stockUnit' | 'position'>
>;

/** A product with its category's name and slug path, as listings show it. */
export type ProductWithCategory = ProductRow & {
  categoryName: string | null;
  categorySlugPath: string | null;
};

const withCategory = {
  ...getTableColumns(products),
  categoryName: categories.name,
  categorySlugPath: categories.slugPath,
};

/**
 * Inserts unless the slug is taken (then undefined and the caller tries the next number).
 * `ON CONFLICT DO NOTHING` waits for a concurrent insert of the same slug to settle instead of
 * failing the transaction, which is what makes numbering race-safe.
 */
export async function insertProduct(db: DbOrTx, product: NewProduct): Promise<ProductRow | undefined> {
  const [row] = await db
    .insert(products)
    .values(product)
    .onConflictDoNothing({ target: products.slug })
    .returning();
  return row;
}

/**
 * The slugs taken in the family of `base` (`base`, `base-2` …). Slugs hold only letters, marks,
 * digits and '-', none of which is special in a regular expression.
 */
export async function findSlugFamily(db: DbOrTx, base: string): Promise<string[]> {
  const rows = await db
    .select({ slug: products.slug })
    .from(products)
    .where(sql`${products.slug} ~ ${`^${base}(-[0-9]+)?$`}`);
  return rows.map((row) => row.slug);
}

export async function findProduct(db: DbOrTx, id: string): Promise<ProductWithCategory | undefined> {
  const [row] = await db
    .select(withCategory)
    .from(products)
    .leftJoin(categories, eq(categories.id, products.categoryId))
    .where(eq(products.id, id));
  return row;
}

export async function findProductBySlug(db: DbOrTx, slug: string): Promise<ProductWithCategory | undefined> {
  const [row] = await db
    .select(withCategory)
    .from(products)
    .leftJoin(categories, eq(categories.id, products.categoryId))
    .where(eq(products.slug, slug));
  return row;
}

/** Serialises changes to one product and its variants (min price, last-variant rule). */
export async function lockProduct(db: DbOrTx, id: string): Promise<ProductRow | undefined> {
  const [row] = await db.select().from(products).where(eq(products.id, id)).for('no key update');
  return row;
}

export async function updateProduct(
  db: DbOrTx,
  id: string,
  changes: ProductChanges & { updatedAt: Date },
): Promise<void> {
  await db.update(products).set(changes).where(eq(products.id, id));
}

/** `products.min_price_minor` = the lowest variant price (null without variants), in the caller's transaction. */
export async function refreshMinPrice(db: DbOrTx, productId: string): Promise<void> {
  await db
    .update(products)
    .set({
      minPriceMinor: sql`(select min(${productVariants.priceMinor}) from ${productVariants} where ${productVariants.productId} = ${productId})`,
    })
    .where(eq(products.id, productId));
}

/** The variants of many products in one query, in display order. */
export async function listVariants(db: DbOrTx, productIds: readonly string[]): Promise<VariantRow[]> {
  if (productIds.length === 0) return [];
  return db
    .select()
    .from(productVariants)
    .where(inArray(productVariants.productId, [...productIds]))
    .orderBy(
      asc(productVariants.productId),
      asc(productVariants.position),
      asc(productVariants.createdAt),
      asc(productVariants.id),
    );
}

export async function countVariants(db: DbOrTx, productId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(productVariants)
    .where(eq(productVariants.productId, productId));
  return row?.n ?? 0;
}

export async function findVariant(
  db: DbOrTx,
  productId: string,
  id: string,
): Promise<VariantRow | undefined> {
  const [row] = await db
    .select()
    .from(productVariants)
    .where(and(eq(productVariants.id, id), eq(productVariants.productId, productId)));
  return row;
}

export async function findVariantBySku(db: DbOrTx, sku: string): Promise<VariantRow | undefined> {
  const [row] = await db.select().from(productVariants).where(eq(productVariants.sku, sku));
  return row;
}

/** Inserts unless the SKU is taken (then undefined). */
export async function insertVariant(db: DbOrTx, variant: NewVariant): Promise<VariantRow | undefined> {
  const [row] = await db
    .insert(productVariants)
    .values(variant)
    .onConflictDoNothing({ target: productVariants.sku })
    .returning();
  return row;
}

export async function updateVariant(
  db: DbOrTx,
  productId: string,
  id: string,
  changes: VariantChanges & { updatedAt: Date },
): Promise<void> {
  await db
    .update(productVariants)
    .set(changes)
    .where(and(eq(productVariants.id, id), eq(productVariants.productId, productId)));
}

export async function deleteVariant(db: DbOrTx, productId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(productVariants)
    .where(and(eq(productVariants.id, id), eq(productVariants.productId, productId)))
    .returning({ id: productVariants.id });
  return rows.length > 0;
}

export interface ProductListFilters {
  readonly statuses: readonly ProductStatus[];
  /** `path` of a category: its whole subtree matches. */
  readonly categoryPath?: string | undefined;
  readonly minPrice?: number | undefined;
  readonly maxPrice?: number | undefined;
  readonly sellerId?: string | undefined;
  readonly brand?: string | undefined;
}

/**
 * Each sort is a key expression plus the id as tie-breaker, both in one direction, so a keyset
 * condition `(key, id) < (k, i)` continues exactly after the last row. The key travels in the
 * cursor as PostgreSQL text (microsecond timestamps, exact numerics) and is cast back.
 */
const SORTS: Record<ProductSort, { key: SQL; cast: SQL; direction: 'asc' | 'desc' }> = {
  newest: { key: sql`${products.createdAt}`, cast: sql`timestamptz`, direction: 'desc' },
  price_asc: { key: sql`${products.minPriceMinor}`, cast: sql`bigint`, direction: 'asc' },
  price_desc: { key: sql`${products.minPriceMinor}`, cast: sql`bigint`, direction: 'desc' },
  // Unrated products (-1) come after every rated one.
  rating: {
    key: sql`coalesce(${products.ratingSum}::numeric / nullif(${products.ratingCount}, 0), -1)`,
    cast: sql`numeric`,
    direction: 'desc',
  },
};

export async function listProducts(
  db: DbOrTx,
  options: { filters: ProductListFilters; sort: ProductSort; after: Cursor | undefined; limit: number },
): Promise<Array<ProductWithCategory & { sortKey: string | null }>> {
  const { filters, sort, after, limit } = options;
  const order = SORTS[sort];
  const conditions: SQL[] = [inArray(products.status, [...filters.statuses])];
  if (filters.categoryPath !== undefined) {
    conditions.push(
      sql`${products.categoryId} in (select ${categories.id} from ${categories} where ${categories.path} like ${`${filters.categoryPath}%`})`,
    );
  }
  if (filters.minPrice !== undefined) conditions.push(gte(products.minPriceMinor, filters.minPrice));
  if (filters.maxPrice !== undefined) conditions.push(lte(products.minPriceMinor, filters.maxPrice));
  if (filters.sellerId !== undefined) conditions.push(eq(products.sellerId, filters.sellerId));
  if (filters.brand !== undefined) conditions.push(sql`lower(${products.brand}) = lower(${filters.brand})`);
  if (after) {
    const comparison = order.direction === 'desc' ? sql`<` : sql`>`;
    conditions.push(
      sql`(${order.key}, ${products.id}) ${comparison} (cast(${after.key} as ${order.cast}), cast(${after.id} as uuid))`,
    );
  }
  const direction = order.direction === 'desc' ? desc : asc;
  return db
    .select({ ...withCategory, sortKey: sql<string | null>`(${order.key})::text` })
    .from(products)
    .leftJoin(categories, eq(categories.id, products.categoryId))
    .where(and(...conditions))
    .orderBy(direction(order.key), direction(products.id))
    .limit(limit);
}
