import type { CaravanModule } from '../../platform/module.ts';
import { seedCatalogCommand } from './catalog.generator.ts';
import { registerCatalogRoutes } from './catalog.routes.ts';
import { seedDemoCatalog } from './catalog.seed.ts';
import { pruneSearchWordsCron, pruneSearchWordsJob } from './search-words.jobs.ts';
import { purgeAbandonedUploadsCron, purgeAbandonedUploadsJob } from './upload-cleanup.jobs.ts';

export const catalogModule: CaravanModule = {
  name: 'catalog',
  jobs: [purgeAbandonedUploadsJob, pruneSearchWordsJob],
  crons: [purgeAbandonedUploadsCron, pruneSearchWordsCron],
  routes: registerCatalogRoutes,
  seed: seedDemoCatalog,
  commands: { 'seed-catalog': seedCatalogCommand },
};
