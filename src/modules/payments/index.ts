import type { CaravanModule } from '../../platform/module.ts';

export const paymentsModule: CaravanModule = {
  name: 'payments',
};
