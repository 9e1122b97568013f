import { type SQLWrapper, sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from '../accounts/accounts.tables.ts';

/**
 * A tree. `path` is the chain of ancestor ids including this one (`/a/b/c/`), so a subtree is a
 * prefix match on an index; `slugPath` (`fashion/shoes`) is what URLs show. Moving a node rewrites
 * the paths of its subtree in one statement.
 */
export const categories = pgTable(
  'categories',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    parentId: uuid('parent_id'),
    slug: text('slug').notNull(),
    slugPath: text('slug_path').notNull(),
    path: text('path').notNull(),
    depth: smallint('depth').notNull(),
    name: text('name').notNull(),
    nameKo: text('name_ko'),
    position: integer('position').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('categories_slug_path_key').on(table.slugPath),
    index('categories_path_idx').on(sql`${table.path} text_pattern_ops`),
    index('categories_parent_idx').on(table.parentId, table.position),
  ],
);

/**
 * The distinct words of a `search_text`, every length, split like the vocabulary's words (white
 * space and ASCII punctuation; migration 0011): a vocabulary word containing a query word is one of
 * a matching product's terms. The SQL must be spelled exactly so for the planner to use the index.
 */
export const searchTermsOf = (searchText: SQLWrapper) => sql`caravan_search_terms(${searchText})`;

/**
 * A fixed sixteenth of the products (by the first byte of the random id), with its own terms index:
 * search reads it first, so a very common word fills its candidates from a small bitmap. Spelled
 * exactly so in queries for the planner to use the partial index.
 */
export const inSearchSample = (id: SQLWrapper) => sql`(get_byte(uuid_send(${id}), 0) & 15) = 0`;

export const PRODUCT_STATUSES = ['draft', 'active', 'archived'] as const;

export const products = pgTable(
  'products',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => users.id),
    categoryId: uuid('category_id').references(() => categories.id),
    slug: text('slug').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    brand: text('brand'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status', { enum: PRODUCT_STATUSES }).notNull().default('draft'),
    currency: text('currency').notNull(),
    /** Lowest variant price, kept by the service for sorting and price filters (minor units). */
    minPriceMinor: bigint('min_price_minor', { mode: 'number' }),
    /** Review aggregate, updated in the review's transaction (exact under concurrency). */
    ratingCount: integer('rating_count').notNull().default(0),
    ratingSum: integer('rating_sum').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    /**
     * What search matches: lower-cased title and brand in Unicode NFKD, so Hangul syllables become
     * jamo (a one-syllable typo keeps most trigrams) and accents come off Latin letters. Generated
     * by the database, so every writer (service, generator, SQL) keeps it right.
     */
    searchText: text('search_text').generatedAlwaysAs(
      sql`normalize(lower("title" || ' ' || coalesce("brand", '')), NFKD)`,
    ),
  },
  (table) => [
    uniqueIndex('products_slug_key').on(table.slug),
    index('products_search_trgm_idx')
      .using('gin', sql`${table.searchText} gin_trgm_ops`)
      .where(sql`${table.status} = 'active'`),
    // The words of search_text (searchTermsOf): one short posting list per word, where the trigram
    // index intersects several long ones. Not stored: `&&` on it is exact, so the heap never
    // recomputes it for a match.
    index('products_search_terms_idx')
      .using('gin', searchTermsOf(table.searchText))
      .where(sql`${table.status} = 'active'`),
    index('products_search_terms_sample_idx')
      .using('gin', searchTermsOf(table.searchText))
      .where(sql`${table.status} = 'active' and ${inSearchSample(table.id)}`),
    index('products_seller_idx').on(table.sellerId, table.createdAt),
    index('products_category_price_idx')
      .on(table.categoryId, table.minPriceMinor)
      .where(sql`${table.status} = 'active'`),
    index('products_active_created_idx').on(table.createdAt, table.id).where(sql`${table.status} = 'active'`),
    // A category's newest active products (each category of a subtree listing is read off it).
    index('products_active_category_created_idx')
      .on(table.categoryId, table.createdAt, table.id)
      .where(sql`${table.status} = 'active'`),
    // The price sorts over the whole catalog (per category: products_category_price_idx).
    index('products_active_price_idx')
      .on(table.minPriceMinor, table.id)
      .where(sql`${table.status} = 'active'`),
    // The rating sort (products.repo.ts SORTS.rating, the same expression), whole catalog and per category.
    index('products_active_rating_idx')
      .on(sql`coalesce(${table.ratingSum}::numeric / nullif(${table.ratingCount}, 0), -1)`, table.id)
      .where(sql`${table.status} = 'active'`),
    index('products_active_category_rating_idx')
      .on(
        table.categoryId,
        sql`coalesce(${table.ratingSum}::numeric / nullif(${table.ratingCount}, 0), -1)`,
        table.id,
      )
      .where(sql`${table.status} = 'active'`),
    check('products_currency_iso', sql`${table.currency} ~ '^[A-Z]{3}$'`),
  ],
);

