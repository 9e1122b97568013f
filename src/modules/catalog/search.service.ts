import type { Db } from '../../platform/db/types.ts';
import { AppError } from '../../platform/errors/index.ts';
import { invalidCursor } from '../../platform/http/keyset-cursor.ts';
import { resolveCategory } from './categories.service.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { viewsWithVariants } from './products.service.ts';
import type { ReadCache } from './read-cache.ts';
import {
  CANDIDATE_CAP,
  findCandidates,
  NO_HITS,
  type SearchFilters,
  type SearchWord,
} from './search.repo.ts';
import type { SearchQueryValue, SearchResultView } from './search.schemas.ts';
import { cachedWordLookups } from './word-lookups.ts';

/** Price bands of the facet, in minor units: [min, max) with the last one open. */
export const PRICE_BANDS: ReadonlyArray<{ readonly min: number; readonly max: number | null }> = [
  { min: 0, max: 10_000 },
  { min: 10_000, max: 50_000 },
  { min: 50_000, max: 100_000 },
  { min: 100_000, max: 500_000 },
  { min: 500_000, max: null },
];

const MAX_WORDS = 8;
const DEFAULT_LIMIT = 20;
const CURSOR_SORT = 'search';

/**
 * The words of a query, normalised exactly like `products.search_text`: NFKC (full-width forms),
 * lower case, NFKD (Hangul syllables → jamo, accents split off), combining marks dropped; split
 * on anything that is not a letter or digit. Duplicates go; at most MAX_WORDS are kept.
 */
export function searchWords(query: string): SearchWord[] {
  const normalised = query.normalize('NFKC').toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '');
  const words = [...new Set(normalised.split(/[^\p{L}\p{N}]+/u).filter(Boolean))].slice(0, MAX_WORDS);
  return words.map((text) => ({ text, indexed: [...text].length >= 3 }));
}

export interface SearchService {
  search(options: { query: SearchQueryValue }): Promise<SearchResultView>;
}

export function createSearchService(deps: {
  db: Db;
  /** Vocabulary lookups through the catalog's word cache; straight from the database without. */
  wordCache?: ReadCache | undefined;
}): SearchService {
  const { db } = deps;
  const lookUp = deps.wordCache ? cachedWordLookups(db, deps.wordCache) : undefined;
  return {
    async search({ query }) {
      const limit = query.limit ?? DEFAULT_LIMIT;
      const offset = query.cursor === undefined ? 0 : decodeOffset(query.cursor);
      const words = searchWords(query.q);
      const filters: { -readonly [K in keyof SearchFilters]: SearchFilters[K] } = {
        minPrice: query.minPrice,
        maxPrice: query.maxPrice,
      };
      // The facet counts by top-level category, or by direct child of the filtered category
      // (products filed in the filtered category itself are under no child and left out):
      // `path` is `/a/b/c/`, so the ancestor at depth d is segment d + 1.
      filters.facetSegment = 1;
      if (query.category !== undefined) {
        const category = await resolveCategory(db, query.category);
        if (!category) throw new AppError('not_found', 'No such category');
        filters.categoryPath = category.path;
        filters.facetSegment = category.depth + 2;
      }
      const hits =
        words.length === 0 ? NO_HITS : await findCandidates(db, words, filters, { offset, limit }, lookUp);
      const items = viewsWithVariants(hits.page);
      const last = hits.page.at(-1);
      const nextCursor =
        last && offset + limit < hits.matched
          ? encodeCursor({ sort: CURSOR_SORT, key: String(offset + limit), id: last.id })
          : null;

      return {
        items,
        nextCursor,
        matched: hits.matched,
        capped: hits.matched >= CANDIDATE_CAP,
        facets: {
          categories: [...hits.buckets]
            .map(({ bucket, count }) => ({ ...bucket, count }))
            .sort((a, b) => b.count - a.count || a.slugPath.localeCompare(b.slugPath)),
          priceBands: PRICE_BANDS.map((band) => ({
            minPrice: band.min,
            maxPrice: band.max,
            count: hits.prices.filter(
              (price) => price !== null && price >= band.min && (band.max === null || price < band.max),
            ).length,
          })),
        },
      };
    },
  };
}

function decodeOffset(cursor: string): number {
  const decoded = decodeCursor(cursor, CURSOR_SORT);
  const offset = Number(decoded.key);
  if (!Number.isInteger(offset) || offset < 0 || offset >= CANDIDATE_CAP) {
    throw invalidCursor('The cursor is not one this search gave out');
  }
  return offset;
}
