import type { CaravanModule } from '../../platform/module.ts';

export const ordersModule: CaravanModule = {
  name: 'orders',
};
