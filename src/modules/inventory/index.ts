import type { CaravanModule } from '../../platform/module.ts';
import { expireHoldsCron, expireHoldsJob } from './inventory.jobs.ts';
import { registerInventoryRoutes } from './inventory.routes.ts';
import { seedInventory } from './inventory.seed.ts';

export { availableQuantities } from './availability.ts';
export { outOfStock, type ShortLine } from './inventory.errors.ts';
export {
  type ExpiredHoldsReport,
  expireHoldsCron,
  expireHoldsJob,
  releaseExpiredHolds,
} from './inventory.jobs.ts';
export { createInventoryService, type InventoryService } from './inventory.service.ts';
export { adjustStock, receiveStock, returnStock, type StockChange } from './stock-changes.ts';
export {
  holdStock,
  type ReleaseReason,
  releaseHolds,
  type SellResult,
  type StockLine,
  sellHeldStock,
} from './stock-holds.ts';

export const inventoryModule: CaravanModule = {
  name: 'inventory',
  jobs: [expireHoldsJob],
  crons: [expireHoldsCron],
  routes: registerInventoryRoutes,
  seed: seedInventory,
};
