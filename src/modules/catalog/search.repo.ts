import { type SQL, sql } from 'drizzle-orm';
import { shapePreparer, tableRowMapper } from '../../platform/db/prepared-sql.ts';
import type { DbOrTx } from '../../platform/db/types.ts';
import { categories, inSearchSample, products, searchTermsOf, searchWords } from './catalog.tables.ts';
import { editDistanceWithin } from './edit-distance.ts';
import { type ProductWithCategory, type VariantJson, variantsJson } from './products.repo.ts';

/** How close a misspelt query word must be to a vocabulary word (pg_trgm similarity, 0..1). */
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
  /** Path segment of the category facet's buckets (1: top level): each candidate is counted under its category's ancestor-or-self there. */
  readonly facetSegment?: number | undefined;
}

/** A category candidates are counted under in the facet. */
export interface FacetBucket {
  readonly id: string;
  readonly name: string;
  readonly nameKo: string | null;
  readonly slugPath: string;
}

/** A PostgreSQL array literal of `texts` (every element quoted), for a `$n::text[]` parameter. */
const textArrayLiteral = (texts: readonly string[]) =>
  `{${texts.map((text) => `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`).join(',')}}`;

const likeEscape = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/**
 * One query word looked up in the vocabulary (`search_words`: the words of active titles):
 * whether some word contains it (then some active product does, so it matches by substring),
 * and the vocabulary words that stand in for it when it is misspelt, best first.
 */
export interface ResolvedWord {
  readonly exact: boolean;
  /**
   * The vocabulary words that contain it (so `exact` when any), when there are at most
   * CONTAINING_WORDS_CAP: the word then matches products having one of these terms. Absent when
   * there are more: it then matches by substring through the trigram index.
   */
  readonly terms?: readonly string[] | undefined;
  readonly alternatives: ReadonlyArray<{ readonly word: string; readonly similarity: number }>;
}

/**
 * Most vocabulary words a query word may stand for by containment (`desk` → desk, desks, desktop):
 * up to this many, the terms index (`caravan_search_terms(search_text)`) reads short posting lists;
 * beyond it (a short, common piece like `pro`) the trigram index's few lists are cheaper.
 */
export const CONTAINING_WORDS_CAP = 32;

/** Nearest vocabulary words looked at per query word (then filtered by isStandIn). */
export const NEAREST_WORDS = 8;

/**
 * The SQL that resolves every indexed query word against the vocabulary in one statement: a row
 * per word (`i` in the order given) with the vocabulary words containing it (at most
 * CONTAINING_WORDS_CAP + 1, so "more than the cap" shows) and its NEAREST_WORDS nearest
 * vocabulary words by trigram distance (`<->`, a nearest-neighbour scan of the GiST index: no
 * threshold setting, so a transposed word whose similarity is below any sensible threshold is
 * still looked at).
 */
export function resolveWordsQuery(texts: readonly string[]): SQL {
  const rows = texts.map((text, i) => sql`(${i}::int, ${text}::text, ${`%${likeEscape(text)}%`}::text)`);
  return sql`select q.i,
      coalesce((
        select json_agg(c.word) from (
          select s.word from ${searchWords} s where s.word like q.pattern limit ${CONTAINING_WORDS_CAP + 1}
        ) c
      ), '[]'::json) as containing,
      coalesce((
        select json_agg(json_build_object('word', a.word, 'similarity', a.sim) order by a.sim desc, a.word)
        from (
          select s.word, similarity(s.word, q.text)::float8 as sim from ${searchWords} s
          order by s.word <-> q.text
          limit ${NEAREST_WORDS}
        ) a
      ), '[]'::json) as alternatives
    from (values ${sql.join(rows, sql`, `)}) as q(i, text, pattern)
    order by q.i`;
}

/** Edits (optimal string alignment) a misspelt word may be away from its stand-in. */
export function editsAllowedFor(word: SearchWord): number {
  return [...word.text].length >= 6 ? 2 : 1;
}

/**
 * A near vocabulary word stands in for a misspelt query word when it is similar enough by
 * trigrams (`similarityThresholdFor`) or within `editsAllowedFor` edits: a transposition keeps
 * every letter but breaks up to four trigrams, so similarity alone would miss it.
 */
