import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { registerCategoryRoutes } from './categories.routes.ts';
import { registerProductRoutes } from './products.routes.ts';

/** Every catalog route, one file per area (one line each below). */
export function registerCatalogRoutes(app: AppInstance, services: PlatformServices): void {
  registerCategoryRoutes(app, services);
  registerProductRoutes(app, services);
}
