import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import {
  type AddressChanges,
  type AddressWithProvince,
  clearDefaultAddress,
  countAddresses,
  deleteAddress,
  findAddress,
  findDefaultAddress,
  findLatestAddressId,
  insertAddress,
  listAddresses,
  lockAddressOwner,
  markDefaultAddress,
  updateAddress,
} from './addresses.repo.ts';
import type { CreateAddressInput, UpdateAddressInput } from './addresses.schemas.ts';
import { findCity, findCountry, findProvince } from './geo.repo.ts';

registerErrorCodes({
  /** A country, province or city id that does not exist. */
  address_region_unknown: 422,
  /** The province is not in the country, or the city not in the province. */
  address_region_mismatch: 422,
  /** The postal code does not have the country's format. */
  invalid_postal_code: 422,
  address_limit_reached: 409,
});

export const MAX_ADDRESSES_PER_USER = 20;

/** Postal code formats of the countries in the reference data; other countries take any code. */
const POSTAL_CODE_FORMATS: Record<string, { pattern: RegExp; description: string }> = {
  KR: { pattern: /^\d{5}$/, description: '5 digits' },
  US: { pattern: /^\d{5}(-\d{4})?$/, description: 'ZIP (5 digits) or ZIP+4 (12345-6789)' },
  PK: { pattern: /^\d{5}$/, description: '5 digits' },
};

interface RegionInput {
  readonly countryCode: string;
  readonly provinceId: number;
  readonly cityId: number | null;
  readonly cityName: string | undefined;
  readonly postalCode: string;
}

interface Region {
  readonly countryCode: string;
  readonly provinceId: number;
  readonly cityId: number | null;
  readonly cityName: string;
  readonly postalCode: string;
}

function regionError(code: string, message: string, field: string, details?: Record<string, unknown>) {
  return new AppError(code, message, {
    fields: [{ field: `body.${field}`, message }],
    ...(details ? { details } : {}),
  });
}

/** Country → province → city must chain, and the postal code must fit the country. */
async function resolveRegion(db: DbOrTx, input: RegionInput): Promise<Region> {
  const countryCode = input.countryCode.toUpperCase();
  const country = await findCountry(db, countryCode);
  if (!country) throw regionError('address_region_unknown', 'No such country', 'countryCode');
  const province = await findProvince(db, input.provinceId);
  if (!province) throw regionError('address_region_unknown', 'No such province', 'provinceId');
  if (province.countryCode !== country.code) {
    throw regionError('address_region_mismatch', `The province is not in ${country.name}`, 'provinceId', {
      countryCode: country.code,
      provinceId: province.id,
    });
  }
  let cityName: string;
  if (input.cityId !== null) {
    const city = await findCity(db, input.cityId);
    if (!city) throw regionError('address_region_unknown', 'No such city', 'cityId');
    if (city.provinceId !== province.id) {
      throw regionError('address_region_mismatch', `The city is not in ${province.name}`, 'cityId', {
        provinceId: province.id,
        cityId: city.id,
      });
    }
    cityName = city.name;
  } else {
    cityName = input.cityName?.trim() ?? '';
    if (!cityName) {
      throw regionError('validation_failed', 'Give a cityId from the list or a cityName', 'cityName');
    }
  }
  const postalCode = input.postalCode.trim().toUpperCase();
  const format = POSTAL_CODE_FORMATS[country.code];
  if (format && !format.pattern.test(postalCode)) {
    throw regionError(
      'invalid_postal_code',
      `A postal code in ${country.name} is ${format.description}`,
      'postalCode',
      { countryCode: country.code },
    );
  }
  return { countryCode: country.code, provinceId: province.id, cityId: input.cityId, cityName, postalCode };
}

export interface AddressesService {
  list(options: { userId: string }): Promise<AddressWithProvince[]>;
  get(options: { userId: string; id: string }): Promise<AddressWithProvince>;
  getDefault(options: { userId: string }): Promise<AddressWithProvince>;
  create(options: { userId: string; input: CreateAddressInput }): Promise<AddressWithProvince>;
  update(options: { userId: string; id: string; input: UpdateAddressInput }): Promise<AddressWithProvince>;
  remove(options: { userId: string; id: string }): Promise<void>;
  makeDefault(options: { userId: string; id: string }): Promise<AddressWithProvince>;
}

// Another user's address answers exactly like a missing one: ids do not reveal what exists.
const notFound = () => new AppError('not_found', 'No such address');

