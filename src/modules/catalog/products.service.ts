import { randomBytes } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { hasRole, type Principal } from '../../platform/http/principal.ts';
import { findCategory } from './categories.repo.ts';
import { resolveCategory } from './categories.service.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import {
  countVariants,
  deleteVariant,
  findProduct,
  findSlugFamily,
  findVariant,
  findVariantBySku,
  type ImageJson,
  insertProduct,
  insertVariant,
  listProducts,
  listVariants,
  lockProduct,
  type NewProduct,
  type ProductChanges,
  type ProductListFilters,
  type ProductRow,
  type ProductStatus,
  type ProductWithCategory,
  productReaders,
  refreshMinPrice,
  updateProduct,
  updateVariant,
  type VariantChanges,
  type VariantJson,
  type VariantRow,
} from './products.repo.ts';
import type {
  CreateProductInput,
  ProductListQueryValue,
  ProductSort,
  ProductView,
  UpdateProductInput,
  UpdateVariantInput,
  VariantInputValue,
} from './products.schemas.ts';
import type { ReadCache } from './read-cache.ts';
import { numberedSlug, slugify, suffixedSlug } from './slug.ts';

registerErrorCodes({
  /** The caller is neither a seller nor staff. */
  not_a_seller: 403,
  /** Publishing (or keeping active) a product without a category or without variants. */
  product_incomplete: 422,
  /** A variant priced in another currency than its product. */
  currency_mismatch: 422,
  /** A categoryId that does not exist. */
  category_unknown: 422,
  sku_taken: 409,
});

export type Actor = Pick<Principal, 'userId' | 'roles'>;

export interface ProductPage {
  readonly items: ProductView[];
  readonly nextCursor: string | null;
}

