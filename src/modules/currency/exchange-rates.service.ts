import { recordAudit } from '../../platform/audit/audit.ts';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { minorToDecimalString, minorUnitExponent } from '../../platform/money/money.ts';
import type { ConversionView, HistoryEntryView, ManualRateView, RateTableView } from './currency.schemas.ts';
import { addDays, daysBetween, utcDay } from './dates.ts';
import {
  deleteRate,
  type ExchangeRateRow,
  findRate,
  latestRatesOnOrBefore,
  ratesBetween,
  upsertRates,
} from './exchange-rates.repo.ts';
import {
  CURRENCY_CODE,
  type ExchangeRateProvider,
  ExchangeRateProviderError,
  isIsoDate,
  isPositiveRate,
} from './providers/exchange-rate-provider.port.ts';
import {
  createRateBook,
  MANUAL_SOURCE,
  type ResolvedRate,
  type SourceRank,
  sourceRank,
} from './rate-book.ts';
import { convertMinor, type Ratio, toDecimalString } from './rate-math.ts';
import { type SyncResult, syncExchangeRates } from './rate-sync.ts';

registerErrorCodes({
  /** No stored rate connects the two currencies on or before the day (or a code nobody quotes). */
  rate_not_found: 404,
  /** The converted amount would not be a safe integer. */
  conversion_out_of_range: 422,
  /** The exchange-rate provider failed or sent something refused; nothing was stored. */
  rate_provider_unavailable: 502,
});

/** History answers at most this many days at once. */
export const MAX_HISTORY_DAYS = 366;
const DEFAULT_HISTORY_DAYS = 90;

export interface Actor {
  readonly userId: string;
}

/** A rate between two currencies on a day, for other modules (display prices, reports). */
export interface RateQuote {
  readonly from: string;
  readonly to: string;
  /** Exact units of `to` per unit of `from`. */
  readonly rate: Ratio;
  readonly asOf: string;
  readonly source: string;
}

export interface ExchangeRatesService {
  /** The rate in force on `date` (default today); throws `rate_not_found`. */
  rate(options: { from: string; to: string; date?: string | undefined }): Promise<RateQuote>;
  /** Every currency reachable from `base`, as of `date`. */
  table(options: { base: string; date?: string | undefined }): Promise<RateTableView>;
  history(options: {
    base: string;
    quote: string;
    from?: string | undefined;
    to?: string | undefined;
  }): Promise<HistoryEntryView[]>;
  /** For display only: charges are always made in the listing's own currency. */
  convert(options: {
    amountMinor: number;
    from: string;
    to: string;
    date?: string | undefined;
    locale?: string | undefined;
  }): Promise<ConversionView>;
  setManualRate(options: {
    actor: Actor;
    base: string;
    quote: string;
    rate: string;
    asOf?: string | undefined;
    requestId?: string;
  }): Promise<ManualRateView>;
  removeManualRate(options: {
    actor: Actor;
    base: string;
    quote: string;
    asOf: string;
    requestId?: string;
  }): Promise<void>;
  /** Runs a provider sync now; `rate_provider_unavailable` (502) when the provider fails. */
  sync(): Promise<SyncResult>;
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', message, { fields: [{ field, message }] });
}

function checkCurrency(field: string, code: string): void {
  if (!CURRENCY_CODE.test(code)) throw invalid(field, 'must be an ISO 4217 code (three upper-case letters)');
}

function checkDay(field: string, day: string | undefined): void {
  if (day !== undefined && !isIsoDate(day)) throw invalid(field, 'must be a calendar day, YYYY-MM-DD');
}

const rateNotFound = (from: string, to: string, date: string) =>
  new AppError('rate_not_found', `No exchange rate from ${from} to ${to} on or before ${date}`, {
    details: { from, to, date },
  });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Shows exactly the currency's minor digits (ours, not ICU's: they differ for a few currencies). */
