import type { CaravanModule } from '../../platform/module.ts';
import { seedExchangeRates, syncRatesCron, syncRatesJob } from './currency.jobs.ts';
import { registerCurrencyRoutes } from './currency.routes.ts';

export { syncRatesCron, syncRatesJob } from './currency.jobs.ts';
export {
  createExchangeRatesService,
  type ExchangeRatesService,
  type RateQuote,
} from './exchange-rates.service.ts';
export { createEcbProvider } from './providers/ecb.provider.ts';
export {
  type ExchangeRateProvider,
  ExchangeRateProviderError,
  type RateSet,
} from './providers/exchange-rate-provider.port.ts';
export { createLocalProvider } from './providers/local.provider.ts';
export { exchangeRateProviderFor } from './providers/provider-for.ts';
export { convertMinor, type Ratio, roundHalfEven, toDecimalString } from './rate-math.ts';
export { type SyncResult, syncExchangeRates } from './rate-sync.ts';

export const currencyModule: CaravanModule = {
  name: 'currency',
  jobs: [syncRatesJob],
  crons: [syncRatesCron],
  routes: registerCurrencyRoutes,
  seed: seedExchangeRates,
};