export function isStandIn(word: SearchWord, candidate: { word: string; similarity: number }): boolean {
  if (candidate.similarity >= similarityThresholdFor(word)) return true;
  const allowed = editsAllowedFor(word);
  return editDistanceWithin(word.text, candidate.word, allowed) <= allowed;
}

/**
 * Word similarity a fuzzy word needs, by its length in code points. A transposition inside a
 * 7-letter word already drops it to about 0.37 (`spekaer`), and a swapped Hangul syllable lower
 * still, so only long words (9+, where one edit costs a smaller share of trigrams) ask for more.
 */
export function similarityThresholdFor(word: SearchWord): number {
  return [...word.text].length >= 9 ? 0.35 : WORD_SIMILARITY_THRESHOLD;
}

/** How a query word takes part in the candidate query. */
export type WordMatch =
  /**
   * Some title contains it, score 1: products having one of `terms` (the vocabulary words that
   * contain it) or, without them, a substring match.
   */
  | { readonly kind: 'exact'; readonly terms?: readonly string[] | undefined }
  /** Misspelt: any of its stand-ins (substring), scored by the stand-in's similarity. */
  | { readonly kind: 'fuzzy'; readonly alternatives: ResolvedWord['alternatives'] }
  /** Only ranks (word similarity against the title), does not filter. */
  | { readonly kind: 'score-only' }
  /** Its own substring or any stand-in. */
  | { readonly kind: 'exact-or-fuzzy'; readonly alternatives: ResolvedWord['alternatives'] };

/**
 * The SQL that retrieves at most CANDIDATE_CAP active products matching every query word, each
 * with its score: the sum over the words of how well the word matched (1 for a substring, the
 * stand-in's similarity for a misspelt word). A word some title contains is one of the terms
 * that contain it (`caravan_search_terms(search_text) && $terms`, the word-level GIN index) or, when too many words
 * contain it, a `LIKE '%…%'`; a stand-in is a `LIKE` (all its trigrams required). The bitmap scans
 * of both GIN indexes are ANDed before any heap page is read. 1–2 code point words (model codes
 * like `G2`) have no whole trigram: they must be one of the terms.
 */
