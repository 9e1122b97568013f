import type { CaravanModule } from '../../platform/module.ts';
import { seedCatalogCommand } from './catalog.generator.ts';
import { registerCatalogRoutes } from './catalog.routes.ts';

export const catalogModule: CaravanModule = {
  name: 'catalog',
  routes: registerCatalogRoutes,
  commands: { 'seed-catalog': seedCatalogCommand },
};
