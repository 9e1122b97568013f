import { parseEcbXml } from './ecb-xml.ts';
import {
  type ExchangeRateProvider,
  ExchangeRateProviderError,
  type RateSet,
} from './exchange-rate-provider.port.ts';

/** The whole ECB history since 1999 is about 7 MB; anything far larger is not a rates file. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * The European Central Bank's euro reference rates, published once per TARGET working day around
 * 16:00 CET (https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/).
 * `url` is the daily file (one day) or a history file (eurofxref-hist-90d.xml, 90 days; the
 * default, so a sync that missed days fills them in). Every rate is EUR-based.
 */
export function createEcbProvider(options: { url: string; timeoutMs?: number }): ExchangeRateProvider {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: 'ecb',
    async fetchRates(): Promise<RateSet[]> {
      let body: string;
      try {
        const response = await fetch(options.url, {
          signal: AbortSignal.timeout(timeoutMs),
          headers: { accept: 'application/xml, text/xml' },
          redirect: 'follow',
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new ExchangeRateProviderError(`ECB answered HTTP ${response.status} for ${options.url}`);
        }
        const declared = Number(response.headers.get('content-length') ?? 0);
        if (declared > MAX_BODY_BYTES) {
          await response.body?.cancel();
          throw new ExchangeRateProviderError(
            `ECB sent ${declared} bytes; refusing more than ${MAX_BODY_BYTES}`,
          );
        }
        body = await response.text();
      } catch (error) {
        if (error instanceof ExchangeRateProviderError) throw error;
        const reason =
          error instanceof Error && error.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : error instanceof Error
              ? error.message
              : String(error);
        throw new ExchangeRateProviderError(`ECB rates could not be fetched from ${options.url}: ${reason}`, {
          cause: error,
        });
      }
      if (body.length > MAX_BODY_BYTES) {
        throw new ExchangeRateProviderError(`ECB sent more than ${MAX_BODY_BYTES} bytes`);
      }
      return parseEcbXml(body);
    },
  };
}
