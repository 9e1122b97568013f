import type { CaravanModule } from '../../platform/module.ts';
import { seedCatalogCommand } from './catalog.generator.ts';
import { registerCatalogRoutes } from './catalog.routes.ts';
import { seedDemoCatalog } from './catalog.seed.ts';

export const catalogModule: CaravanModule = {
  name: 'catalog',
  routes: registerCatalogRoutes,
  seed: seedDemoCatalog,
  commands: { 'seed-catalog': seedCatalogCommand },
};
