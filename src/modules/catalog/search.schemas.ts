import Type, { type Static } from 'typebox';
import { Product } from './products.schemas.ts';

export const SearchQuery = Type.Object({
  q: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'Keywords; each word may carry one typo and may be part of a word (`buds` finds earbuds)',
    examples: ['wireles earbuds', '무선 이어폰'],
  }),
  category: Type.Optional(
    Type.String({
      description: 'Category id or slug path; includes its whole subtree',
      examples: ['electronics'],
    }),
  ),
  minPrice: Type.Optional(Type.Integer({ minimum: 0, description: 'Lowest price, minor units' })),
  maxPrice: Type.Optional(Type.Integer({ minimum: 0, description: 'Highest price, minor units' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'nextCursor of the previous page' })),
});

const CategoryFacet = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  nameKo: Type.Union([Type.String(), Type.Null()]),
  slugPath: Type.String(),
  count: Type.Integer({ minimum: 0 }),
});

const PriceBandFacet = Type.Object({
  minPrice: Type.Integer({ minimum: 0, description: 'Inclusive, minor units' }),
  maxPrice: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Exclusive; null for the open top band',
  }),
  count: Type.Integer({ minimum: 0 }),
});

export const SearchResult = Type.Object(
  {
    items: Type.Array(Product),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as ?cursor= for the next page; null on the last page',
    }),
    matched: Type.Integer({
      minimum: 0,
      description: 'Matches ranked (at most 200: retrieval stops there, see `capped`)',
    }),
    capped: Type.Boolean({
      description: 'true when retrieval stopped at the cap: more products match than were ranked',
    }),
    facets: Type.Object(
      {
        categories: Type.Array(CategoryFacet, {
          description: 'Top-level categories, or the direct children of the filtered category',
        }),
        priceBands: Type.Array(PriceBandFacet),
      },
      { description: 'Counts over the ranked matches (the top 200 at most), with the filters applied' },
    ),
  },
  {
    examples: [
      {
        items: [],
        nextCursor: null,
        matched: 0,
        capped: false,
        facets: {
          categories: [],
          priceBands: [{ minPrice: 0, maxPrice: 10000, count: 0 }],
        },
      },
    ],
  },
);

export type SearchQueryValue = Static<typeof SearchQuery>;
export type SearchResultView = Static<typeof SearchResult>;
