import { and, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { categories, products } from './catalog.tables.ts';
import type { ProductWithCategory } from './products.repo.ts';

/** How close a query word must be to a word of the title (pg_trgm word similarity, 0..1). */
export const WORD_SIMILARITY_THRESHOLD = 0.3;
/** Matches ranked per query: retrieval stops after this many, ranking and facets see only them. */
export const CANDIDATE_CAP = 200;

/** One query word, already normalised like `products.search_text` (lower case, NFKD, no marks). */
export interface SearchWord {
  readonly text: string;
  /** Long enough (3+ code points) for a trigram index condition; shorter words only filter. */
  readonly indexed: boolean;
}

export interface SearchFilters {
  readonly categoryPath?: string | undefined;
  readonly minPrice?: number | undefined;
  readonly maxPrice?: number | undefined;
}

export interface Candidate {
  readonly id: string;
  readonly categoryId: string | null;
  readonly priceMinor: number | null;
  readonly score: number;
  readonly rating: number;
}

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * The SQL that retrieves at most CANDIDATE_CAP active products matching every query word, each
 * with its score: the sum over the words of the word's best match in the title (trigram word
 * similarity, or 1 for a substring). A word of three or more code points matches by
 * `search_text %> word` (one typo) or `LIKE '%word%'` (substring), both answered by the GIN
 * trigram index; shorter words only filter the rows the long ones found.
 */
export function candidatesQuery(words: readonly SearchWord[], filters: SearchFilters): SQL {
  const col = sql`${products.searchText}`;
  const conditions: SQL[] = [sql`${products.status} = 'active'`];
  const scores: SQL[] = [];
  for (const word of words) {
    const like = `%${likeEscape(word.text)}%`;
    if (word.indexed) {
      conditions.push(sql`(${col} %> ${word.text} or ${col} like ${like})`);
      scores.push(
        sql`greatest(word_similarity(${word.text}, ${col}), case when ${col} like ${like} then 1 else 0 end)`,
      );
    } else {
      conditions.push(sql`${col} like ${like}`);
      scores.push(sql`1`);
    }
  }
  if (filters.categoryPath !== undefined) {
    conditions.push(
      sql`${products.categoryId} in (select ${categories.id} from ${categories} where ${categories.path} like ${`${likeEscape(filters.categoryPath)}%`})`,
    );
  }
  if (filters.minPrice !== undefined) conditions.push(sql`${products.minPriceMinor} >= ${filters.minPrice}`);
  if (filters.maxPrice !== undefined) conditions.push(sql`${products.minPriceMinor} <= ${filters.maxPrice}`);
  return sql`select ${products.id} as id, ${products.categoryId} as "categoryId",
      ${products.minPriceMinor} as "priceMinor",
      (${sql.join(scores, sql` + `)})::float8 as score,
      coalesce(${products.ratingSum}::float8 / nullif(${products.ratingCount}, 0), -1) as rating
    from ${products}
    where ${sql.join(conditions, sql` and `)}
    limit ${CANDIDATE_CAP}`;
}

/**
 * The candidates, in one transaction so the similarity threshold (`set_config(..., true)`) holds
 * for exactly this query on whichever pooled connection runs it.
 */
export async function findCandidates(
  db: Db,
  words: readonly SearchWord[],
  filters: SearchFilters,
): Promise<Candidate[]> {
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('pg_trgm.word_similarity_threshold', ${String(WORD_SIMILARITY_THRESHOLD)}, true)`,
    );
    const rows = rowsOf<{
      id: string;
      categoryId: string | null;
      priceMinor: string | number | null;
      score: number | string;
      rating: number | string;
    }>(await tx.execute(candidatesQuery(words, filters)));
    return rows.map((row) => ({
      id: row.id,
      categoryId: row.categoryId,
      priceMinor: row.priceMinor === null ? null : Number(row.priceMinor),
      score: Number(row.score),
      rating: Number(row.rating),
    }));
  });
}

export interface CategoryRef {
  readonly id: string;
  readonly path: string;
  readonly name: string;
  readonly nameKo: string | null;
  readonly slugPath: string;
}

export async function findCategoriesByIds(db: DbOrTx, ids: readonly string[]): Promise<CategoryRef[]> {
  if (ids.length === 0) return [];
  return db
    .select({
      id: categories.id,
      path: categories.path,
      name: categories.name,
      nameKo: categories.nameKo,
      slugPath: categories.slugPath,
    })
    .from(categories)
    .where(inArray(categories.id, [...ids]));
}

/** Active products by id with their category (order not kept: the caller orders). */
export async function findActiveProductsByIds(
  db: DbOrTx,
  ids: readonly string[],
): Promise<ProductWithCategory[]> {
  if (ids.length === 0) return [];
  return db
    .select({
      ...getTableColumns(products),
      categoryName: categories.name,
      categorySlugPath: categories.slugPath,
    })
    .from(products)
    .leftJoin(categories, eq(categories.id, products.categoryId))
    .where(and(inArray(products.id, [...ids]), eq(products.status, 'active')));
}
