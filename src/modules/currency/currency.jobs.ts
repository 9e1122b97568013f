import Type from 'typebox';
import { defineCron, defineJob } from '../../platform/jobs/define-job.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { countRates } from './exchange-rates.repo.ts';
import { ExchangeRateProviderError } from './providers/exchange-rate-provider.port.ts';
import { exchangeRateProviderFor } from './providers/provider-for.ts';
import { syncExchangeRates } from './rate-sync.ts';

/**
 * Fetches the configured provider's rates and stores them (idempotent: a redelivery or a second run
 * writes nothing). A failed fetch throws, so pg-boss retries with backoff; the history file the
 * ECB adapter reads by default fills in any day a failed run missed.
 */
export const syncRatesJob = defineJob(
  'currency.sync-rates',
  Type.Object({}),
  async ({ services, logger }) => {
    const result = await syncExchangeRates({
      db: services.db,
      clock: services.clock,
      provider: exchangeRateProviderFor(services.config.currency),
    });
    logger.info({ ...result }, 'exchange rates synced');
  },
  { retryLimit: 6, retryDelaySeconds: 300, retryDelayMaxSeconds: 3600 },
);

/**
 * Daily at 15:30 UTC: the ECB publishes around 16:00 CET (15:00 UTC in winter, 14:00 UTC in
 * summer), so this runs after publication all year round.
 */
export const SYNC_RATES_CRON = '30 15 * * *';
export const syncRatesCron = defineCron('currency.sync-rates', SYNC_RATES_CRON, syncRatesJob, {});

/**
 * First start (and `caravan seed`): when the configured provider has no rates stored yet, sync
 * now so conversion works at once. Safe twice (nothing happens once rates exist). If the provider
 * is unreachable, start-up goes on and a job retries the sync in the background.
 */
export async function seedExchangeRates(services: PlatformServices): Promise<void> {
  const provider = exchangeRateProviderFor(services.config.currency);
  if ((await countRates(services.db, provider.name)) > 0) return;
  try {
    const result = await syncExchangeRates({ db: services.db, clock: services.clock, provider });
    services.logger.info({ ...result }, 'exchange rates loaded');
  } catch (error) {
    if (!(error instanceof ExchangeRateProviderError)) throw error;
    services.logger.warn(
      { err: error },
      'exchange rates unavailable at first start; retrying in the background',
    );
    await services.jobs.enqueue(services.db, syncRatesJob, {});
  }
}
