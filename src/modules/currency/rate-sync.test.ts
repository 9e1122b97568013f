import { and, between, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { type FakeEcb, type FakeEcbDay, renderEcbXml, startFakeEcb } from '../../../test/fakes/ecb-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { SYNC_RATES_CRON, seedExchangeRates, syncRatesJob } from './currency.jobs.ts';
import { exchangeRates } from './currency.tables.ts';
import { currencyModule } from './index.ts';
import { LOCAL_RATES } from './providers/local.provider.ts';

const day = (asOf: string, usd: string, krw = '1461.85'): FakeEcbDay => ({
  asOf,
  rates: { USD: usd, JPY: '161.33', KRW: krw, GBP: '0.8555' },
});

describe('exchange-rate sync from the ECB', () => {
  let app: TestApp;
  let ecb: FakeEcb;
  let staff: TestUser;

  beforeAll(async () => {
    ecb = await startFakeEcb();
    app = await buildTestApp({ env: { EXCHANGE_RATES_PROVIDER: 'ecb', ECB_RATES_URL: ecb.historyUrl } });
    staff = await createUser(app, { roles: ['staff'] });
  });
  afterAll(async () => {
    await app?.close();
    await ecb?.close();
  });

  /** Stored ECB rows dated within [from, to], as comparable values. */
  const storedBetween = async (from: string, to: string) =>
    (
      await app.platform.db
        .select()
        .from(exchangeRates)
        .where(and(eq(exchangeRates.source, 'ecb'), between(exchangeRates.asOf, from, to)))
        .orderBy(exchangeRates.asOf, exchangeRates.quote)
    ).map((row) => ({
      asOf: row.asOf,
      quote: row.quote,
      rate: row.rate,
      fetchedAt: row.fetchedAt.toISOString(),
    }));

  const sync = () => sendAs(app, 'POST', '/api/admin/exchange-rates/sync', staff);

  it('stores every day of the file; a second run changes nothing', async () => {
    ecb.setDays([day('2021-03-01', '1.2070'), day('2021-03-02', '1.2088'), day('2021-03-03', '1.2093')]);
    const first = await sync();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      provider: 'ecb',
      days: 3,
      rates: 12,
      inserted: 12,
      updated: 0,
      unchanged: 0,
      latestAsOf: '2021-03-03',
    });
    const stored = await storedBetween('2021-03-01', '2021-03-31');
    expect(stored).toHaveLength(12);
    // numeric(24, 12) keeps the published value exactly.
    expect(stored.find((row) => row.asOf === '2021-03-02' && row.quote === 'USD')?.rate).toBe(
      '1.208800000000',
    );

    const second = await sync();
    expect(second.json()).toMatchObject({ days: 3, rates: 12, inserted: 0, updated: 0, unchanged: 12 });
    // Not even fetched_at moves: the second run wrote no row.
    expect(await storedBetween('2021-03-01', '2021-03-31')).toEqual(stored);
  });

  it('keeps the history of days the file no longer carries, and takes a revised rate', async () => {
    ecb.setDays([day('2021-06-01', '1.2225'), day('2021-06-02', '1.2212')]);
    expect((await sync()).json()).toMatchObject({ inserted: 8 });

    // The next file has moved on (the 90-day window slides): 06-01 is gone, 06-02 was revised.
    ecb.setDays([day('2021-06-02', '1.2213'), day('2021-06-03', '1.2173')]);
    expect((await sync()).json()).toMatchObject({ days: 2, inserted: 4, updated: 1, unchanged: 3 });

    const usd = (await storedBetween('2021-06-01', '2021-06-30')).filter((row) => row.quote === 'USD');
    expect(usd.map((row) => [row.asOf, row.rate])).toEqual([
      ['2021-06-01', '1.222500000000'],
      ['2021-06-02', '1.221300000000'],
      ['2021-06-03', '1.217300000000'],
    ]);
    const history = await sendAs(
      app,
      'GET',
      '/api/exchange-rates/history?base=EUR&quote=USD&from=2021-06-01&to=2021-06-30',
    );
    expect(history.json()).toEqual([
      { asOf: '2021-06-01', rate: '1.2225', source: 'ecb' },
      { asOf: '2021-06-02', rate: '1.2213', source: 'ecb' },
      { asOf: '2021-06-03', rate: '1.2173', source: 'ecb' },
    ]);
  });

  it('an outage or a malformed file fails the sync with 502 and writes nothing', async () => {
    ecb.setDays([day('2021-09-01', '1.1833'), day('2021-09-02', '1.1867')]);
    ecb.answerNext({ status: 500, body: '<html>Internal Server Error</html>', contentType: 'text/html' });
    const outage = await sync();
    expect(outage.statusCode).toBe(502);
    expect(outage.json().error.code).toBe('rate_provider_unavailable');

    // Well-formed days followed by a broken one: none of them may be stored.
    const broken = renderEcbXml([day('2021-09-01', '1.1833'), day('2021-09-02', '1.1867')]).replace(
      "rate='1.1833'",
      "rate='1,1833'",
    );
    ecb.answerNext({ status: 200, body: broken });
    const malformed = await sync();
    expect(malformed.statusCode).toBe(502);
    expect(malformed.json().error.message).toMatch(/malformed/);
    expect(await storedBetween('2021-09-01', '2021-09-30')).toEqual([]);

    expect((await sync()).json()).toMatchObject({ inserted: 8 });
    expect(await storedBetween('2021-09-01', '2021-09-30')).toHaveLength(8);
  });

  it('the daily job runs the same sync; its cron is scheduled after the ECB publishes', async () => {
    expect(currencyModule.crons?.map((cron) => [cron.key, cron.cron, cron.job.name, cron.timeZone])).toEqual([
      ['currency.sync-rates', '30 15 * * *', 'currency.sync-rates', 'UTC'],
    ]);
    expect(SYNC_RATES_CRON).toBe('30 15 * * *');
    const schedules = await app.platform.jobs.boss.getSchedules();
    expect(schedules.find((schedule) => schedule.key === 'currency.sync-rates')).toMatchObject({
      name: 'currency.sync-rates',
      cron: '30 15 * * *',
      timezone: 'UTC',
    });

    ecb.setDays([day('2021-12-01', '1.1320')]);
    await app.platform.jobs.enqueue(app.platform.db, syncRatesJob, {});
    const stored = await waitFor(async () => {
      const rows = await storedBetween('2021-12-01', '2021-12-31');
      return rows.length === 4 && rows;
    });
    expect(stored.find((row) => row.quote === 'KRW')?.rate).toBe('1461.850000000000');
  });

  it('concurrent syncs store each rate once and never fail', async () => {
    ecb.setDays([day('2022-02-01', '1.1268'), day('2022-02-02', '1.1284')]);
    const results = await Promise.all([sync(), sync(), sync()]);
    expect(results.map((result) => result.statusCode)).toEqual([200, 200, 200]);
    const counts = results.map((result) => result.json() as { inserted: number; unchanged: number });
    expect(counts.reduce((sum, count) => sum + count.inserted, 0)).toBe(8);
    expect(counts.reduce((sum, count) => sum + count.unchanged, 0)).toBe(16);
    expect(await storedBetween('2022-02-01', '2022-02-28')).toHaveLength(8);
  });

  it('non-staff cannot sync', async () => {
    const buyer = await createUser(app);
    expect((await sendAs(app, 'POST', '/api/admin/exchange-rates/sync', buyer)).statusCode).toBe(403);
    expect((await sendAs(app, 'POST', '/api/admin/exchange-rates/sync')).statusCode).toBe(401);
  });
});

