import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { CatalogChanges } from './catalog-changes.ts';
import { SearchQuery, type SearchQueryValue, SearchResult } from './search.schemas.ts';
import { createSearchService, searchWords } from './search.service.ts';

/** Every input of a search, as the service reads it: `Café BUDS` and `cafe buds` share an entry. */
function resultKey(query: SearchQueryValue): string {
  return JSON.stringify([
    searchWords(query.q).map((word) => word.text),
    query.category ?? null,
    query.minPrice ?? null,
    query.maxPrice ?? null,
    query.limit ?? null,
    query.cursor ?? null,
  ]);
}

/** Keyword search over active products, with category and price-band facets. */
export function registerSearchRoutes(
  app: AppInstance,
  services: PlatformServices,
  changes: CatalogChanges,
): void {
  // Vocabulary lookups: a few hundred bytes per word, so many words fit in a small bound.
  const wordCache = changes.readCache('search_words', { maxEntries: 20_000, maxBytes: 8 * 1024 * 1024 });
  const search = createSearchService({ db: services.db, wordCache });
  // Answers, keyed by the normalised words and every other input: search is public and the same
  // for everyone, so popular queries are answered from memory until the catalog changes.
  const results = changes.readCache('search');

  app.get(
    '/api/search',
    {
      config: { access: access.public('the storefront searches active products') },
      schema: {
        tags: ['products'],
        summary: 'Ranked keyword search (typo- and substring-tolerant, English and Korean) with facets',
        querystring: SearchQuery,
        response: { 200: SearchResult },
      },
    },
    async (request, reply) => {
      if (!results) return search.search({ query: request.query });
      const body = await results.get(
        resultKey(request.query),
        async () => reply.serialize(await search.search({ query: request.query })) as string,
      );
      // Serialized by this route's own serializer: sent as is.
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
}