/**
 * A user's addresses. Invariant: a user with addresses has exactly one default shipping address
 * (the first becomes it; deleting it promotes the newest). Every change takes the owner's row lock
 * first, so concurrent changes of one user run one after the other and the partial unique index
 * `addresses_one_default_key` is never hit: an old default is cleared before a new one is set.
 */
export function createAddressesService({ db, clock }: { db: Db; clock: Clock }): AddressesService {
  async function lockOwner(tx: DbOrTx, userId: string): Promise<void> {
    if (!(await lockAddressOwner(tx, userId))) throw new AppError('unauthenticated', 'Sign in to continue');
  }

  async function reload(tx: DbOrTx, userId: string, id: string): Promise<AddressWithProvince> {
    const address = await findAddress(tx, userId, id);
    if (!address) throw notFound();
    return address;
  }

  return {
    list: ({ userId }) => listAddresses(db, userId),

    get: ({ userId, id }) => reload(db, userId, id),

    async getDefault({ userId }) {
      const address = await findDefaultAddress(db, userId);
      if (!address) throw new AppError('not_found', 'No default shipping address yet');
      return address;
    },

    create({ userId, input }) {
      return db.transaction(async (tx) => {
        const region = await resolveRegion(tx, {
          countryCode: input.countryCode,
          provinceId: input.provinceId,
          cityId: input.cityId ?? null,
          cityName: input.cityName,
          postalCode: input.postalCode,
        });
        await lockOwner(tx, userId);
        const existing = await countAddresses(tx, userId);
        if (existing >= MAX_ADDRESSES_PER_USER) {
          throw new AppError(
            'address_limit_reached',
            `At most ${MAX_ADDRESSES_PER_USER} addresses per account`,
            {
              details: { limit: MAX_ADDRESSES_PER_USER },
            },
          );
        }
        const now = clock.now();
        const isDefaultShipping = existing === 0 || input.isDefaultShipping === true;
        if (isDefaultShipping && existing > 0) await clearDefaultAddress(tx, userId, now);
        const row = await insertAddress(tx, {
          userId,
          label: input.label ?? '',
          recipientName: input.recipientName,
          phone: input.phone,
          line1: input.line1,
          line2: input.line2 ?? '',
          ...region,
          isDefaultShipping,
          createdAt: now,
          updatedAt: now,
        });
        return reload(tx, userId, row.id);
      });
    },

    update({ userId, id, input }) {
      return db.transaction(async (tx) => {
        await lockOwner(tx, userId);
        const current = await reload(tx, userId, id);
        const changes: AddressChanges = {};
        if (input.label !== undefined) changes.label = input.label;
        if (input.recipientName !== undefined) changes.recipientName = input.recipientName;
        if (input.phone !== undefined) changes.phone = input.phone;
        if (input.line1 !== undefined) changes.line1 = input.line1;
        if (input.line2 !== undefined) changes.line2 = input.line2;
        const regionTouched =
          input.countryCode !== undefined ||
          input.provinceId !== undefined ||
          input.cityId !== undefined ||
          input.cityName !== undefined ||
          input.postalCode !== undefined;
        if (regionTouched) {
          // A cityName without a cityId means "a city not in the list".
          const cityId =
            input.cityId !== undefined ? input.cityId : input.cityName !== undefined ? null : current.cityId;
          Object.assign(
            changes,
            await resolveRegion(tx, {
              countryCode: input.countryCode ?? current.countryCode,
              provinceId: input.provinceId ?? current.provinceId,
              cityId,
              cityName: input.cityName ?? current.cityName,
              postalCode: input.postalCode ?? current.postalCode,
            }),
          );
        }
        if (Object.keys(changes).length === 0) return current;
        await updateAddress(tx, userId, id, { ...changes, updatedAt: clock.now() });
        return reload(tx, userId, id);
      });
    },

    remove({ userId, id }) {
      return db.transaction(async (tx) => {
        await lockOwner(tx, userId);
        const deleted = await deleteAddress(tx, userId, id);
        if (!deleted) throw notFound();
        if (!deleted.isDefaultShipping) return;
        const next = await findLatestAddressId(tx, userId);
        if (next) await markDefaultAddress(tx, userId, next, clock.now());
      });
    },

    makeDefault({ userId, id }) {
      return db.transaction(async (tx) => {
        await lockOwner(tx, userId);
        const current = await reload(tx, userId, id);
        if (current.isDefaultShipping) return current;
        const now = clock.now();
        // Clear first, then set: the partial unique index never sees two defaults.
        await clearDefaultAddress(tx, userId, now, id);
        await markDefaultAddress(tx, userId, id, now);
        return reload(tx, userId, id);
      });
    },
  };
}