export function candidatesQuery(
  words: readonly SearchWord[],
  matches: ReadonlyMap<string, WordMatch>,
  filters: SearchFilters,
  page: PageWindow = { offset: 0, limit: 0 },
): SQL {
  const col = sql`${products.searchText}`;
  const conditions: SQL[] = [sql`${products.status} = 'active'`];
  const scores: SQL[] = [];
  const likeOf = (text: string) => sql`${col} like ${`%${likeEscape(text)}%`}`;
  // The terms go as one array parameter, so the statement's text (its prepared shape) does not
  // depend on how many there are.
  const hasAnyTerm = (terms: readonly string[]) =>
    sql`${searchTermsOf(products.searchText)} && ${textArrayLiteral(terms)}::text[]`;
  // Whether some condition reads the terms index (see the sample below).
  let usesTerms = false;
  for (const word of words) {
    if (!word.indexed) {
      // A whole word (`orbit g2` is not `g20`): one of the product's terms, read off the
      // word-level GIN index (a trigram pattern needed the word-boundary trigrams and rechecks).
      const wholeWord = hasAnyTerm([word.text]);
      if (matches.get(word.text)?.kind === 'score-only') {
        scores.push(sql`case when ${wholeWord} then 1 else 0 end`);
      } else {
        conditions.push(wholeWord);
        usesTerms = true;
        scores.push(sql`1`);
      }
      continue;
    }
    const match = matches.get(word.text) ?? { kind: 'fuzzy', alternatives: [] };
    if (match.kind === 'exact') {
      const terms = match.terms?.length ? match.terms : undefined;
      conditions.push(terms ? hasAnyTerm(terms) : likeOf(word.text));
      usesTerms ||= terms !== undefined;
      scores.push(sql`1`);
    } else if (match.kind === 'score-only') {
      scores.push(sql`word_similarity(${word.text}, ${col})`);
    } else {
      const options = [
        ...(match.kind === 'exact-or-fuzzy' ? [{ word: word.text, similarity: 1 }] : []),
        ...match.alternatives,
      ];
      if (options.length === 0) {
        conditions.push(sql`false`);
        scores.push(sql`0`);
        continue;
      }
      conditions.push(
        sql`(${sql.join(
          options.map((option) => likeOf(option.word)),
          sql` or `,
        )})`,
      );
      scores.push(
        sql`case ${sql.join(
          options.map((option) => sql`when ${likeOf(option.word)} then ${option.similarity}::float8`),
          sql` `,
        )} else 0 end`,
      );
    }
  }
  if (filters.categoryPath !== undefined) {
    conditions.push(
      sql`${products.categoryId} in (select ${categories.id} from ${categories} where ${categories.path} like ${`${likeEscape(filters.categoryPath)}%`})`,
    );
  }
  if (filters.minPrice !== undefined) conditions.push(sql`${products.minPriceMinor} >= ${filters.minPrice}`);
  if (filters.maxPrice !== undefined) conditions.push(sql`${products.minPriceMinor} <= ${filters.maxPrice}`);
  // One row for the whole answer: the candidates ranked in SQL (score, then rating, then id), their
  // count, prices and facet buckets (the ancestor-or-self of each one's category at `facetSegment`
  // of the path, counted), and the products of the page asked for, in rank order, with their
  // category and variants (only the page's rows read a product). A row per candidate cost the
  // server more to receive and parse than the statement took to run.
  const first = page.offset;
  const last = page.offset + page.limit;
  const candidates = (sample: SQL | undefined) => sql`(
      select ${products.id} as id, ${products.categoryId} as "categoryId",
        ${products.minPriceMinor} as "priceMinor",
        (${sql.join(scores, sql` + `)})::float8 as score,
        coalesce(${products.ratingSum}::float8 / nullif(${products.ratingCount}, 0), -1) as rating
      from ${products}
      where ${sql.join(sample ? [...conditions, sample] : conditions, sql` and `)}
      limit ${CANDIDATE_CAP}
    )`;
  // With a terms condition, the sample sixteenth goes first, off its own small index: a word in
  // 46,000 titles fills the cap there from a ~2,900-entry bitmap instead of a 46,000-entry one
  // (build and sort: 12 → 2 ms). The rest of the catalog is only scanned when the sample had
  // fewer than CANDIDATE_CAP matches, i.e. when the full bitmap is small too.
  const c = usesTerms
    ? sql`${candidates(inSearchSample(products.id))} union all ${candidates(sql`not ${inSearchSample(products.id)}`)}
      limit ${CANDIDATE_CAP}`
    : candidates(undefined);
  return sql`with c as (${c}), ranked as (
      select c.*, row_number() over (order by c.score desc, c.rating desc, c.id) as rank from c
    ), placed as (
      select ranked.id, ranked.rank, ranked."priceMinor", own.name as own_name, own.slug_path as own_slug_path,
        bucket.id as bucket_id, bucket.name as bucket_name, bucket.name_ko as bucket_name_ko,
        bucket.slug_path as bucket_slug_path
      from ranked
      left join ${categories} own on own.id = ranked."categoryId"
      left join ${categories} bucket
        on bucket.id = nullif(split_part(own.path, '/', ${(filters.facetSegment ?? 1) + 1}::int), '')::uuid
    )
    select
      (select count(*) from placed)::int as matched,
      (select coalesce(json_agg(placed."priceMinor"), '[]'::json) from placed) as prices,
      (select coalesce(json_agg(json_build_object(
          'id', g.bucket_id, 'name', g.bucket_name, 'nameKo', g.bucket_name_ko, 'slugPath', g.bucket_slug_path,
          'count', g.n)), '[]'::json)
        from (
          select bucket_id, bucket_name, bucket_name_ko, bucket_slug_path, count(*)::int as n from placed
          where bucket_id is not null group by bucket_id, bucket_name, bucket_name_ko, bucket_slug_path
        ) g) as buckets,
      (select coalesce(json_agg((
          select json_build_object(
            'row', to_json(${products}), 'categoryName', placed.own_name,
            'categorySlugPath', placed.own_slug_path, 'variants', ${variantsJson}
          )
          from ${products} where ${products.id} = placed.id
        ) order by placed.rank), '[]'::json)
        from placed where placed.rank > ${first}::int and placed.rank <= ${last}::int) as page`;
}

type PageProductJson = {
  row: Record<string, unknown>;
  categoryName: string | null;
  categorySlugPath: string | null;
  variants: VariantJson[];
};

/** The one row of candidatesQuery (json columns may come back as text, depending on the driver). */
type HitsRow = {
  matched: number;
  prices: Array<string | number | null> | string;
  buckets: Array<FacetBucket & { count: number }> | string;
  page: PageProductJson[] | string;
};

