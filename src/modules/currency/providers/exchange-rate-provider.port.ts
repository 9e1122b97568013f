/**
 * One day's reference rates from a provider: `1 base = rates[quote] quote` on `asOf`. Rates are
 * decimal strings (never floats) so they reach the database exactly as the provider published them.
 */
export interface RateSet {
  readonly base: string;
  /** YYYY-MM-DD, the day the provider's rates are for (not when we fetched them). */
  readonly asOf: string;
  /** quote → decimal string, e.g. `{ USD: '1.0812', KRW: '1461.85' }`. */
  readonly rates: Readonly<Record<string, string>>;
}

/**
 * What every exchange-rate source is reduced to. `name` is the `source` the rates are stored
 * under; `fetchRates` returns every day the source offers (one for a daily file, many for a
 * history file), and throws `ExchangeRateProviderError` when it cannot give a trustworthy answer.
 */
export interface ExchangeRateProvider {
  readonly name: string;
  fetchRates(): Promise<RateSet[]>;
}

/** The provider could not be reached, answered an error, or sent something we refuse to store. */
export class ExchangeRateProviderError extends Error {
  override readonly name = 'ExchangeRateProviderError';
}

/** ISO 4217 alphabetic codes: three upper-case letters. */
export const CURRENCY_CODE = /^[A-Z]{3}$/;

/**
 * A positive decimal that fits `exchange_rates.rate` (numeric(24, 12)): up to 12 integer digits
 * and 12 decimals, no sign, no exponent.
 */
export const RATE_DECIMAL = /^\d{1,12}(?:\.\d{1,12})?$/;

export function isPositiveRate(value: string): boolean {
  return RATE_DECIMAL.test(value) && /[1-9]/.test(value);
}

/** A real calendar day written YYYY-MM-DD (2026-02-30 is not one). */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === value;
}
