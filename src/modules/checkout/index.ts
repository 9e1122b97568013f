import type { CaravanModule } from '../../platform/module.ts';

export const checkoutModule: CaravanModule = {
  name: 'checkout',
};