export interface ProductsService {
  create(options: { actor: Actor; input: CreateProductInput }): Promise<ProductView>;
  update(options: { actor: Actor; id: string; input: UpdateProductInput }): Promise<ProductView>;
  publish(options: { actor: Actor; id: string }): Promise<ProductView>;
  archive(options: { actor: Actor; id: string }): Promise<ProductView>;
  addVariant(options: { actor: Actor; id: string; input: VariantInputValue }): Promise<ProductView>;
  updateVariant(options: {
    actor: Actor;
    id: string;
    variantId: string;
    input: UpdateVariantInput;
  }): Promise<ProductView>;
  removeVariant(options: { actor: Actor; id: string; variantId: string }): Promise<ProductView>;
  get(options: { actor: Actor | null; idOrSlug: string }): Promise<ProductView>;
  /** `get` plus the product's ready images (unsigned), in the same single statement. */
  read(options: {
    actor: Actor | null;
    idOrSlug: string;
  }): Promise<{ product: ProductView; images: ImageJson[] }>;
  list(options: { query: ProductListQueryValue }): Promise<ProductPage>;
  /**
   * `list` as the response body, from the listing cache: undefined when there is no cache or the
   * query is not cacheable (then call `list`). `serialize` is the route's own response serializer.
   */
  cachedList(options: {
    query: ProductListQueryValue;
    serialize: (page: ProductPage) => string;
  }): Promise<Buffer> | undefined;
  listMine(options: {
    actor: Actor;
    status?: ProductStatus | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<ProductPage>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG_ATTEMPTS = 20;
const DEFAULT_LIMIT = 20;

// Another seller's product, or a non-active one read by the public, answers exactly like a
// missing one (for reads and writes alike): ids do not reveal drafts.
const notFound = () => new AppError('not_found', 'No such product');

const isStaff = (actor: Actor | null) => hasRole(actor as Principal | null, 'staff', 'admin');
const canManage = (actor: Actor | null, product: ProductRow) =>
  !!actor && (product.sellerId === actor.userId || isStaff(actor));

function toView(row: ProductWithCategory, variants: readonly VariantJson[]): ProductView {
  return {
    id: row.id,
    slug: row.slug,
    title: row.title,
    description: row.description,
    brand: row.brand,
    attributes: row.attributes,
    status: row.status,
    sellerId: row.sellerId,
    category:
      row.categoryId && row.categoryName !== null && row.categorySlugPath !== null
        ? { id: row.categoryId, name: row.categoryName, slugPath: row.categorySlugPath }
        : null,
    priceMinor: row.minPriceMinor,
    currency: row.currency,
    variants: variants.map((variant) => ({
      id: variant.id,
      sku: variant.sku,
      title: variant.title,
      priceMinor: variant.priceMinor,
      currency: variant.currency,
      options: variant.options,
      stockUnit: variant.stockUnit,
      position: variant.position,
    })),
    rating: {
      count: row.ratingCount,
      average: row.ratingCount > 0 ? Math.round((row.ratingSum / row.ratingCount) * 100) / 100 : null,
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    publishedAt: row.publishedAt,
  };
}

/** Views of rows that already carry their variants (read with `variantsJson`; search uses it). */
export function viewsWithVariants(
  rows: ReadonlyArray<ProductWithCategory & { variants: readonly VariantJson[] }>,
): ProductView[] {
  return rows.map((row) => toView(row, row.variants));
}

/** Views for a page of products: their variants come in one query, not one per product. */
export async function toViews(db: DbOrTx, rows: readonly ProductWithCategory[]): Promise<ProductView[]> {
  const variants = await listVariants(
    db,
    rows.map((row) => row.id),
  );
  const byProduct = new Map<string, VariantRow[]>();
  for (const variant of variants) {
    const list = byProduct.get(variant.productId);
    if (list) list.push(variant);
    else byProduct.set(variant.productId, [variant]);
  }
  return rows.map((row) => toView(row, byProduct.get(row.id) ?? []));
}

function currencyMismatch(field: string, currency: string) {
  return new AppError('currency_mismatch', `Every variant is priced in the product's currency, ${currency}`, {
    fields: [{ field, message: `Must be ${currency}` }],
    details: { currency },
  });
}

function skuTaken(sku: string, field: string) {
  return new AppError('sku_taken', `The SKU ${sku} is taken`, {
    fields: [{ field, message: 'Taken' }],
    details: { sku },
  });
}

function incomplete(missing: string[]) {
  return new AppError('product_incomplete', `An active product needs ${missing.join(' and ')}`, {
    details: { missing },
  });
}

function slugNumber(base: string, slug: string): number {
  if (slug === base) return 1;
  return Number(slug.slice(base.length + 1));
}

/**
 * The listing cache key: every input of the public listing, defaults applied. Undefined for
 * `inStock=true`: stock changes (inventory) send no catalog notification, so such a page could
 * go stale unnoticed. `inStock=false` filters nothing and shares the unfiltered key.
 */
function listingKey(query: ProductListQueryValue): string | undefined {
  if (query.inStock === true) return undefined;
  return JSON.stringify([
    query.sort ?? 'newest',
    query.limit ?? DEFAULT_LIMIT,
    query.category ?? null,
    query.minPrice ?? null,
    query.maxPrice ?? null,
    query.seller ?? null,
    query.brand ?? null,
    query.cursor ?? null,
  ]);
}

/**
 * Products and their variants. Each change locks the product row first, so the variant-derived
 * `min_price_minor` and the "an active product keeps a category and a variant" rule hold under
 * concurrent edits; both are written in the transaction that changes the variants.
 * `listingCache` (optional: without it every listing reads the database) serves `cachedList`.
 */
export function createProductsService({
  db,
  clock,
  listingCache,
}: {
  db: Db;
  clock: Clock;
  listingCache?: ReadCache | undefined;
}): ProductsService {
  const readers = productReaders(db);

  /** The product for a change by `actor`: locked, and someone else's is a 404. */
  async function loadForChange(tx: DbOrTx, actor: Actor, id: string): Promise<ProductRow> {
    const product = await lockProduct(tx, id);
    if (!product || !canManage(actor, product)) throw notFound();
    return product;
  }

  async function view(tx: DbOrTx, id: string): Promise<ProductView> {
    const row = await findProduct(tx, id);
    if (!row) throw notFound();
    const [result] = await toViews(tx, [row]);
    return result!;
  }

  async function checkCategory(tx: DbOrTx, categoryId: string, field: string): Promise<void> {
    if (!(await findCategory(tx, categoryId))) {
      throw new AppError('category_unknown', 'No such category', {
        fields: [{ field, message: 'No such category' }],
      });
    }
  }

  /**
   * `title`, `title-2`, `title-3` …: the next number after the highest taken, inserted with
   * ON CONFLICT DO NOTHING; a concurrent creator that took it first makes us look again.
   */
  async function insertWithSlug(tx: DbOrTx, product: Omit<NewProduct, 'slug'>): Promise<ProductRow> {
    const base = slugify(product.title, 'product');
    let tried = 0;
    for (let attempt = 0; attempt < SLUG_ATTEMPTS; attempt++) {
      const taken = await findSlugFamily(tx, base);
      const highest = taken.reduce((max, slug) => Math.max(max, slugNumber(base, slug)), 0);
      tried = Math.max(highest + 1, tried + 1);
      const row = await insertProduct(tx, { ...product, slug: numberedSlug(base, tried) });
      if (row) return row;
    }
    // A family this contended (or cut short by the length cap) gets a random suffix instead.
    const row = await insertProduct(tx, {
      ...product,
      slug: suffixedSlug(base, randomBytes(4).toString('hex')),
    });
    if (!row) throw new AppError('conflict', 'Could not find a free slug; try again');
    return row;
  }

  async function addVariantRow(
    tx: DbOrTx,
    product: Pick<ProductRow, 'id' | 'currency'>,
    input: VariantInputValue,
    field: string,
    now: Date,
  ): Promise<void> {
    if (input.currency !== undefined && input.currency !== product.currency) {
      throw currencyMismatch(`${field}.currency`, product.currency);
    }
    const row = await insertVariant(tx, {
      productId: product.id,
      sku: input.sku,
      title: input.title,
      priceMinor: input.priceMinor,
      currency: product.currency,
      options: input.options ?? {},
      stockUnit: input.stockUnit ?? 'each',
      position: input.position ?? 0,
      createdAt: now,
      updatedAt: now,
    });
    if (!row) throw skuTaken(input.sku, `${field}.sku`);
  }

  function page(
    rows: Array<ProductWithCategory & { sortKey: string | null; variants: VariantJson[] }>,
    limit: number,
    sort: ProductSort,
  ): ProductPage {
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const last = items.at(-1);
    return {
      items: items.map((row) => toView(row, row.variants)),
      nextCursor: more && last ? encodeCursor({ sort, key: last.sortKey, id: last.id }) : null,
    };
  }

  /** One statement: the product, its category, variants and ready images. */
  async function read({ actor, idOrSlug }: { actor: Actor | null; idOrSlug: string }) {
    const row = UUID.test(idOrSlug)
      ? await readers.byId(idOrSlug.toLowerCase())
      : await readers.bySlug(idOrSlug.normalize('NFKC').toLowerCase());
    if (!row || (row.status !== 'active' && !canManage(actor, row))) throw notFound();
    return { product: toView(row, row.variants), images: row.images };
  }

  async function list({ query }: { query: ProductListQueryValue }): Promise<ProductPage> {
    const sort = query.sort ?? 'newest';
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sort);
    const filters: { -readonly [K in keyof ProductListFilters]: ProductListFilters[K] } = {
      statuses: ['active'],
      minPrice: query.minPrice,
      maxPrice: query.maxPrice,
      sellerId: query.seller,
      brand: query.brand,
      inStock: query.inStock === true ? true : undefined,
    };
    if (query.category !== undefined) {
      const category = await resolveCategory(db, query.category);
      if (!category) throw new AppError('not_found', 'No such category');
      filters.categoryPath = category.path;
    }
    return page(await listProducts(db, { filters, sort, after, limit: limit + 1 }), limit, sort);
  }

  return {
    create({ actor, input }) {
      if (!hasRole(actor as Principal, 'seller', 'staff', 'admin')) {
        throw new AppError('not_a_seller', 'Only sellers can list products');
      }
      return db.transaction(async (tx) => {
        if (input.categoryId !== undefined) await checkCategory(tx, input.categoryId, 'body.categoryId');
        const now = clock.now();
        const product = await insertWithSlug(tx, {
          sellerId: actor.userId,
          categoryId: input.categoryId ?? null,
          title: input.title,
          description: input.description ?? '',
          brand: input.brand ?? null,
          attributes: input.attributes ?? {},
          status: 'draft',
          currency: input.currency,
          createdAt: now,
          updatedAt: now,
        });
        const variants = input.variants ?? [];
        for (const [index, variant] of variants.entries()) {
          await addVariantRow(tx, product, { position: index, ...variant }, `body.variants.${index}`, now);
        }
        if (variants.length > 0) await refreshMinPrice(tx, product.id);
        return view(tx, product.id);
      });
    },

    update({ actor, id, input }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        const changes: ProductChanges = {};
        if (input.title !== undefined) changes.title = input.title;
        if (input.description !== undefined) changes.description = input.description;
        if (input.brand !== undefined) changes.brand = input.brand;
        if (input.attributes !== undefined) changes.attributes = input.attributes;
        if (input.categoryId !== undefined) {
          if (input.categoryId === null && product.status === 'active') throw incomplete(['a category']);
          if (input.categoryId !== null) await checkCategory(tx, input.categoryId, 'body.categoryId');
          changes.categoryId = input.categoryId;
        }
        if (input.currency !== undefined && input.currency !== product.currency) {
          if ((await countVariants(tx, id)) > 0) {
            throw new AppError(
              'currency_mismatch',
              'Change the currency only while the product has no variants',
              {
                fields: [
                  { field: 'body.currency', message: `The variants are priced in ${product.currency}` },
                ],
                details: { currency: product.currency },
              },
            );
          }
          changes.currency = input.currency;
        }
        if (Object.keys(changes).length > 0)
          await updateProduct(tx, id, { ...changes, updatedAt: clock.now() });
        return view(tx, id);
      });
    },

    publish({ actor, id }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        const missing: string[] = [];
        if (!product.categoryId) missing.push('a category');
        if ((await countVariants(tx, id)) === 0) missing.push('a variant');
        if (missing.length > 0) throw incomplete(missing);
        if (product.status !== 'active') {
          const now = clock.now();
          await updateProduct(tx, id, {
            status: 'active',
            publishedAt: product.publishedAt ?? now,
            updatedAt: now,
          });
        }
        return view(tx, id);
      });
    },