describe('first start with the bundled local rates', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
  });
  afterAll(() => app?.close());

  it('the seed loads the table once (safe twice) and conversion works offline', async () => {
    expect(app.config.currency.provider).toBe('local');
    const before = await sendAs(app, 'GET', '/api/currency/convert?amountMinor=1000&from=USD&to=KRW');
    expect(before.statusCode).toBe(404);
    expect(before.json().error.code).toBe('rate_not_found');

    await seedExchangeRates(app.platform);
    const rows = await app.platform.db.select().from(exchangeRates);
    expect(rows).toHaveLength(Object.keys(LOCAL_RATES.rates).length);
    expect(
      rows.every((row) => row.source === 'local' && row.base === 'EUR' && row.asOf === LOCAL_RATES.asOf),
    ).toBe(true);
    for (const quote of ['USD', 'KRW', 'PKR', 'GBP', 'JPY', 'CNY', 'CAD', 'AUD']) {
      expect(rows.some((row) => row.quote === quote)).toBe(true);
    }

    await seedExchangeRates(app.platform);
    const again = await app.platform.db.select().from(exchangeRates);
    expect(again.map((row) => row.fetchedAt.toISOString()).sort()).toEqual(
      rows.map((row) => row.fetchedAt.toISOString()).sort(),
    );

    const converted = await sendAs(app, 'GET', '/api/currency/convert?amountMinor=1000&from=USD&to=KRW');
    expect(converted.statusCode).toBe(200);
    // 10 USD × 1692.50 / 1.1555 = 14647.34… won.
    expect(converted.json()).toMatchObject({
      convertedMinor: 14647,
      asOf: LOCAL_RATES.asOf,
      source: 'local',
      display: '₩14,647',
    });
  });
});

describe('first start with the ECB unreachable', () => {
  let app: TestApp;
  let ecb: FakeEcb;
  beforeAll(async () => {
    ecb = await startFakeEcb([day('2022-05-02', '1.0524')]);
    app = await buildTestApp({ env: { EXCHANGE_RATES_PROVIDER: 'ecb', ECB_RATES_URL: ecb.historyUrl } });
  });
  afterAll(async () => {
    await app?.close();
    await ecb?.close();
  });

  it('start-up goes on and a background job fetches the rates', async () => {
    ecb.answerNext({ status: 503, body: 'maintenance', contentType: 'text/plain' });
    await seedExchangeRates(app.platform);
    expect(ecb.requests).toHaveLength(1);
    const rows = await waitFor(async () => {
      const stored = await app.platform.db.select().from(exchangeRates);
      return stored.length === 4 && stored;
    });
    expect(rows.every((row) => row.source === 'ecb' && row.asOf === '2022-05-02')).toBe(true);
    expect(ecb.requests).toHaveLength(2);
  });
});
