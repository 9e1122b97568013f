import type { CaravanModule } from '../../platform/module.ts';

export const cartModule: CaravanModule = {
  name: 'cart',
};