/** A product of the page, as the search statement returns it (see candidatesQuery). */
export type PageProduct = ProductWithCategory & { variants: VariantJson[] };

const productRow = tableRowMapper(products);

const toPageProduct = (product: PageProductJson): PageProduct => ({
  ...productRow(product.row),
  categoryName: product.categoryName,
  categorySlugPath: product.categorySlugPath,
  variants: product.variants,
});

const json = <T>(value: T | string): T => (typeof value === 'string' ? JSON.parse(value) : value);

const toHits = (row: HitsRow): SearchHits => ({
  matched: Number(row.matched),
  prices: json(row.prices).map((price) => (price === null ? null : Number(price))),
  buckets: json(row.buckets).map(({ count, ...bucket }) => ({ bucket, count })),
  page: json(row.page).map(toPageProduct),
});

/**
 * The answer statement's text depends only on the query's shape (how many words, how each one
 * matches, which filters), its words and terms are parameters: prepared per shape, it skips
 * parsing and planning (measured on 1 M products: 3.3 → 1.8 ms for `x7`, 4.7 → 3.3 ms for
 * `wireless earbuds`). 64 shapes cover what searches ask (the bench's queries use about 20).
 */
const runSearchShape = shapePreparer('search', 64);

/** Which ranked candidates to return with their products (offset into the ranking, count). */
export interface PageWindow {
  readonly offset: number;
  readonly limit: number;
}

/** What a search found: its candidates summed up, and the products of the page asked for, in rank order. */
export interface SearchHits {
  /** Candidates retrieved (at most CANDIDATE_CAP). */
  readonly matched: number;
  /** Each candidate's lowest price (minor units), for the price facet. */
  readonly prices: ReadonlyArray<number | null>;
  /** The candidates counted by facet bucket (those under no bucket left out). */
  readonly buckets: ReadonlyArray<{ readonly bucket: FacetBucket; readonly count: number }>;
  readonly page: PageProduct[];
}

export const NO_HITS: SearchHits = { matched: 0, prices: [], buckets: [], page: [] };

/**
 * What the vocabulary says of one word: the words that contain it (at most CONTAINING_WORDS_CAP
 * + 1; none when no title has it) and its nearest words.
 */
export interface WordLookup {
  readonly containing: readonly string[];
  readonly nearest: ResolvedWord['alternatives'];
}

/** A row of resolveWordsQuery, as a driver returns it (json columns may come back as text). */
export interface WordLookupRow {
  readonly i: number;
  readonly containing: readonly string[] | string;
  readonly alternatives: ResolvedWord['alternatives'] | string;
}

/** The lookups of `texts` (in the order given to resolveWordsQuery) from its rows. */
export function wordLookupsOf(
  texts: readonly string[],
  rows: readonly WordLookupRow[],
): Map<string, WordLookup> {
  const found = new Map<string, WordLookup>();
  for (const row of rows) {
    const text = texts[Number(row.i)];
    if (text === undefined) continue;
    found.set(text, { containing: json(row.containing), nearest: json(row.alternatives) });
  }
  return found;
}

/** Looks words (3+ code points, distinct) up in the vocabulary in one statement (resolveWordsQuery). */
export async function lookUpWords(db: DbOrTx, texts: readonly string[]): Promise<Map<string, WordLookup>> {
  if (texts.length === 0) return new Map();
  return wordLookupsOf(texts, rowsOf<WordLookupRow>(await db.execute(resolveWordsQuery(texts))));
}

/** How the search resolves words: straight from the database, or through a cache of lookups. */
export type WordLookups = (texts: readonly string[]) => Promise<Map<string, WordLookup>>;

/** Every indexed word resolved: its vocabulary lookup, stand-ins filtered by isStandIn. */
export async function resolveWords(
  lookUp: WordLookups,
  words: readonly SearchWord[],
): Promise<Map<string, ResolvedWord>> {
  const indexed = words.filter((word) => word.indexed);
  const lookups = await lookUp(indexed.map((word) => word.text));
  const resolved = new Map<string, ResolvedWord>();
  for (const word of indexed) {
    const lookup = lookups.get(word.text);
    if (!lookup) continue;
    resolved.set(word.text, {
      exact: lookup.containing.length > 0,
      terms: lookup.containing.length <= CONTAINING_WORDS_CAP ? lookup.containing : undefined,
      alternatives: lookup.nearest.filter((candidate) => isStandIn(word, candidate)),
    });
  }
  return resolved;
}

