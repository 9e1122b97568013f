import { and, eq, getTableColumns, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { categories, products } from './catalog.tables.ts';
import type { ProductWithCategory } from './products.repo.ts';

/** How close a query word must be to a word of the title (pg_trgm word similarity, 0..1). */
export const WORD_SIMILARITY_THRESHOLD = 0.3;
/** Strict word similarity a 1–2 code point word needs to a whole title word (index condition). */
export const SHORT_WORD_THRESHOLD = 0.6;
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
 * The SQL that tells, for each indexed query word, whether any active product contains it as a
 * substring (`LIKE '%word%'` needs every trigram of the word, so the GIN index answers it from a
 * few posting lists). One row, columns `w0`, `w1`, … in the order of `words`.
 */
export function exactProbeQuery(words: readonly SearchWord[]): SQL {
  const col = sql`${products.searchText}`;
  const probes = words.map(
    (word, i) =>
      sql`exists(select 1 from ${products} where ${products.status} = 'active' and ${col} like ${`%${likeEscape(word.text)}%`}) as ${sql.raw(`w${i}`)}`,
  );
  return sql`select ${sql.join(probes, sql`, `)}`;
}

/**
 * Word similarity a fuzzy word needs, by its length in code points. A transposition inside a
 * 7-letter word already drops it to about 0.37 (`spekaer`), and a swapped Hangul syllable lower
 * still, so only long words (9+, where one edit costs a smaller share of trigrams) ask for more.
 */
export function similarityThresholdFor(word: SearchWord): number {
  return [...word.text].length >= 9 ? 0.35 : WORD_SIMILARITY_THRESHOLD;
}

/**
 * The SQL that retrieves at most CANDIDATE_CAP active products matching every query word, each
 * with its score: the sum over the words of the word's best match in the title (trigram word
 * similarity, or 1 for a substring). Words in `exact` (some active product contains them, see
 * exactProbeQuery) match by substring (`LIKE '%word%'`: every trigram required, so the GIN index
 * returns few rows); the other words of three or more code points match by word similarity
 * (`search_text %> word`, one typo); shorter words only filter. All conditions are plain ANDs,
 * so one bitmap scan of the GIN index intersects them before any heap page is read. With an
 * empty `exact` every indexed word is fuzzy (a fallback); `relaxed` drops the condition on the
 * fuzzy words, which then only score (the other fallback: one badly mistyped word among others).
 */
export function candidatesQuery(
  words: readonly SearchWord[],
  filters: SearchFilters,
  exact: ReadonlySet<string>,
  relaxed = false,
): SQL {
  const col = sql`${products.searchText}`;
  const conditions: SQL[] = [sql`${products.status} = 'active'`];
  const scores: SQL[] = [];
  for (const word of words) {
    const like = `%${likeEscape(word.text)}%`;
    if (word.indexed && !exact.has(word.text)) {
      // No `or like`: an OR per word stops PostgreSQL from putting every word into one GIN scan.
      if (!relaxed) conditions.push(sql`${col} %> ${word.text}`);
      scores.push(
        sql`greatest(word_similarity(${word.text}, ${col}), case when ${col} like ${like} then 1 else 0 end)`,
      );
    } else if (word.indexed) {
      conditions.push(sql`${col} like ${like}`);
      scores.push(sql`1`);
    } else {
      // No whole trigram in a 1–2 code point word, so LIKE alone cannot use the index: the
      // strict word similarity (the word against whole title words) can, and makes it a word.
      conditions.push(sql`${col} %>> ${word.text} and ${col} like ${like}`);
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

type CandidateRow = {
  id: string;
  categoryId: string | null;
  priceMinor: string | number | null;
  score: number | string;
  rating: number | string;
};

const toCandidate = (row: CandidateRow): Candidate => ({
  id: row.id,
  categoryId: row.categoryId,
  priceMinor: row.priceMinor === null ? null : Number(row.priceMinor),
  score: Number(row.score),
  rating: Number(row.rating),
});

/** The words that some active product contains as a substring (see exactProbeQuery). */
export async function exactWords(db: DbOrTx, words: readonly SearchWord[]): Promise<Set<string>> {
  const indexed = words.filter((word) => word.indexed);
  if (indexed.length === 0) return new Set();
  const [row] = rowsOf<Record<string, boolean>>(await db.execute(exactProbeQuery(indexed)));
  return new Set(indexed.filter((_, i) => row?.[`w${i}`] === true).map((word) => word.text));
}

/**
 * The candidates, exact first: words that some active product contains match by substring, the
 * others (typos) by word similarity with a threshold by word length (similarityThresholdFor).
 * Only when that finds nothing while some word was taken exactly does a fallback run: with two
 * or more exact words and some fuzzy ones, the exact words alone retrieve (the fuzzy ones only
 * score); otherwise every word goes fuzzy (same thresholds by length), so a correctly spelled
 * word can still match a near miss. One transaction, so the threshold (`set_config(..., true)`) holds for exactly these
 * queries on whichever pooled connection runs them.
 */
export async function findCandidates(
  db: Db,
  words: readonly SearchWord[],
  filters: SearchFilters,
): Promise<Candidate[]> {
  return db.transaction(async (tx) => {
    const exact = await exactWords(tx, words);
    const fuzzy = words.filter((word) => word.indexed && !exact.has(word.text));
    await tx.execute(
      sql`select set_config('pg_trgm.word_similarity_threshold', ${String(
        Math.min(...fuzzy.map(similarityThresholdFor), 1),
      )}, true), set_config('pg_trgm.strict_word_similarity_threshold', ${String(SHORT_WORD_THRESHOLD)}, true)`,
    );
    const rows = rowsOf<CandidateRow>(await tx.execute(candidatesQuery(words, filters, exact)));
    if (rows.length > 0 || exact.size === 0) return rows.map(toCandidate);
    if (fuzzy.length > 0 && exact.size >= 2) {
      // e.g. a swapped Hangul syllable (`티빈지` for `빈티지`) shares almost no trigrams: let the
      // words that did match exactly retrieve, and the mistyped ones only rank.
      return rowsOf<CandidateRow>(await tx.execute(candidatesQuery(words, filters, exact, true))).map(
        toCandidate,
      );
    }
    const indexed = words.filter((word) => word.indexed);
    await tx.execute(
      sql`select set_config('pg_trgm.word_similarity_threshold', ${String(Math.min(...indexed.map(similarityThresholdFor)))}, true)`,
    );
    return rowsOf<CandidateRow>(await tx.execute(candidatesQuery(words, filters, new Set()))).map(
      toCandidate,
    );
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
