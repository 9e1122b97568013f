import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { CatalogChanges } from './catalog-changes.ts';
import { createReadCache, type ReadCache } from './read-cache.ts';
import { SearchQuery, type SearchQueryValue, SearchResult } from './search.schemas.ts';
import { createSearchService, searchWords } from './search.service.ts';

/**
 * Vocabulary lookups of search words (CATALOG_CACHE_*, like the listing cache): a few hundred
 * bytes per word, so many words fit in a small bound.
 */
function wordCache(services: PlatformServices, changes: CatalogChanges): ReadCache | undefined {
  const settings = services.config.catalog.readCache;
  if (!settings.enabled) return undefined;
  const cache = createReadCache({
    name: 'search_words',
    settings: { maxAgeMs: settings.maxAgeSeconds * 1000, maxEntries: 20_000, maxBytes: 8 * 1024 * 1024 },
    metrics: services.metrics,
  });
  changes.follow(cache.handlers);
  return cache;
}

/**
 * Search answers (same switch and bounds as the listing cache), keyed by the normalised words and
 * every other input: popular queries are answered from memory until the catalog changes. Search
 * is public and the same for everyone.
 */
function resultCache(services: PlatformServices, changes: CatalogChanges): ReadCache | undefined {
  const settings = services.config.catalog.readCache;
  if (!settings.enabled) return undefined;
  const cache = createReadCache({
    name: 'search',
    settings: {
      maxAgeMs: settings.maxAgeSeconds * 1000,
      maxEntries: settings.maxEntries,
      maxBytes: settings.maxBytes,
    },
    metrics: services.metrics,
  });
  changes.follow(cache.handlers);
  return cache;
}

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
  const search = createSearchService({ db: services.db, wordCache: wordCache(services, changes) });
  const results = resultCache(services, changes);

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
