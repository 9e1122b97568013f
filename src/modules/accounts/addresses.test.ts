import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { MAX_ADDRESSES_PER_USER } from './addresses.service.ts';
import { accountsModule } from './index.ts';

// Stable reference ids from migration 0002.
const SEOUL = 101;
const SEOUL_CITY = 10101;
const GYEONGGI = 109;
const SUWON = 10901;
const CALIFORNIA = 205;
const LOS_ANGELES = 20501;
const PUNJAB = 301;
const LAHORE = 30101;

interface AddressBody {
  id: string;
  label: string;
  recipientName: string;
  phone: string;
  line1: string;
  line2: string;
  postalCode: string;
  countryCode: string;
  provinceId: number;
  provinceCode: string;
  provinceName: string;
  cityId: number | null;
  cityName: string;
  isDefaultShipping: boolean;
  createdAt: string;
  updatedAt: string;
}

function seoulAddress(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    label: 'Home',
    recipientName: 'Kim Minji',
    phone: '+821012345678',
    line1: '123 Teheran-ro, Gangnam-gu',
    postalCode: '06236',
    countryCode: 'KR',
    provinceId: SEOUL,
    cityId: SEOUL_CITY,
    ...overrides,
  };
}

describe('addresses', () => {
  // A fake clock so "the most recent address" does not depend on how fast requests run.
  const clock = createFakeClock(new Date());
  let app: TestApp;

  beforeAll(async () => {
    app = await buildTestApp({ modules: [notifyModule, accountsModule], clock, startJobs: false });
  });
  afterAll(async () => {
    await app?.close();
  });

  async function call(
    user: TestUser | null,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: Record<string, unknown>,
  ) {
    return app.http.inject({
      method,
      url,
      ...(user ? { headers: user.headers } : {}),
      ...(payload ? { payload } : {}),
    });
  }

  async function create(
    user: TestUser,
    body: Record<string, unknown> = seoulAddress(),
  ): Promise<AddressBody> {
    clock.advance(1_000);
    const response = await call(user, 'POST', '/api/me/addresses', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  }

  async function list(user: TestUser): Promise<AddressBody[]> {
    const response = await call(user, 'GET', '/api/me/addresses');
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  }

  async function defaults(user: TestUser): Promise<string[]> {
    return (await list(user)).filter((a) => a.isDefaultShipping).map((a) => a.id);
  }

  function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string) {
    expect(response.statusCode).toBe(status);
    expect((response.json() as { error: { code: string } }).error.code).toBe(code);
  }

  it('refuses every address route without a sign-in', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    for (const [method, url] of [
      ['GET', '/api/me/addresses'],
      ['POST', '/api/me/addresses'],
      ['GET', '/api/me/addresses/default'],
      ['GET', `/api/me/addresses/${id}`],
      ['PATCH', `/api/me/addresses/${id}`],
      ['DELETE', `/api/me/addresses/${id}`],
      ['POST', `/api/me/addresses/${id}/default`],
    ] as const) {
      expectError(
        await call(null, method, url, method === 'GET' ? undefined : seoulAddress()),
        401,
        'unauthenticated',
      );
    }
  });

  it('creates, reads, lists, updates and deletes an address', async () => {
    const user = await createUser(app);
    const created = await create(user, seoulAddress({ cityName: 'ignored when cityId is given' }));
    expect(created).toMatchObject({
      label: 'Home',
      recipientName: 'Kim Minji',
      line2: '',
      countryCode: 'KR',
      provinceId: SEOUL,
      provinceCode: 'KR-11',
      provinceName: 'Seoul',
      cityId: SEOUL_CITY,
      cityName: 'Seoul',
      // The first address becomes the default on its own.
      isDefaultShipping: true,
    });

    const read = await call(user, 'GET', `/api/me/addresses/${created.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created);
    expect(await list(user)).toEqual([created]);

    clock.advance(1_000);
    const patched = await call(user, 'PATCH', `/api/me/addresses/${created.id}`, {
      label: 'Parents',
      line2: 'Apt 1203',
      provinceId: GYEONGGI,
      cityId: SUWON,
      postalCode: '16490',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const updated: AddressBody = patched.json();
    expect(updated).toMatchObject({
      id: created.id,
      label: 'Parents',
      line2: 'Apt 1203',
      recipientName: 'Kim Minji',
      provinceId: GYEONGGI,
      provinceName: 'Gyeonggi',
      cityId: SUWON,
      cityName: 'Suwon',
      postalCode: '16490',
      isDefaultShipping: true,
      createdAt: created.createdAt,
    });
    expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(new Date(created.updatedAt).getTime());

    // A cityName without a cityId switches to a city that is not in the list.
    const freeText = await call(user, 'PATCH', `/api/me/addresses/${created.id}`, {
      cityName: ' Gapyeong-eup ',
    });
    expect(freeText.json()).toMatchObject({ cityId: null, cityName: 'Gapyeong-eup', provinceId: GYEONGGI });

    const deleted = await call(user, 'DELETE', `/api/me/addresses/${created.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(await list(user)).toEqual([]);
    expectError(await call(user, 'GET', `/api/me/addresses/${created.id}`), 404, 'not_found');
    expectError(await call(user, 'GET', '/api/me/addresses/default'), 404, 'not_found');
  });

  it('takes a free-text city when the list lacks it, and needs one of cityId and cityName', async () => {
    const user = await createUser(app);
    const town = await create(
      user,
      seoulAddress({ provinceId: GYEONGGI, cityId: undefined, cityName: 'Gapyeong', postalCode: '12422' }),
    );
    expect(town).toMatchObject({ cityId: null, cityName: 'Gapyeong' });

    const neither = await call(user, 'POST', '/api/me/addresses', seoulAddress({ cityId: undefined }));
    expectError(neither, 400, 'validation_failed');
    expect(neither.json().error.fields).toEqual([{ field: 'body.cityName', message: expect.any(String) }]);

    const badPhone = await call(user, 'POST', '/api/me/addresses', seoulAddress({ phone: '010-1234-5678' }));
    expectError(badPhone, 400, 'validation_failed');
    expect(badPhone.json().error.fields[0].field).toBe('body.phone');
  });

  it('keeps exactly one default: first automatic, switched on request, promoted on delete', async () => {
    const user = await createUser(app);
    const first = await create(user);
    const second = await create(user, seoulAddress({ label: 'Office', isDefaultShipping: false }));
    expect(second.isDefaultShipping).toBe(false);
    expect(await defaults(user)).toEqual([first.id]);

    // Created as the default: the old one is cleared.
    const third = await create(user, seoulAddress({ label: 'Cabin', isDefaultShipping: true }));
    expect(third.isDefaultShipping).toBe(true);
    expect(await defaults(user)).toEqual([third.id]);

    const switched = await call(user, 'POST', `/api/me/addresses/${first.id}/default`);
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ id: first.id, isDefaultShipping: true });
    expect(await defaults(user)).toEqual([first.id]);
    // Again: nothing changes.
    expect((await call(user, 'POST', `/api/me/addresses/${first.id}/default`)).json().isDefaultShipping).toBe(
      true,
    );

    const current = await call(user, 'GET', '/api/me/addresses/default');
    expect(current.statusCode).toBe(200);
    expect(current.json().id).toBe(first.id);

    // The list shows the default first, then newest first.
    expect((await list(user)).map((a) => a.id)).toEqual([first.id, third.id, second.id]);

    // Deleting the default promotes the most recent remaining address.
    expect((await call(user, 'DELETE', `/api/me/addresses/${first.id}`)).statusCode).toBe(204);
    expect(await defaults(user)).toEqual([third.id]);
    // Deleting one that is not the default leaves the default alone.
    expect((await call(user, 'DELETE', `/api/me/addresses/${second.id}`)).statusCode).toBe(204);
    expect(await defaults(user)).toEqual([third.id]);
    expect((await call(user, 'DELETE', `/api/me/addresses/${third.id}`)).statusCode).toBe(204);
    expect(await list(user)).toEqual([]);
  });

  it('has exactly one default after 10 concurrent "make default" calls', async () => {
    const user = await createUser(app);
    const created: AddressBody[] = [];
    for (let i = 0; i < 10; i++) created.push(await create(user, seoulAddress({ label: `#${i}` })));
    const responses = await Promise.all(
      created.map((a) => call(user, 'POST', `/api/me/addresses/${a.id}/default`)),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const remaining = await defaults(user);
    expect(remaining).toHaveLength(1);
    expect(created.map((a) => a.id)).toContain(remaining[0]);
  });

  it('allows 20 addresses per user, also under concurrent creation, with one default', async () => {
    const user = await createUser(app);
    const responses = await Promise.all(
      Array.from({ length: MAX_ADDRESSES_PER_USER + 5 }, (_, i) =>
        call(user, 'POST', '/api/me/addresses', seoulAddress({ label: `#${i}` })),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_ADDRESSES_PER_USER);
    expect(statuses.filter((s) => s === 409)).toHaveLength(5);
    const refused = responses.find((r) => r.statusCode === 409)!;
    expect(refused.json().error).toMatchObject({ code: 'address_limit_reached', details: { limit: 20 } });
    expect(await list(user)).toHaveLength(MAX_ADDRESSES_PER_USER);
    expect(await defaults(user)).toHaveLength(1);
  });

  it('refuses a province outside the country and a city outside the province', async () => {
    const user = await createUser(app);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ countryCode: 'US', postalCode: '90012' }, 'address_region_mismatch', 'body.provinceId'],
      [{ cityId: SUWON }, 'address_region_mismatch', 'body.cityId'],
      [{ provinceId: PUNJAB, cityId: LAHORE }, 'address_region_mismatch', 'body.provinceId'],
      [{ countryCode: 'ZZ' }, 'address_region_unknown', 'body.countryCode'],
      [{ provinceId: 999 }, 'address_region_unknown', 'body.provinceId'],
      [{ cityId: 999_999 }, 'address_region_unknown', 'body.cityId'],
    ];
    for (const [overrides, code, field] of cases) {
      const response = await call(user, 'POST', '/api/me/addresses', seoulAddress(overrides));
      expectError(response, 422, code);
      expect(response.json().error.fields[0].field).toBe(field);
    }
    expect(await list(user)).toEqual([]);

    // A change is checked against the rest of the address: a new province with the old city.
    const address = await create(user);
    const moved = await call(user, 'PATCH', `/api/me/addresses/${address.id}`, { provinceId: GYEONGGI });
    expectError(moved, 422, 'address_region_mismatch');
    const wrongCountry = await call(user, 'PATCH', `/api/me/addresses/${address.id}`, { countryCode: 'PK' });
    expectError(wrongCountry, 422, 'address_region_mismatch');
    expect((await call(user, 'GET', `/api/me/addresses/${address.id}`)).json()).toEqual(address);
  });

  it('checks the postal code format of each country', async () => {
    const user = await createUser(app);
    const us = { countryCode: 'US', provinceId: CALIFORNIA, cityId: LOS_ANGELES, phone: '+12135550100' };
    const pk = { countryCode: 'PK', provinceId: PUNJAB, cityId: LAHORE, phone: '+924235550100' };
    const refused = [
      seoulAddress({ postalCode: '1234' }),
      seoulAddress({ postalCode: '135-080' }), // the pre-2015 Korean format
      seoulAddress({ ...us, postalCode: '9001' }),
      seoulAddress({ ...us, postalCode: '90012-12' }),
      seoulAddress({ ...pk, postalCode: '540000' }),
    ];
    for (const body of refused) {
      const response = await call(user, 'POST', '/api/me/addresses', body);
      expectError(response, 422, 'invalid_postal_code');
      expect(response.json().error.fields[0].field).toBe('body.postalCode');
    }
    expect((await create(user, seoulAddress({ postalCode: ' 06236 ' }))).postalCode).toBe('06236');
    expect((await create(user, seoulAddress({ ...us, postalCode: '90012' }))).cityName).toBe('Los Angeles');
    expect((await create(user, seoulAddress({ ...us, postalCode: '90012-3456' }))).postalCode).toBe(
      '90012-3456',
    );
    expect((await create(user, seoulAddress({ ...pk, postalCode: '54000' }))).cityName).toBe('Lahore');

    const [address] = await list(user);
    const patched = await call(user, 'PATCH', `/api/me/addresses/${address!.id}`, { postalCode: 'ABCDE' });
    expectError(patched, 422, 'invalid_postal_code');
  });

  it("answers not_found for another user's address on read, update, delete and default", async () => {
    const owner = await createUser(app);
    const stranger = await createUser(app);
    const address = await create(owner);
    const other = await create(owner, seoulAddress({ label: 'Office' }));
    await create(stranger);

    const attempts = [
      call(stranger, 'GET', `/api/me/addresses/${address.id}`),
      call(stranger, 'PATCH', `/api/me/addresses/${address.id}`, { label: 'Mine now' }),
      call(stranger, 'DELETE', `/api/me/addresses/${address.id}`),
      call(stranger, 'POST', `/api/me/addresses/${other.id}/default`),
    ];
    for (const response of await Promise.all(attempts)) {
      expectError(response, 404, 'not_found');
      expect(response.json().error.message).toBe('No such address');
    }
    // Same answer as an id that does not exist at all.
    const missing = await call(stranger, 'GET', '/api/me/addresses/00000000-0000-4000-8000-000000000000');
    expect(missing.json().error.message).toBe('No such address');

    // Nothing changed: the default first, then the newest.
    expect(await list(owner)).toEqual([address, other]);
    expect(await defaults(owner)).toEqual([address.id]);
  });

  it('ignores a userId in the body: the owner is always the signed-in user', async () => {
    const victim = await createUser(app);
    const caller = await createUser(app);
    const address = await create(caller, seoulAddress({ userId: victim.user.id }));
    expect(address).not.toHaveProperty('userId');
    expect((await list(caller)).map((a) => a.id)).toEqual([address.id]);
    expect(await list(victim)).toEqual([]);

    const patched = await call(caller, 'PATCH', `/api/me/addresses/${address.id}`, {
      userId: victim.user.id,
      label: 'Still mine',
    });
    expect(patched.statusCode).toBe(200);
    expect((await list(caller)).map((a) => a.label)).toEqual(['Still mine']);
    expect(await list(victim)).toEqual([]);
  });
});
