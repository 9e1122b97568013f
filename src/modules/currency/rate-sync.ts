import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { type NewRate, upsertRates } from './exchange-rates.repo.ts';
import {
  CURRENCY_CODE,
  type ExchangeRateProvider,
  ExchangeRateProviderError,
  isIsoDate,
  isPositiveRate,
  type RateSet,
} from './providers/exchange-rate-provider.port.ts';
import { MANUAL_SOURCE } from './rate-book.ts';

export interface SyncResult {
  readonly provider: string;
  /** Days the provider sent. */
  readonly days: number;
  /** Rates the provider sent (over all days). */
  readonly rates: number;
  readonly inserted: number;
  /** Rates the provider revised for a day already stored. */
  readonly updated: number;
  readonly unchanged: number;
  /** The newest day sent; null when the provider sent none. */
  readonly latestAsOf: string | null;
}

/**
 * Checks a provider's answer as untrusted input and flattens it into rows, in key order. One bad
 * value refuses the whole answer (nothing is written), as does a day that appears twice.
 */
export function rowsFromRateSets(source: string, sets: readonly RateSet[], fetchedAt: Date): NewRate[] {
  if (source === MANUAL_SOURCE)
    throw new ExchangeRateProviderError(`"${MANUAL_SOURCE}" is reserved for staff rates`);
  const rows: NewRate[] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    const where = `${source} ${set.base} ${set.asOf}`;
    if (!CURRENCY_CODE.test(set.base))
      throw new ExchangeRateProviderError(`${where}: base is not an ISO 4217 code`);
    if (!isIsoDate(set.asOf)) throw new ExchangeRateProviderError(`${where}: asOf is not a YYYY-MM-DD date`);
    if (seen.has(`${set.base}/${set.asOf}`))
      throw new ExchangeRateProviderError(`${where}: the day appears twice`);
    seen.add(`${set.base}/${set.asOf}`);
    for (const [quote, rate] of Object.entries(set.rates)) {
      if (!CURRENCY_CODE.test(quote) || quote === set.base) {
        throw new ExchangeRateProviderError(`${where}: "${quote}" is not a quote currency`);
      }
      if (!isPositiveRate(rate))
        throw new ExchangeRateProviderError(`${where}: ${quote} rate "${rate}" is invalid`);
      rows.push({ source, base: set.base, quote, asOf: set.asOf, rate, fetchedAt });
    }
  }
  const key = (row: NewRate) => `${row.asOf}/${row.base}/${row.quote}`;
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * Fetches every day the provider offers and stores it under the provider's name, in one
 * transaction: a failed fetch or a refused answer writes nothing; days already stored with the
 * same rates are left alone (a second run changes nothing); older days are never deleted.
 * Throws ExchangeRateProviderError when the provider fails.
 */
export async function syncExchangeRates({
  db,
  clock,
  provider,
}: {
  db: Db;
  clock: Clock;
  provider: ExchangeRateProvider;
}): Promise<SyncResult> {
  const sets = await provider.fetchRates();
  const rows = rowsFromRateSets(provider.name, sets, clock.now());
  const { inserted, updated } =
    rows.length === 0 ? { inserted: 0, updated: 0 } : await db.transaction((tx) => upsertRates(tx, rows));
  return {
    provider: provider.name,
    days: sets.length,
    rates: rows.length,
    inserted,
    updated,
    unchanged: rows.length - inserted - updated,
    latestAsOf: sets
      .map((set) => set.asOf)
      .reduce<string | null>((a, b) => (a === null || b > a ? b : a), null),
  };
}