function displayFormatter(locale: string, currency: string): Intl.NumberFormat {
  let locales: string[];
  try {
    locales = Intl.getCanonicalLocales(locale);
  } catch {
    throw invalid('querystring.locale', 'must be a BCP 47 locale such as en-US or ko-KR');
  }
  const digits = minorUnitExponent(currency);
  return new Intl.NumberFormat(locales, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function manualView(row: ExchangeRateRow): ManualRateView {
  return {
    base: row.base,
    quote: row.quote,
    asOf: row.asOf,
    rate: trimRate(row.rate),
    source: MANUAL_SOURCE,
    fetchedAt: row.fetchedAt,
  };
}

/** numeric(24, 12) reads back as "1450.120000000000": shown without the padding. */
function trimRate(rate: string): string {
  return rate.includes('.') ? rate.replace(/\.?0+$/, '') : rate;
}

/**
 * Exchange rates: conversion, tables, history, staff overrides and syncs. Reads resolve paths in
 * memory over the rows in force (`rate-book.ts`); amounts are converted with exact fractions and
 * rounded half-to-even once.
 */
export function createExchangeRatesService({
  db,
  clock,
  provider,
}: {
  db: Db;
  clock: Clock;
  provider: ExchangeRateProvider;
}): ExchangeRatesService {
  const rank: SourceRank = sourceRank(provider.name);
  const today = () => utcDay(clock.now());

  async function resolve(from: string, to: string, date: string): Promise<ResolvedRate | null> {
    const rows = await latestRatesOnOrBefore(db, {
      date,
      providerName: provider.name,
      currencies: [from, to],
    });
    return createRateBook(rank, rows).resolve(from, to);
  }

  async function rate({ from, to, date }: { from: string; to: string; date?: string | undefined }) {
    checkCurrency('querystring.from', from);
    checkCurrency('querystring.to', to);
    checkDay('querystring.date', date);
    const day = date ?? today();
    if (from === to) return { from, to, rate: { num: 1n, den: 1n }, asOf: day, source: 'identity' };
    const resolved = await resolve(from, to, day);
    if (!resolved) throw rateNotFound(from, to, day);
    return { from, to, rate: resolved.rate, asOf: resolved.asOf, source: resolved.source };
  }

  return {
    rate,

    async table({ base, date }) {
      checkCurrency('querystring.base', base);
      checkDay('querystring.date', date);
      const day = date ?? today();
      const book = createRateBook(
        rank,
        await latestRatesOnOrBefore(db, { date: day, providerName: provider.name }),
      );
      const rates: Record<string, string> = {};
      let asOf = '';
      const sources = new Set<string>();
      for (const quote of book.currencies()) {
        const resolved = book.resolve(base, quote);
        if (!resolved) continue;
        rates[quote] = toDecimalString(resolved.rate);
        if (resolved.asOf > asOf) asOf = resolved.asOf;
        for (const source of resolved.source.split('+')) sources.add(source);
      }
      if (Object.keys(rates).length === 0) {
        throw new AppError('rate_not_found', `No exchange rates for ${base} on or before ${day}`, {
          details: { base, date: day },
        });
      }
      return { base, asOf, source: [...sources].sort().join('+'), rates };
    },

    async history({ base, quote, from, to }) {
      checkCurrency('querystring.base', base);
      checkCurrency('querystring.quote', quote);
      checkDay('querystring.from', from);
      checkDay('querystring.to', to);
      const last = to ?? today();
      const first = from ?? addDays(last, -(DEFAULT_HISTORY_DAYS - 1));
      if (first > last) throw invalid('querystring.from', 'must not be after `to`');
      if (daysBetween(first, last) + 1 > MAX_HISTORY_DAYS) {
        throw invalid('querystring.from', `at most ${MAX_HISTORY_DAYS} days at once`);
      }
      if (base === quote) throw invalid('querystring.quote', 'must differ from base');
      const currencies = [base, quote];
      const [before, within] = await Promise.all([
        latestRatesOnOrBefore(db, { date: addDays(first, -1), providerName: provider.name, currencies }),
        ratesBetween(db, { from: first, to: last, currencies }),
      ]);
      const book = createRateBook(rank, before);
      const entries: HistoryEntryView[] = [];
      // `within` is oldest first; the book keeps, per pair, the newest row and on its day the preferred source.
      for (let index = 0; index < within.length; ) {
        const day = within[index]!.asOf;
        for (; index < within.length && within[index]!.asOf === day; index++) book.put(within[index]!);
        const resolved = book.resolve(base, quote);
        // A day counts when a rate the answer uses is dated that day; other pairs' days do not.
        if (resolved?.legs.some((leg) => leg.asOf === day)) {
          entries.push({ asOf: day, rate: toDecimalString(resolved.rate), source: resolved.source });
        }
      }
      return entries;
    },

    async convert({ amountMinor, from, to, date, locale = 'en-US' }) {
      checkCurrency('querystring.from', from);
      checkCurrency('querystring.to', to);
      if (!Number.isSafeInteger(amountMinor)) throw invalid('querystring.amountMinor', 'must be an integer');
      const formatter = displayFormatter(locale, to);
      const quote = await rate({ from, to, date });
      const converted = convertMinor(BigInt(amountMinor), quote.rate, from, to);
      if (converted > MAX_SAFE || converted < -MAX_SAFE) {
        throw new AppError('conversion_out_of_range', 'The converted amount is too large to represent', {
          details: { from, to, amountMinor },
        });
      }
      const convertedMinor = Number(converted);
      // A decimal string keeps Intl exact however large the amount (no float on the way).
      const display = formatter.format(minorToDecimalString(convertedMinor, to) as Intl.StringNumericLiteral);
      return {
        from,
        to,
        amountMinor,
        convertedMinor,
        rate: toDecimalString(quote.rate),
        asOf: quote.asOf,
        source: quote.source,
        display,
      };
    },

    async setManualRate({ actor, base, quote, rate: value, asOf, requestId }) {
      checkCurrency('params.base', base);
      checkCurrency('params.quote', quote);
      checkDay('body.asOf', asOf);
      if (base === quote) throw invalid('params.quote', 'must differ from base');
      if (!isPositiveRate(value)) {
        throw invalid(
          'body.rate',
          'must be a positive decimal with at most 12 digits before and after the point',
        );
      }
      const day = asOf ?? today();
      if (day > today()) throw invalid('body.asOf', 'must not be in the future');
      const key = { source: MANUAL_SOURCE, base, quote, asOf: day };
      return db.transaction(async (tx) => {
        const before = await findRate(tx, key);
        await upsertRates(tx, [{ ...key, rate: value, fetchedAt: clock.now() }]);
        const after = await findRate(tx, key);
        if (!after) throw new Error('the manual rate vanished inside its own transaction');
        await recordAudit(tx, {
          actorId: actor.userId,
          action: 'exchange_rate.set',
          targetType: 'exchange_rate',
          targetId: `${base}/${quote}/${day}`,
          before: before ? { rate: trimRate(before.rate) } : null,
          after: { rate: trimRate(after.rate), source: MANUAL_SOURCE },
          requestId: requestId ?? null,
        });
        return manualView(after);
      });
    },

    async removeManualRate({ actor, base, quote, asOf, requestId }) {
      checkCurrency('params.base', base);
      checkCurrency('params.quote', quote);
      checkDay('querystring.asOf', asOf);
      const key = { source: MANUAL_SOURCE, base, quote, asOf };
      await db.transaction(async (tx) => {
        const before = await findRate(tx, key);
        if (!before) {
          throw new AppError('rate_not_found', `No staff rate ${base}/${quote} on ${asOf}`, {
            details: { base, quote, asOf },
          });
        }
        await deleteRate(tx, key);
        await recordAudit(tx, {
          actorId: actor.userId,
          action: 'exchange_rate.remove',
          targetType: 'exchange_rate',
          targetId: `${base}/${quote}/${asOf}`,
          before: { rate: trimRate(before.rate), source: MANUAL_SOURCE },
          after: null,
          requestId: requestId ?? null,
        });
      });
    },

    async sync() {
      try {
        return await syncExchangeRates({ db, clock, provider });
      } catch (error) {
        if (!(error instanceof ExchangeRateProviderError)) throw error;
        throw new AppError('rate_provider_unavailable', error.message, { cause: error });
      }
    },
  };
}
