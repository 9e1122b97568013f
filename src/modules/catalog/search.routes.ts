import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { CatalogChanges } from './catalog-changes.ts';
import { createReadCache, type ReadCache } from './read-cache.ts';
import { SearchQuery, SearchResult } from './search.schemas.ts';
import { createSearchService } from './search.service.ts';

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

/** Keyword search over active products, with category and price-band facets. */
export function registerSearchRoutes(
  app: AppInstance,
  services: PlatformServices,
  changes: CatalogChanges,
): void {
  const search = createSearchService({ db: services.db, wordCache: wordCache(services, changes) });

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
    async (request) => search.search({ query: request.query }),
  );
}
