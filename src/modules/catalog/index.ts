import type { CaravanModule } from '../../platform/module.ts';
import { registerCatalogRoutes } from './catalog.routes.ts';

export const catalogModule: CaravanModule = {
  name: 'catalog',
  routes: registerCatalogRoutes,
};
