import { and, asc, count, desc, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import { perHandle } from '../../platform/db/per-handle.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { stockLevels } from '../inventory/inventory.tables.ts';
import {
  categories,
  type PRODUCT_STATUSES,
  productImages,
  products,
  productVariants,
} from './catalog.tables.ts';
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

/** A variant as product reads show it (aggregated in SQL by `variantsJson`). */
export interface VariantJson {
  readonly id: string;
  readonly sku: string;
  readonly title: string;
  readonly priceMinor: number;
  readonly currency: string;
  readonly options: Record<string, string>;
  readonly stockUnit: string;
  readonly position: number;
}

/** A ready image of a product, before its URL is signed. */
export interface ImageJson {
  readonly id: string;
  readonly storageKey: string;
  readonly contentType: string;
  readonly altText: string;
  readonly position: number;
}

/**
 * The product's variants in display order as a JSON array, computed in the same statement as the
 * product row: a read is one round trip instead of one for the rows and one for their variants.
 * `price_minor` is a bigint; prices stay far below 2^53, so a JSON number is exact.
 */
export const variantsJson = sql<VariantJson[]>`coalesce((select json_agg(json_build_object(
    'id', v.id, 'sku', v.sku, 'title', v.title, 'priceMinor', v.price_minor, 'currency', v.currency,
    'options', v.options, 'stockUnit', v.stock_unit, 'position', v.position
  ) order by v.position, v.created_at, v.id)
  from ${productVariants} v where v.product_id = ${products.id}), '[]'::json)`;

/** Ready images in display order (what `listReadyImages` returns for one product), as JSON. */
const imagesJson = sql<ImageJson[]>`coalesce((select json_agg(json_build_object(
    'id', i.id, 'storageKey', i.storage_key, 'contentType', i.content_type, 'altText', i.alt_text,
    'position', i.position
  ) order by i.position, i.created_at, i.id)
  from ${productImages} i where i.product_id = ${products.id} and i.status = 'ready'), '[]'::json)`;

export type ProductRead = ProductWithCategory & { variants: VariantJson[]; images: ImageJson[] };

/**
 * Prepared reads of one product with its category, variants and ready images in a single
 * statement (by id, by slug). Prepared once per database handle: no query building per request,
 * and PostgreSQL plans the named statement once per connection.
 */
export function productReaders(db: DbOrTx) {
  const read = (where: SQL, name: string) =>
    db
      .select({ ...withCategory, variants: variantsJson, images: imagesJson })
      .from(products)
      .leftJoin(categories, eq(categories.id, products.categoryId))
      .where(where)
      .prepare(name);
  const byId = read(eq(products.id, sql.placeholder('id')), 'caravan_product_by_id');
  const bySlug = read(eq(products.slug, sql.placeholder('slug')), 'caravan_product_by_slug');
  return {
    async byId(id: string): Promise<ProductRead | undefined> {
      const [row] = await byId.execute({ id });
      return row;
    },
    async bySlug(slug: string): Promise<ProductRead | undefined> {
      const [row] = await bySlug.execute({ slug });
      return row;
    },
  };
}

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
  /** Only products with a variant whose stock has units available now. */
  readonly inStock?: true | undefined;
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

type ListRow = ProductWithCategory & { sortKey: string | null; variants: VariantJson[] };
type ListStatement = { execute(values: Record<string, unknown>): Promise<ListRow[]> };

/**
 * Listing statements by shape (sort, statuses, which filters, with or without a cursor), each
 * prepared once per database handle with placeholders for the values. A page is one named
 * statement: no query building per request, planned once per connection. The statuses are part
 * of the shape (written as literals from the closed enum), so a generic plan can still use the
 * partial indexes on active products.
 */
const listStatements = perHandle(() => new Map<string, ListStatement>());

function listStatement(
  db: DbOrTx,
  filters: ProductListFilters,
  sort: ProductSort,
  hasCursor: boolean,
): ListStatement {
  const has = {
    categoryPath: filters.categoryPath !== undefined,
    minPrice: filters.minPrice !== undefined,
    maxPrice: filters.maxPrice !== undefined,
    sellerId: filters.sellerId !== undefined,
    brand: filters.brand !== undefined,
    inStock: filters.inStock === true,
    cursor: hasCursor,
  };
  const statuses = [...new Set(filters.statuses)].sort();
  const name = `caravan_products_${sort}_${statuses.join('_')}_${Object.values(has)
    .map((present) => (present ? '1' : '0'))
    .join('')}`;
  const byName = listStatements(db);
  const cached = byName.get(name);
  if (cached) return cached;

  const order = SORTS[sort];
  const p = (key: string) => sql.placeholder(key);
  const conditions: SQL[] = [
    // From PRODUCT_STATUSES only (checked by the type and the enum column), never from input text.
    sql`${products.status} in (${sql.raw(statuses.map((status) => `'${status}'`).join(', '))})`,
  ];
  // Sorted by price, the price range is an index range; otherwise `+ 0` keeps it a filter. A
  // prepared statement's generic plan cannot see how wide the range is and guesses 0.5 % of the
  // rows, so it would pick the (category, price) index and sort a whole price band of the category
  // (measured: 9,612 rows, 62 ms) instead of walking the (category, created_at) index (≈ 0.3 ms).
  const price =
    sort === 'price_asc' || sort === 'price_desc'
      ? sql`${products.minPriceMinor}`
      : sql`(${products.minPriceMinor} + 0)`;
  if (has.minPrice) conditions.push(sql`${price} >= ${p('minPrice')}`);
  if (has.maxPrice) conditions.push(sql`${price} <= ${p('maxPrice')}`);
  if (has.sellerId) conditions.push(sql`${products.sellerId} = ${p('sellerId')}`);
  if (has.brand) conditions.push(sql`lower(${products.brand}) = lower(${p('brand')})`);
  if (has.inStock) {
    // Stock lives with the inventory module; this reads its table by key (no write, no coupling of rules).
    conditions.push(
      sql`exists (select 1 from ${productVariants} join ${stockLevels} on ${stockLevels.variantId} = ${productVariants.id} where ${productVariants.productId} = ${products.id} and ${stockLevels.available} > 0)`,
    );
  }
  if (has.cursor) {
    const comparison = order.direction === 'desc' ? sql`<` : sql`>`;
    conditions.push(
      sql`(${order.key}, ${products.id}) ${comparison} (cast(${p('afterKey')} as ${order.cast}), cast(${p('afterId')} as uuid))`,
    );
  }
  const direction = order.direction === 'desc' ? desc : asc;
  const orderSql = sql.raw(order.direction);
  let query = db
    .select({ ...withCategory, sortKey: sql<string | null>`(${order.key})::text`, variants: variantsJson })
    .from(products)
    .$dynamic();
  if (has.categoryPath) {
    // A subtree is several categories, and "newest (or cheapest) first across them" cannot be read
    // off one index range. So each category of the subtree gives its own first `limit` rows from
    // its (category, sort key) index, with every filter applied there, and the page is the best
    // `limit` of those few rows: a handful of short index scans instead of walking the
    // whole-catalog sort index until enough rows of the subtree happen to pass the filters.
    query = query.innerJoin(
      sql`(select picked.id from ${categories} cross join lateral (
            select ${products.id} as id from ${products}
            where ${products.categoryId} = ${categories.id} and ${and(...conditions)}
            order by ${order.key} ${orderSql}, ${products.id} ${orderSql}
            limit ${p('limit')}) picked
          where ${categories.path} like ${p('categoryPrefix')}) subtree_page`,
      sql`subtree_page.id = ${products.id}`,
    );
  }
  const statement = query
    .leftJoin(categories, eq(categories.id, products.categoryId))
    .where(and(...conditions))
    .orderBy(direction(order.key), direction(products.id))
    .limit(p('limit'))
    .prepare(name) as unknown as ListStatement;
  byName.set(name, statement);
  return statement;
}

/** A page of products (each with its category and variants) in one statement. */
export async function listProducts(
  db: DbOrTx,
  options: { filters: ProductListFilters; sort: ProductSort; after: Cursor | undefined; limit: number },
): Promise<ListRow[]> {
  const { filters, sort, after, limit } = options;
  return listStatement(db, filters, sort, after !== undefined).execute({
    statuses: [...filters.statuses],
    categoryPrefix: filters.categoryPath === undefined ? undefined : `${filters.categoryPath}%`,
    minPrice: filters.minPrice,
    maxPrice: filters.maxPrice,
    sellerId: filters.sellerId,
    brand: filters.brand,
    afterKey: after?.key,
    afterId: after?.id,
    limit,
  });
}
