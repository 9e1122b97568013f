import type { CaravanModule } from '../../platform/module.ts';

export const currencyModule: CaravanModule = {
  name: 'currency',
};
