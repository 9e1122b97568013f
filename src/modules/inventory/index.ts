import type { CaravanModule } from '../../platform/module.ts';

export const inventoryModule: CaravanModule = {
  name: 'inventory',
};
