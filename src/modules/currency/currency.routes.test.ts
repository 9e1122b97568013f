import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { type FakeEcb, type FakeEcbDay, startFakeEcb } from '../../../test/fakes/ecb-server.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { listAudit } from '../../platform/audit/audit.ts';
import { addDays, utcDay } from './dates.ts';

/**
 * Each test works on its own dates (rates are "latest on or before a day"), so none sees
 * another's rows: 2023-04 conversions, 2023-07 staff rates for rounding, 2023-10 precedence.
 */
describe('currency routes', () => {
  let app: TestApp;
  let ecb: FakeEcb;
  let staff: TestUser;
  let buyer: TestUser;

  const send = (...args: SendArgs) => sendAs(app, ...args);
  const sync = async (days: FakeEcbDay[]) => {
    ecb.setDays(days);
    const response = await send('POST', '/api/admin/exchange-rates/sync', staff);
    expect(response.statusCode).toBe(200);
  };
  const convert = async (query: string) => {
    const response = await send('GET', `/api/currency/convert?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  /** As staff unless another user, or null for an anonymous caller, is given. */
  const setRate = (base: string, quote: string, body: object, user: TestUser | null = staff) =>
    send('PUT', `/api/admin/exchange-rates/${base}/${quote}`, user ?? undefined, body);

  beforeAll(async () => {
    ecb = await startFakeEcb();
    app = await buildTestApp({
      startJobs: false,
      env: { EXCHANGE_RATES_PROVIDER: 'ecb', ECB_RATES_URL: ecb.historyUrl },
    });
    [staff, buyer] = await Promise.all([createUser(app, { roles: ['staff'] }), createUser(app)]);
    await sync([
      { asOf: '2023-04-03', rates: { USD: '1.0812', JPY: '161.33', KRW: '1461.85', GBP: '0.8555' } },
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await ecb?.close();
  });

  it('converts exactly: direct, inverse, cross through EUR, zero-decimal currencies', async () => {
    const on = 'date=2023-04-03';
    // 10 USD × 1461.85 / 1.0812 = 13520.63 → 13521 won.
    expect(await convert(`amountMinor=1000&from=USD&to=KRW&${on}`)).toEqual({
      from: 'USD',
      to: 'KRW',
      amountMinor: 1000,
      convertedMinor: 13521,
      rate: '1352.062523122457',
      asOf: '2023-04-03',
      source: 'ecb',
      display: '₩13,521',
    });
    // 13520 won × 1.0812 / 1461.85 = 9.99997 USD → 1000 cents.
    expect(await convert(`amountMinor=13520&from=KRW&to=USD&${on}`)).toMatchObject({
      convertedMinor: 1000,
      rate: '0.000739610767',
      display: '$10.00',
    });
    // EUR → JPY is the published pair: 10.00 EUR × 161.33 = 1613.3 → 1613 yen.
    expect(await convert(`amountMinor=1000&from=EUR&to=JPY&${on}`)).toMatchObject({
      convertedMinor: 1613,
      rate: '161.33',
      display: '¥1,613',
    });
    // 10000 yen × 1.0812 / 161.33 = 67.0179 USD → 6702 cents.
    expect(await convert(`amountMinor=10000&from=JPY&to=USD&${on}`)).toMatchObject({ convertedMinor: 6702 });
    // 25.00 GBP × 161.33 / 0.8555 = 4714.49 → 4714 yen; 1000 yen × 1461.85 / 161.33 = 9061.24 → 9061 won.
    expect(await convert(`amountMinor=2500&from=GBP&to=JPY&${on}`)).toMatchObject({
      convertedMinor: 4714,
      rate: '188.579777907656',
    });
    expect(await convert(`amountMinor=1000&from=JPY&to=KRW&${on}&locale=ko-KR`)).toMatchObject({
      convertedMinor: 9061,
      display: '₩9,061',
    });
    // A later day without a publication uses the latest one before it.
    expect(await convert('amountMinor=1000&from=USD&to=KRW&date=2023-04-05')).toMatchObject({
      convertedMinor: 13521,
      asOf: '2023-04-03',
    });
    expect(await convert('amountMinor=1234&from=USD&to=USD&date=2023-04-05')).toEqual({
      from: 'USD',
      to: 'USD',
      amountMinor: 1234,
      convertedMinor: 1234,
      rate: '1',
      asOf: '2023-04-05',
      source: 'identity',
      display: '$12.34',
    });
  });

  it('lists the rates of a base, crossing through EUR, and a pair’s history', async () => {
    const eur = await send('GET', '/api/exchange-rates?date=2023-04-03');
    expect(eur.json()).toEqual({
      base: 'EUR',
      asOf: '2023-04-03',
      source: 'ecb',
      rates: { GBP: '0.8555', JPY: '161.33', KRW: '1461.85', USD: '1.0812' },
    });
    const usd = await send('GET', '/api/exchange-rates?base=USD&date=2023-04-03');
    expect(usd.json()).toEqual({
      base: 'USD',
      asOf: '2023-04-03',
      source: 'ecb',
      rates: {
        EUR: '0.924898261191',
        GBP: '0.791250462449',
        JPY: '149.213836477987',
        KRW: '1352.062523122457',
      },
    });
    const history = await send(
      'GET',
      '/api/exchange-rates/history?base=USD&quote=KRW&from=2023-04-01&to=2023-04-30',
    );
    expect(history.json()).toEqual([{ asOf: '2023-04-03', rate: '1352.062523122457', source: 'ecb' }]);
  });

  it('rounds half to even with staff rates, exactly where floats would not', async () => {
    const on = 'date=2023-07-03';
    expect((await setRate('USD', 'JPY', { rate: '150', asOf: '2023-07-03' })).statusCode).toBe(200);
    expect((await setRate('GBP', 'PLN', { rate: '4.35', asOf: '2023-07-03' })).statusCode).toBe(200);
    // 0.01 USD × 150 = 1.5 yen → 2; 0.03 → 4.5 → 4; 0.05 → 7.5 → 8; 0.07 → 10.5 → 10; −0.03 → −4.
    for (const [cents, yen] of [
      [1, 2],
      [3, 4],
      [5, 8],
      [7, 10],
      [-3, -4],
    ]) {
      expect(await convert(`amountMinor=${cents}&from=USD&to=JPY&${on}`)).toMatchObject({
        convertedMinor: yen,
        source: 'manual',
      });
    }
    // 0.50 GBP × 4.35 = 2.175 PLN exactly = 217.5 grosze → 218 (floats make it 217.49999…).
    expect(await convert(`amountMinor=50&from=GBP&to=PLN&${on}`)).toMatchObject({ convertedMinor: 218 });
    // And back through the inverse: 218 / 4.35 = 50.11 pence → 50.
    expect(await convert(`amountMinor=218&from=PLN&to=GBP&${on}`)).toMatchObject({
      convertedMinor: 50,
      rate: '0.229885057471',
    });
  });

  it('a staff rate wins over the provider on its day, not after; removing it restores the provider', async () => {
    const day1 = '2023-10-02';
    const day2 = '2023-10-03';
    await sync([{ asOf: day1, rates: { USD: '1.0500', JPY: '158.00', KRW: '1420.00' } }]);
    // 10 USD × 1420 / 1.05 = 13523.81 → 13524.
    expect(await convert(`amountMinor=1000&from=USD&to=KRW&date=${day1}`)).toMatchObject({
      convertedMinor: 13524,
      source: 'ecb',
    });

    const set = await setRate('USD', 'KRW', { rate: '1450.12', asOf: day1 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({
      base: 'USD',
      quote: 'KRW',
      asOf: day1,
      rate: '1450.12',
      source: 'manual',
    });
    expect(await convert(`amountMinor=1000&from=USD&to=KRW&date=${day1}`)).toMatchObject({
      convertedMinor: 14501,
      rate: '1450.12',
      asOf: day1,
      source: 'manual',
    });
    const table = (await send('GET', `/api/exchange-rates?base=USD&date=${day1}`)).json();
    expect(table).toMatchObject({ asOf: day1, source: 'ecb+manual', rates: { KRW: '1450.12' } });
    // The inverse direction uses the staff rate too: 14501 won / 1450.12 = 10.00 USD.
    expect(await convert(`amountMinor=14501&from=KRW&to=USD&date=${day1}`)).toMatchObject({
      convertedMinor: 1000,
      source: 'manual',
    });

    // The next publication is newer than the staff rate: the provider applies again from that day.
    await sync([{ asOf: day2, rates: { USD: '1.0600', JPY: '158.50', KRW: '1431.00' } }]);
    expect(await convert(`amountMinor=1000&from=USD&to=KRW&date=${day2}`)).toMatchObject({
      convertedMinor: 13500,
      source: 'ecb',
    });
    // A staff EUR/USD that day changes EUR → USD and every cross through it.
    await setRate('EUR', 'USD', { rate: '1.1', asOf: day2 });
    expect(await convert(`amountMinor=1000&from=EUR&to=USD&date=${day2}`)).toMatchObject({
      convertedMinor: 1100,
      source: 'manual',
    });
    // 10 USD × 158.50 / 1.1 = 1440.91 → 1441 yen, computed from both sources.
    expect(await convert(`amountMinor=1000&from=USD&to=JPY&date=${day2}`)).toMatchObject({
      convertedMinor: 1441,
      source: 'ecb+manual',
    });
    const history = await send(
      'GET',
      `/api/exchange-rates/history?base=USD&quote=KRW&from=${day1}&to=${day2}`,
    );
    expect(history.json()).toEqual([
      { asOf: day1, rate: '1450.12', source: 'manual' },
      { asOf: day2, rate: '1300.909090909091', source: 'ecb+manual' },
    ]);

    const removed = await send('DELETE', `/api/admin/exchange-rates/USD/KRW?asOf=${day1}`, staff);
    expect(removed.statusCode).toBe(204);
    expect(await convert(`amountMinor=1000&from=USD&to=KRW&date=${day1}`)).toMatchObject({
      convertedMinor: 13524,
      source: 'ecb',
    });
    const again = await send('DELETE', `/api/admin/exchange-rates/USD/KRW?asOf=${day1}`, staff);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('rate_not_found');

    const audit = await listAudit(app.platform.db, {
      targetType: 'exchange_rate',
      targetId: `USD/KRW/${day1}`,
      limit: 5,
    });
    expect(audit.map((entry) => [entry.action, entry.actorId, entry.before, entry.after])).toEqual([
      ['exchange_rate.remove', staff.user.id, { rate: '1450.12', source: 'manual' }, null],
      ['exchange_rate.set', staff.user.id, null, { rate: '1450.12', source: 'manual' }],
    ]);
  });

  it('staff rates default to today and refuse bad input', async () => {
    const today = utcDay(new Date());
    const set = await setRate('CAD', 'PKR', { rate: '205.75' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ asOf: today, rate: '205.75', source: 'manual' });
    expect(await convert('amountMinor=10000&from=CAD&to=PKR')).toMatchObject({
      convertedMinor: 2_057_500,
      asOf: today,
      source: 'manual',
    });

    const refusals: Array<[string, string, object]> = [
      ['CAD', 'PKR', { rate: '0' }],
      ['CAD', 'PKR', { rate: '0.000' }],
      ['CAD', 'PKR', { rate: '-1.5' }],
      ['CAD', 'PKR', { rate: '1.1234567890123' }],
      ['CAD', 'PKR', { rate: '1,5' }],
      ['CAD', 'PKR', {}],
      ['CAD', 'PKR', { rate: '205.75', asOf: addDays(today, 1) }],
      ['CAD', 'PKR', { rate: '205.75', asOf: '2023-02-30' }],
      ['CAD', 'CAD', { rate: '1' }],
      ['cad', 'PKR', { rate: '205.75' }],
      ['CADX', 'PKR', { rate: '205.75' }],
    ];
    for (const [base, quote, body] of refusals) {
      const response = await setRate(base, quote, body);
      expect(response.statusCode, JSON.stringify([base, quote, body])).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
    expect((await setRate('CAD', 'PKR', { rate: '1' }, buyer)).statusCode).toBe(403);
    expect((await setRate('CAD', 'PKR', { rate: '1' }, null)).statusCode).toBe(401);
    expect((await send('DELETE', `/api/admin/exchange-rates/CAD/PKR?asOf=${today}`, buyer)).statusCode).toBe(
      403,
    );
  });

  it('answers 400 for malformed input and 404 when no rate connects', async () => {
    const expectRefused = async (urls: readonly string[], status: number, code: string) => {
      for (const url of urls) {
        const response = await send('GET', url);
        expect(response.statusCode, url).toBe(status);
        expect(response.json().error.code, url).toBe(code);
      }
    };
    const badRequests = [
      '/api/exchange-rates?base=usd',
      '/api/exchange-rates?base=USD&date=2023-02-30',
      '/api/exchange-rates?date=20230403',
      '/api/currency/convert?amountMinor=1.5&from=USD&to=KRW',
      '/api/currency/convert?amountMinor=1000&from=US&to=KRW',
      '/api/currency/convert?from=USD&to=KRW',
      '/api/currency/convert?amountMinor=1000&from=USD&to=KRW&locale=en-US-x',
      '/api/currency/convert?amountMinor=10000000000000000&from=USD&to=KRW',
      '/api/exchange-rates/history?base=EUR&quote=USD&from=2023-04-30&to=2023-04-01',
      '/api/exchange-rates/history?base=EUR&quote=USD&from=2021-12-31&to=2023-01-01',
      '/api/exchange-rates/history?base=EUR&quote=EUR',
      '/api/exchange-rates/history?base=EUR',
    ];
    await expectRefused(badRequests, 400, 'validation_failed');
    // 366 days is the most one request covers.
    const longest = await send(
      'GET',
      '/api/exchange-rates/history?base=EUR&quote=USD&from=2022-04-04&to=2023-04-04',
    );
    expect(longest.statusCode).toBe(200);

    const notFound = [
      '/api/currency/convert?amountMinor=1000&from=USD&to=XYZ&date=2023-04-03',
      '/api/currency/convert?amountMinor=1000&from=USD&to=KRW&date=2023-04-02',
      '/api/exchange-rates?base=XYZ&date=2023-04-03',
      '/api/exchange-rates?base=EUR&date=2000-01-01',
    ];
    await expectRefused(notFound, 404, 'rate_not_found');
  });
});
