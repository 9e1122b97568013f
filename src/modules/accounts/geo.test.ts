import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { accountsModule } from './index.ts';

interface Item {
  id: number;
  code: string;
  name: string;
  phonePrefix: string;
  divisionLabel: string;
  countryCode: string;
  provinceId: number;
}

describe('geo reference data', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp({ modules: [notifyModule, accountsModule], startJobs: false });
  });
  afterAll(async () => {
    await app?.close();
  });

  async function items(url: string): Promise<Item[]> {
    const response = await app.http.inject({ method: 'GET', url });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  }

  it('lists the countries without signing in', async () => {
    const countries = await items('/api/geo/countries');
    expect(countries).toEqual(
      expect.arrayContaining([
        { code: 'KR', name: 'South Korea', phonePrefix: '+82', divisionLabel: 'Province' },
        { code: 'US', name: 'United States', phonePrefix: '+1', divisionLabel: 'State' },
        { code: 'PK', name: 'Pakistan', phonePrefix: '+92', divisionLabel: 'Province' },
      ]),
    );
  });

  it('lists every first-level division with its code', async () => {
    const kr = await items('/api/geo/countries/KR/provinces');
    expect(kr).toHaveLength(17);
    expect(kr.map((p) => p.code).sort()).toEqual(
      [
        '11',
        '26',
        '27',
        '28',
        '29',
        '30',
        '31',
        '41',
        '42',
        '43',
        '44',
        '45',
        '46',
        '47',
        '48',
        '49',
        '50',
      ].map((n) => `KR-${n}`),
    );
    expect(kr).toContainEqual({ id: 101, countryCode: 'KR', code: 'KR-11', name: 'Seoul' });

    // Lower case works too; 50 states + DC + Puerto Rico.
    const us = await items('/api/geo/countries/us/provinces');
    expect(us).toHaveLength(52);
    expect(us.every((p) => /^[A-Z]{2}$/.test(p.code))).toBe(true);
    expect(us.map((p) => p.code)).toEqual(expect.arrayContaining(['CA', 'NY', 'TX', 'DC', 'WY', 'PR']));

    const pk = await items('/api/geo/countries/PK/provinces');
    expect(pk.map((p) => p.name).sort()).toEqual([
      'Azad Jammu and Kashmir',
      'Balochistan',
      'Gilgit-Baltistan',
      'Islamabad Capital Territory',
      'Khyber Pakhtunkhwa',
      'Punjab',
      'Sindh',
    ]);
  });

  it('lists the major cities of a province, at least three per US state', async () => {
    const gyeonggi = await items('/api/geo/provinces/109/cities');
    expect(gyeonggi.map((c) => c.name)).toEqual(expect.arrayContaining(['Suwon', 'Seongnam', 'Goyang']));
    expect(gyeonggi.every((c) => c.provinceId === 109)).toBe(true);

    const punjab = (await items('/api/geo/countries/PK/provinces')).find((p) => p.code === 'PK-PB')!;
    const punjabCities = await items(`/api/geo/provinces/${punjab.id}/cities`);
    expect(punjabCities.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Lahore', 'Faisalabad', 'Rawalpindi', 'Multan']),
    );

    for (const state of await items('/api/geo/countries/US/provinces')) {
      if (state.code === 'DC') continue;
      expect(
        (await items(`/api/geo/provinces/${state.id}/cities`)).length,
        state.name,
      ).toBeGreaterThanOrEqual(3);
    }
  });

  it('answers not_found for an unknown country or province, validation_failed for a malformed one', async () => {
    for (const url of ['/api/geo/countries/ZZ/provinces', '/api/geo/provinces/999999/cities']) {
      const response = await app.http.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('not_found');
    }
    for (const url of ['/api/geo/countries/KOR/provinces', '/api/geo/provinces/abc/cities']) {
      const response = await app.http.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('validation_failed');
    }
  });
});