    archive({ actor, id }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        if (product.status !== 'archived')
          await updateProduct(tx, id, { status: 'archived', updatedAt: clock.now() });
        return view(tx, id);
      });
    },

    addVariant({ actor, id, input }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        const position = input.position ?? (await countVariants(tx, id));
        await addVariantRow(tx, product, { ...input, position }, 'body', clock.now());
        await refreshMinPrice(tx, id);
        return view(tx, id);
      });
    },

    updateVariant({ actor, id, variantId, input }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        const variant = await findVariant(tx, id, variantId);
        if (!variant) throw new AppError('not_found', 'No such variant');
        if (input.currency !== undefined && input.currency !== product.currency) {
          throw currencyMismatch('body.currency', product.currency);
        }
        const changes: VariantChanges = {};
        if (input.sku !== undefined && input.sku !== variant.sku) {
          // A concurrent insert of the same SKU between this check and the update still hits the
          // unique index; that rare race answers 500 rather than a duplicate.
          if (await findVariantBySku(tx, input.sku)) throw skuTaken(input.sku, 'body.sku');
          changes.sku = input.sku;
        }
        if (input.title !== undefined) changes.title = input.title;
        if (input.priceMinor !== undefined) changes.priceMinor = input.priceMinor;
        if (input.options !== undefined) changes.options = input.options;
        if (input.stockUnit !== undefined) changes.stockUnit = input.stockUnit;
        if (input.position !== undefined) changes.position = input.position;
        if (Object.keys(changes).length > 0) {
          const now = clock.now();
          await updateVariant(tx, id, variantId, { ...changes, updatedAt: now });
          if (changes.priceMinor !== undefined) await refreshMinPrice(tx, id);
          await updateProduct(tx, id, { updatedAt: now });
        }
        return view(tx, id);
      });
    },

    removeVariant({ actor, id, variantId }) {
      return db.transaction(async (tx) => {
        const product = await loadForChange(tx, actor, id);
        if (!(await findVariant(tx, id, variantId))) throw new AppError('not_found', 'No such variant');
        if (product.status === 'active' && (await countVariants(tx, id)) === 1)
          throw incomplete(['a variant']);
        await deleteVariant(tx, id, variantId);
        await refreshMinPrice(tx, id);
        await updateProduct(tx, id, { updatedAt: clock.now() });
        return view(tx, id);
      });
    },

    async get(options) {
      return (await read(options)).product;
    },

    read,

    list,

    cachedList({ query, serialize }) {
      const key = listingKey(query);
      if (!listingCache || key === undefined) return undefined;
      return listingCache.get(key, async () => serialize(await list({ query })));
    },

    async listMine({ actor, status, limit = DEFAULT_LIMIT, cursor }) {
      const sort = 'newest';
      const after = cursor === undefined ? undefined : decodeCursor(cursor, sort);
      const rows = await listProducts(db, {
        filters: { statuses: status ? [status] : ['draft', 'active', 'archived'], sellerId: actor.userId },
        sort,
        after,
        limit: limit + 1,
      });
      return page(rows, limit, sort);
    },
  };
}
