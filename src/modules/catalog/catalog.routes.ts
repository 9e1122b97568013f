import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { catalogChanges } from './catalog-changes.ts';
import { registerCategoryRoutes } from './categories.routes.ts';
import { registerMediaRoutes } from './media.routes.ts';
import { registerModelRoutes } from './models.routes.ts';
import { registerProductRoutes } from './products.routes.ts';
import { registerReviewRoutes } from './reviews.routes.ts';
import { registerSearchRoutes } from './search.routes.ts';

/** Every catalog route, one file per area (one line each below). */
export function registerCatalogRoutes(app: AppInstance, services: PlatformServices): void {
  const changes = catalogChanges(app, services);
  registerCategoryRoutes(app, services);
  registerProductRoutes(app, services, changes);
  registerReviewRoutes(app, services);
  registerModelRoutes(app, services);
  registerMediaRoutes(app, services);
  registerSearchRoutes(app, services, changes);
}
