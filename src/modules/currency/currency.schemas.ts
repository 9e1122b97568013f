import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';

type StringOptions = Parameters<typeof Type.String>[0];

const currencyCode = (options: StringOptions = {}) =>
  Type.String({
    pattern: '^[A-Z]{3}$',
    description: 'ISO 4217 alphabetic code, upper case',
    examples: ['USD'],
    ...options,
  });
const day = (options: StringOptions = {}) =>
  Type.String({
    pattern: '^\\d{4}-\\d{2}-\\d{2}$',
    description: 'YYYY-MM-DD',
    examples: ['2026-11-20'],
    ...options,
  });
const CurrencyCode = currencyCode();
const Day = day();
const RateDecimal = Type.String({
  pattern: '^\\d{1,12}(\\.\\d{1,12})?$',
  description: 'Units of quote per unit of base, a decimal with at most 12 decimals',
  examples: ['1450.12'],
});
const Source = Type.String({
  description:
    'Where the rate comes from: `ecb`, `local` (the bundled table), `manual` (staff), `ecb+manual` for a cross rate using both, `identity` for a currency to itself',
  examples: ['ecb'],
});
/** Far beyond any price; keeps every converted amount a safe JSON integer for realistic rates. */
const MAX_AMOUNT = 1_000_000_000_000_000;

export const RatesQuery = Type.Object({
  base: Type.Optional(currencyCode({ default: 'EUR', examples: ['USD'] })),
  date: Type.Optional(day({ description: 'Rates in force on this day (default today, UTC)' })),
});

export const RateTable = Type.Object(
  {
    base: CurrencyCode,
    asOf: Type.String({ description: 'The newest day among the rates' }),
    source: Source,
    rates: Type.Record(Type.String(), Type.String(), {
      description: 'quote → units of quote per unit of base (decimal string, up to 12 decimals)',
    }),
  },
  {
    examples: [
      {
        base: 'USD',
        asOf: '2026-11-20',
        source: 'ecb',
        rates: { EUR: '0.924898261191', JPY: '150.508694043655', KRW: '1352.062523122457' },
      },
    ],
  },
);

export const HistoryQuery = Type.Object({
  base: CurrencyCode,
  quote: currencyCode({ examples: ['KRW'] }),
  from: Type.Optional(day({ description: 'First day (default: 89 days before `to`)' })),
  to: Type.Optional(day({ description: 'Last day (default today, UTC); at most 366 days' })),
});

export const HistoryEntry = Type.Object({ asOf: Day, rate: Type.String(), source: Source });

export const History = Type.Array(HistoryEntry, {
  examples: [
    [
      { asOf: '2026-11-19', rate: '1.0796', source: 'ecb' },
      { asOf: '2026-11-20', rate: '1.0812', source: 'ecb' },
    ],
  ],
});

export const ConvertQuery = Type.Object({
  amountMinor: Type.Integer({
    minimum: -MAX_AMOUNT,
    maximum: MAX_AMOUNT,
    description: 'Integer minor units of `from` (cents for USD, won for KRW)',
    examples: [1000],
  }),
  from: CurrencyCode,
  to: currencyCode({ examples: ['KRW'] }),
  date: Type.Optional(day({ description: 'Use the rate in force on this day (default today)' })),
  locale: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9-]{2,35}$',
      default: 'en-US',
      description: 'BCP 47 locale for `display`',
      examples: ['ko-KR'],
    }),
  ),
});

export const Conversion = Type.Object(
  {
    from: CurrencyCode,
    to: CurrencyCode,
    amountMinor: Type.Integer(),
    convertedMinor: Type.Integer({ description: 'Minor units of `to`, rounded half-to-even once' }),
    rate: Type.String({
      description: 'Units of `to` per unit of `from` (rounded to 12 decimals for display)',
    }),
    asOf: Type.String({ description: 'The oldest day among the rates used' }),
    source: Source,
    display: Type.String({ description: 'convertedMinor formatted with Intl.NumberFormat' }),
  },
  {
    examples: [
      {
        from: 'USD',
        to: 'KRW',
        amountMinor: 1000,
        convertedMinor: 13520,
        rate: '1352.035167464115',
        asOf: '2026-11-20',
        source: 'ecb',
        display: '₩13,520',
      },
    ],
  },
);

export const PairParams = Type.Object({ base: CurrencyCode, quote: currencyCode({ examples: ['KRW'] }) });

export const ManualRateBody = Type.Object(
  {
    rate: RateDecimal,
    asOf: Type.Optional(day({ description: 'The day it applies from (default today, UTC)' })),
  },
  { additionalProperties: false, examples: [{ rate: '1450.12', asOf: '2026-11-20' }] },
);

export const RemoveManualRateQuery = Type.Object({ asOf: Day });

export const ManualRate = Type.Object(
  {
    base: CurrencyCode,
    quote: CurrencyCode,
    asOf: Day,
    rate: Type.String(),
    source: Type.Literal('manual'),
    fetchedAt: DateTime,
  },
  {
    examples: [
      {
        base: 'USD',
        quote: 'KRW',
        asOf: '2026-11-20',
        rate: '1450.12',
        source: 'manual',
        fetchedAt: '2026-11-20T09:30:00.000Z',
      },
    ],
  },
);

export const SyncResultSchema = Type.Object(
  {
    provider: Type.String(),
    days: Type.Integer({ minimum: 0 }),
    rates: Type.Integer({ minimum: 0 }),
    inserted: Type.Integer({ minimum: 0 }),
    updated: Type.Integer({ minimum: 0, description: 'Rates the provider revised for a day already stored' }),
    unchanged: Type.Integer({ minimum: 0 }),
    latestAsOf: Type.Union([Day, Type.Null()]),
  },
  {
    examples: [
      {
        provider: 'ecb',
        days: 64,
        rates: 1920,
        inserted: 30,
        updated: 0,
        unchanged: 1890,
        latestAsOf: '2026-11-20',
      },
    ],
  },
);

export type RateTableView = Static<typeof RateTable>;
export type HistoryEntryView = Static<typeof HistoryEntry>;
export type ConversionView = Static<typeof Conversion>;
export type ManualRateView = Static<typeof ManualRate>;
