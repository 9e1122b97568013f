import type { Config } from '../../../platform/config/config.ts';
import { createEcbProvider } from './ecb.provider.ts';
import type { ExchangeRateProvider } from './exchange-rate-provider.port.ts';
import { createLocalProvider } from './local.provider.ts';

/** The provider EXCHANGE_RATES_PROVIDER selects: the bundled table (default) or the ECB. */
export function exchangeRateProviderFor(config: Config['currency']): ExchangeRateProvider {
  return config.provider === 'ecb' ? createEcbProvider({ url: config.ecbUrl }) : createLocalProvider();
}