/**
 * The distinct words of active products' `search_text` (3+ code points), kept by a trigger on
 * `products` (migration 0007). Search looks a query word up here first: a word some title contains
 * matches by substring, a misspelt one is replaced by its nearest vocabulary words (trigram
 * similarity on this small table) before the products are touched. Words of products archived
 * since are only dropped by the daily `catalog.prune-search-words`; until then they cost a lookup that finds nothing.
 */
export const searchWords = pgTable(
  'search_words',
  {
    word: text('word').primaryKey(),
  },
  (table) => [index('search_words_trgm_idx').using('gist', sql`${table.word} gist_trgm_ops`)],
);

export const productVariants = pgTable(
  'product_variants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    sku: text('sku').notNull(),
    title: text('title').notNull(),
    options: jsonb('options').$type<Record<string, string>>().notNull().default({}),
    priceMinor: bigint('price_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    /** What one unit of stock is (each, pair, kg, m). Quantities live with the inventory module. */
    stockUnit: text('stock_unit').notNull().default('each'),
    position: integer('position').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('product_variants_sku_key').on(table.sku),
    index('product_variants_product_idx').on(table.productId, table.position),
    check('product_variants_price_nonnegative', sql`${table.priceMinor} >= 0`),
  ],
);

export const productImages = pgTable(
  'product_images',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    storageKey: text('storage_key').notNull(),
    contentType: text('content_type').notNull(),
    altText: text('alt_text').notNull().default(''),
    position: integer('position').notNull().default(0),
    status: text('status', { enum: ['pending', 'ready'] })
      .notNull()
      .default('pending'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('product_images_product_idx').on(table.productId, table.position)],
);

/**
 * 3D/AR model files: at most one per format per product (GLB for Android/web, USDZ for iOS).
 * `status` is the live file's: 'pending' only for a format that has never been confirmed. A
 * replacement of a ready model uploads to `pendingStorageKey` while `storageKey` keeps being served,
 * and is swapped in when confirmed.
 */
export const productModels = pgTable(
  'product_models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    format: text('format', { enum: ['glb', 'usdz'] }).notNull(),
    storageKey: text('storage_key').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    status: text('status', { enum: ['pending', 'ready'] })
      .notNull()
      .default('pending'),
    /** The unconfirmed replacement of a ready model; never served. */
    pendingStorageKey: text('pending_storage_key'),
    /** When the replacement upload started (for sweeping abandoned ones). */
    pendingStartedAt: timestamp('pending_started_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('product_models_product_format_key').on(table.productId, table.format),
    // Only a ready model has a replacement, and key and start time come and go together.
    check(
      'product_models_replacement_of_ready',
      sql`(${table.pendingStorageKey} is null and ${table.pendingStartedAt} is null) or (${table.pendingStorageKey} is not null and ${table.pendingStartedAt} is not null and ${table.status} = 'ready')`,
    ),
  ],
);

export const reviews = pgTable(
  'reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    productId: uuid('product_id')
      .notNull()
      .references(() => products.id, { onDelete: 'cascade' }),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    rating: smallint('rating').notNull(),
    title: text('title').notNull().default(''),
    body: text('body').notNull().default(''),
    status: text('status', { enum: ['visible', 'hidden'] })
      .notNull()
      .default('visible'),
    hiddenReason: text('hidden_reason'),
    sellerReply: text('seller_reply'),
    sellerRepliedAt: timestamp('seller_replied_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('reviews_product_author_key').on(table.productId, table.authorId),
    index('reviews_product_created_idx').on(table.productId, table.createdAt),
    check('reviews_rating_range', sql`${table.rating} between 1 and 5`),
  ],
);