/** How a word takes part in the first candidate query: as itself if some title has it, else by its stand-ins. */
export function firstMatchOf(word: ResolvedWord): WordMatch {
  return word.exact
    ? { kind: 'exact', terms: word.terms }
    : { kind: 'fuzzy', alternatives: word.alternatives };
}

/** Whether a correctly spelled word may still be swapped for a near spelling (4+ letters, no digit). */
function isWorthRespelling(text: string): boolean {
  return [...text].length >= 4 && !/\p{N}/u.test(text);
}

/**
 * The candidates, exact first: a word some title contains matches by substring, a misspelt one
 * by its nearest vocabulary words. Only when that finds nothing does a fallback run: with two or
 * more exact words and some misspelt ones, the exact words alone retrieve and the misspelt ones
 * only rank (a swapped Hangul syllable, `티빈지` for `빈티지`, shares almost no trigrams with any
 * word); otherwise every word may match itself or a stand-in, so a correctly spelled word can
 * still match a near miss. No transaction and no session settings: each statement stands alone.
 */
export async function findCandidates(
  db: DbOrTx,
  words: readonly SearchWord[],
  filters: SearchFilters,
  page: PageWindow,
  lookUp: WordLookups = (texts) => lookUpWords(db, texts),
): Promise<SearchHits> {
  const resolved = await resolveWords(lookUp, words);
  const run = async (
    matchOf: (resolvedWord: ResolvedWord, text: string) => WordMatch,
    shortWords: ReadonlyMap<string, WordMatch> = new Map(),
  ) => {
    const matches = new Map([
      ...shortWords,
      ...[...resolved].map(([text, resolvedWord]): [string, WordMatch] => [
        text,
        matchOf(resolvedWord, text),
      ]),
    ]);
    // A misspelt word with no stand-in can match nothing: no need to ask.
    if ([...matches.values()].some((match) => match.kind === 'fuzzy' && match.alternatives.length === 0))
      return NO_HITS;
    const [row] = await runSearchShape<HitsRow>(db, candidatesQuery(words, matches, filters, page));
    return row ? toHits(row) : NO_HITS;
  };
  const exactCount = [...resolved.values()].filter((word) => word.exact).length;
  const misspelt = resolved.size - exactCount;
  const short = words.filter((word) => !word.indexed);
  const first = await run(firstMatchOf);
  if (first.matched > 0 || exactCount === 0) return first;
  if ((misspelt > 0 || short.length > 0) && exactCount >= 2) {
    // A misspelt or cut-down word (`eo` for `eco`) no longer filters; it still ranks.
    return run(
      (word) => (word.exact ? { kind: 'exact', terms: word.terms } : { kind: 'score-only' }),
      new Map(short.map((word) => [word.text, { kind: 'score-only' }])),
    );
  }
  // Model codes (digits) and short words have near neighbours that are other products, not
  // spellings of the same thing (`n49` → `n48`, `n59`): they stay exact.
  return run((word, text) =>
    word.exact && !isWorthRespelling(text)
      ? { kind: 'exact', terms: word.terms }
      : { kind: 'exact-or-fuzzy', alternatives: word.alternatives },
  );
}

/**
 * Deletes the vocabulary words no active product has any more, in the caller's transaction. The
 * table lock (SHARE ROW EXCLUSIVE: reads go on, the trigger's inserts wait) comes first, so the
 * delete's snapshot sees every writer that added a word before it; without it a word re-used by a
 * product committed during the scan could be deleted and that product's word lost.
 */
export async function pruneSearchWords(tx: DbOrTx): Promise<number> {
  await tx.execute(sql`lock table ${searchWords} in share row exclusive mode`);
  // One pass over the active products (the live words are few, so the distinct set is small),
  // rather than one index probe per vocabulary word (a common word's probe reads a long list).
  const result = await tx.execute(sql`
    with live as materialized (
      select distinct w from ${products} p, caravan_search_words_of(p.search_text) as w
      where p.status = 'active'
    )
    delete from ${searchWords} s where not exists (select 1 from live where live.w = s.word)`);
  return (result as unknown as { rowCount?: number | null }).rowCount ?? 0;
}
