import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';

/** Reference ids are PostgreSQL `integer`s: bound them so a huge number is a 400, not a 500. */
const RegionId = (examples: number[]) => Type.Integer({ minimum: 1, maximum: 2_147_483_647, examples });

const Label = Type.String({ maxLength: 50, description: 'A name for the address', examples: ['Home'] });
const RecipientName = Type.String({ minLength: 1, maxLength: 100, examples: ['Kim Minji'] });
const Phone = Type.String({
  pattern: '^\\+[1-9][0-9]{6,14}$',
  description: 'E.164',
  examples: ['+821012345678'],
});
const Line1 = Type.String({ minLength: 1, maxLength: 200, examples: ['123 Teheran-ro, Gangnam-gu'] });
const Line2 = Type.String({ maxLength: 200, examples: ['Apt 1203'] });
const PostalCode = Type.String({
  minLength: 1,
  maxLength: 16,
  description: 'Checked per country: KR and PK 5 digits, US ZIP or ZIP+4',
  examples: ['06236'],
});
const CountryCode = Type.String({ pattern: '^[A-Za-z]{2}$', examples: ['KR'] });
const CityName = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'Free text for a city not in the list; ignored when cityId is given',
  examples: ['Seoul'],
});

/** Minji's home in Seoul, her default shipping address. */
const HOME_EXAMPLE = {
  id: '2f6a8c1e-4b3d-4a5f-9e7c-1d2b3a4c5e6f',
  label: 'Home',
  recipientName: 'Kim Minji',
  phone: '+821012345678',
  line1: '123 Teheran-ro, Gangnam-gu',
  line2: 'Apt 1203',
  postalCode: '06236',
  countryCode: 'KR',
  provinceId: 101,
  provinceCode: 'KR-11',
  provinceName: 'Seoul',
  cityId: 10101,
  cityName: 'Seoul',
  isDefaultShipping: true,
  createdAt: '2026-11-21T10:20:00.000Z',
  updatedAt: '2026-11-21T10:20:00.000Z',
};

export const Address = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    label: Type.String({ examples: ['Home'] }),
    recipientName: Type.String({ examples: ['Kim Minji'] }),
    phone: Type.String({ examples: ['+821012345678'] }),
    line1: Type.String({ examples: ['123 Teheran-ro, Gangnam-gu'] }),
    line2: Type.String({ examples: ['Apt 1203'] }),
    postalCode: Type.String({ examples: ['06236'] }),
    countryCode: Type.String({ examples: ['KR'] }),
    provinceId: Type.Integer({ examples: [101] }),
    provinceCode: Type.String({ examples: ['KR-11'] }),
    provinceName: Type.String({ examples: ['Seoul'] }),
    cityId: Type.Union([Type.Integer(), Type.Null()], { examples: [10101] }),
    cityName: Type.String({ examples: ['Seoul'] }),
    isDefaultShipping: Type.Boolean(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { examples: [HOME_EXAMPLE] },
);

export const AddressList = Type.Object(
  { items: Type.Array(Address) },
  {
    examples: [
      {
        items: [
          HOME_EXAMPLE,
          {
            id: '8d3b5f7a-1c2e-4d6b-a9f0-3e5c7a9b1d24',
            label: 'Office',
            recipientName: 'Kim Minji',
            phone: '+821012345678',
            line1: '235 Pangyoyeok-ro, Bundang-gu',
            line2: '7F',
            postalCode: '13494',
            countryCode: 'KR',
            provinceId: 109,
            provinceCode: 'KR-41',
            provinceName: 'Gyeonggi',
            cityId: 10902,
            cityName: 'Seongnam',
            isDefaultShipping: false,
            createdAt: '2026-11-24T01:45:00.000Z',
            updatedAt: '2026-11-24T01:45:00.000Z',
          },
        ],
      },
    ],
  },
);

export const AddressParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/**
 * Unknown properties (a `userId`, say) are dropped by validation (`additionalProperties: false`
 * with Ajv's `removeAdditional`): the owner is always the signed-in user.
 */
export const CreateAddressBody = Type.Object(
  {
    label: Type.Optional(Label),
    recipientName: RecipientName,
    phone: Phone,
    line1: Line1,
    line2: Type.Optional(Line2),
    postalCode: PostalCode,
    countryCode: CountryCode,
    provinceId: RegionId([101]),
    cityId: Type.Optional(RegionId([10101])),
    cityName: Type.Optional(CityName),
    isDefaultShipping: Type.Optional(
      Type.Boolean({ description: 'Make it the default shipping address (the first address always is)' }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        label: 'Home',
        recipientName: 'Kim Minji',
        phone: '+821012345678',
        line1: '123 Teheran-ro, Gangnam-gu',
        line2: 'Apt 1203',
        postalCode: '06236',
        countryCode: 'KR',
        provinceId: 101,
        cityId: 10101,
        isDefaultShipping: true,
      },
    ],
  },
);

/**
 * Every field optional; the merged address is checked as a whole. `cityId: null` or a `cityName`
 * without `cityId` switches to a free-text city. The default is changed with POST …/default.
 */
export const UpdateAddressBody = Type.Object(
  {
    label: Type.Optional(Label),
    recipientName: Type.Optional(RecipientName),
    phone: Type.Optional(Phone),
    line1: Type.Optional(Line1),
    line2: Type.Optional(Line2),
    postalCode: Type.Optional(PostalCode),
    countryCode: Type.Optional(CountryCode),
    provinceId: Type.Optional(RegionId([101])),
    cityId: Type.Optional(Type.Union([RegionId([10101]), Type.Null()])),
    cityName: Type.Optional(CityName),
  },
  { additionalProperties: false, examples: [{ line2: 'Apt 1203', phone: '+821012345678' }] },
);

export type AddressView = Static<typeof Address>;
export type CreateAddressInput = Static<typeof CreateAddressBody>;
export type UpdateAddressInput = Static<typeof UpdateAddressBody>;
