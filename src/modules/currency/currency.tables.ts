import { date, index, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Daily reference rates, kept as history: `1 base = rate quote` on `asOf`. Rates are decimals
 * (numeric, read as strings) because they are not money; converted amounts are rounded back to
 * integer minor units of the quote currency.
 */
export const exchangeRates = pgTable(
  'exchange_rates',
  {
    source: text('source').notNull(),
    base: text('base').notNull(),
    quote: text('quote').notNull(),
    asOf: date('as_of', { mode: 'string' }).notNull(),
    rate: numeric('rate', { precision: 24, scale: 12 }).notNull(),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.source, table.base, table.quote, table.asOf] }),
    index('exchange_rates_latest_idx').on(table.base, table.quote, table.asOf),
  ],
);
