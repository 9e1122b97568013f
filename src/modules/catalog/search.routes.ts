import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { SearchQuery, SearchResult } from './search.schemas.ts';
import { createSearchService } from './search.service.ts';

/** Keyword search over active products, with category and price-band facets. */
export function registerSearchRoutes(app: AppInstance, services: PlatformServices): void {
  const search = createSearchService({ db: services.db });

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
