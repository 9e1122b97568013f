import type { ExchangeRateProvider, RateSet } from './exchange-rate-provider.port.ts';

/**
 * Bundled EUR reference rates so conversion works offline and on a fresh install. Values are
 * rounded approximations of late-2025 market rates (the ECB's list, plus PKR, which the ECB does
 * not publish), dated to when the table was compiled: not an official fixing of that day. Staff
 * override any pair (`PUT /api/admin/exchange-rates/:base/:quote`), or set
 * EXCHANGE_RATES_PROVIDER=ecb for the real daily rates.
 */
export const LOCAL_RATES: RateSet = Object.freeze({
  base: 'EUR',
  asOf: '2025-11-20',
  rates: Object.freeze({
    AUD: '1.7810',
    BRL: '6.1530',
    CAD: '1.6215',
    CHF: '0.9270',
    CNY: '8.2140',
    CZK: '24.180',
    DKK: '7.4605',
    GBP: '0.8800',
    HKD: '8.9950',
    HUF: '385.10',
    IDR: '19310.00',
    ILS: '3.7820',
    INR: '102.55',
    ISK: '146.50',
    JPY: '181.40',
    KRW: '1692.50',
    MXN: '21.230',
    MYR: '4.8050',
    NOK: '11.7350',
    NZD: '2.0510',
    PHP: '68.020',
    PKR: '325.50',
    PLN: '4.2430',
    RON: '5.0850',
    SEK: '10.9450',
    SGD: '1.5055',
    THB: '37.520',
    TRY: '48.950',
    USD: '1.1555',
    ZAR: '20.010',
  }),
});

/** The bundled table as a provider: the same one day every time, so a daily sync stores it once. */
export function createLocalProvider(): ExchangeRateProvider {
  return {
    name: 'local',
    fetchRates: async () => [LOCAL_RATES],
  };
}
