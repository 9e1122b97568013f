import { and, asc, desc, eq, gte, inArray, lte, or, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { exchangeRates } from './currency.tables.ts';
import { MANUAL_SOURCE, type StoredRate } from './rate-book.ts';

export type ExchangeRateRow = typeof exchangeRates.$inferSelect;

const stored = {
  source: exchangeRates.source,
  base: exchangeRates.base,
  quote: exchangeRates.quote,
  asOf: exchangeRates.asOf,
  rate: exchangeRates.rate,
};

/** Lower is preferred on the same day: staff overrides, then the configured provider, then others. */
function rankSql(providerName: string): SQL {
  return sql`case when ${exchangeRates.source} = ${MANUAL_SOURCE} then 0 when ${exchangeRates.source} = ${providerName} then 1 else 2 end`;
}

function touching(currencies: readonly string[] | undefined): SQL | undefined {
  if (!currencies) return undefined;
  return or(inArray(exchangeRates.base, [...currencies]), inArray(exchangeRates.quote, [...currencies]));
}

/**
 * For every (base, quote) pair, the row in force on `date`: the latest day on or before it, and on
 * that day the preferred source. Only pairs touching `currencies` when given (every path between
 * two currencies has a leg touching each end).
 */
export async function latestRatesOnOrBefore(
  db: DbOrTx,
  options: { date: string; providerName: string; currencies?: readonly string[] },
): Promise<StoredRate[]> {
  return db
    .selectDistinctOn([exchangeRates.base, exchangeRates.quote], stored)
    .from(exchangeRates)
    .where(and(lte(exchangeRates.asOf, options.date), touching(options.currencies)))
    .orderBy(
      exchangeRates.base,
      exchangeRates.quote,
      desc(exchangeRates.asOf),
      rankSql(options.providerName),
      exchangeRates.source,
    );
}

/** Every row dated within [from, to] for pairs touching `currencies`, oldest first. */
export async function ratesBetween(
  db: DbOrTx,
  options: { from: string; to: string; currencies: readonly string[] },
): Promise<StoredRate[]> {
  return db
    .select(stored)
    .from(exchangeRates)
    .where(
      and(
        gte(exchangeRates.asOf, options.from),
        lte(exchangeRates.asOf, options.to),
        touching(options.currencies),
      ),
    )
    .orderBy(asc(exchangeRates.asOf));
}

export type NewRate = Omit<typeof exchangeRates.$inferInsert, 'fetchedAt'> & { fetchedAt: Date };

/** Rows per INSERT: 6 parameters each, far below PostgreSQL's 65,535. */
const UPSERT_CHUNK = 1000;

/**
 * Inserts rates, or updates those whose value changed; a row with the same value is not touched
 * (its `fetched_at` stays), so a repeated sync writes nothing. Returns how many rows were inserted
 * and updated. Rows go in key order so two concurrent syncs lock in the same order.
 */
export async function upsertRates(
  db: DbOrTx,
  rows: readonly NewRate[],
): Promise<{ inserted: number; updated: number }> {
  let inserted = 0;
  let updated = 0;
  for (let start = 0; start < rows.length; start += UPSERT_CHUNK) {
    const written = await db
      .insert(exchangeRates)
      .values(rows.slice(start, start + UPSERT_CHUNK))
      .onConflictDoUpdate({
        target: [exchangeRates.source, exchangeRates.base, exchangeRates.quote, exchangeRates.asOf],
        set: { rate: sql`excluded.rate`, fetchedAt: sql`excluded.fetched_at` },
        setWhere: sql`${exchangeRates.rate} is distinct from excluded.rate`,
      })
      // xmax is 0 for a freshly inserted row version and set for one written by ON CONFLICT UPDATE.
      .returning({ inserted: sql<boolean>`(xmax = 0)` });
    for (const row of written) {
      if (row.inserted) inserted += 1;
      else updated += 1;
    }
  }
  return { inserted, updated };
}

/** One stored rate: a source's rate for a currency pair on a day. */
interface RateKey {
  readonly source: string;
  readonly base: string;
  readonly quote: string;
  readonly asOf: string;
}

function rateIs(key: RateKey): SQL | undefined {
  return and(
    eq(exchangeRates.source, key.source),
    eq(exchangeRates.base, key.base),
    eq(exchangeRates.quote, key.quote),
    eq(exchangeRates.asOf, key.asOf),
  );
}

export async function findRate(db: DbOrTx, key: RateKey): Promise<ExchangeRateRow | undefined> {
  const [row] = await db.select().from(exchangeRates).where(rateIs(key)).for('update');
  return row;
}

export async function deleteRate(db: DbOrTx, key: RateKey): Promise<void> {
  await db.delete(exchangeRates).where(rateIs(key));
}

export async function countRates(db: DbOrTx, source: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(exchangeRates)
    .where(eq(exchangeRates.source, source));
  return row?.count ?? 0;
}
