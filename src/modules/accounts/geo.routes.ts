import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import { findCountry, findProvince, listCities, listCountries, listProvinces } from './geo.repo.ts';

const Country = Type.Object({
  code: Type.String({ description: 'ISO 3166-1 alpha-2', examples: ['KR'] }),
  name: Type.String({ examples: ['South Korea'] }),
  phonePrefix: Type.String({ examples: ['+82'] }),
  divisionLabel: Type.String({
    description: 'What the country calls its first-level division',
    examples: ['Province'],
  }),
});

const Province = Type.Object({
  id: Type.Integer({ examples: [109] }),
  countryCode: Type.String({ examples: ['KR'] }),
  code: Type.String({ description: 'ISO 3166-2 (KR, PK) or USPS (US) code', examples: ['KR-41'] }),
  name: Type.String({ examples: ['Gyeonggi'] }),
});

const City = Type.Object({
  id: Type.Integer({ examples: [10901] }),
  provinceId: Type.Integer({ examples: [109] }),
  name: Type.String({ examples: ['Suwon'] }),
});

// Reference data changes only with a migration: let clients and proxies keep it for an hour.
const CACHE_CONTROL = 'public, max-age=3600';

/** Country → province/state → city lists for address forms. Read-only; loaded by migration 0002. */
export function registerGeoRoutes(app: AppInstance, context: AccountsContext): void {
  const { db } = context.services;
  const reason = 'reference data for address forms';

  app.get(
    '/api/geo/countries',
    {
      config: { access: access.public(reason) },
      schema: {
        tags: ['geo'],
        summary: 'Countries Caravan ships to',
        response: {
          200: Type.Object(
            { items: Type.Array(Country) },
            {
              examples: [
                {
                  items: [
                    { code: 'PK', name: 'Pakistan', phonePrefix: '+92', divisionLabel: 'Province' },
                    { code: 'KR', name: 'South Korea', phonePrefix: '+82', divisionLabel: 'Province' },
                    { code: 'US', name: 'United States', phonePrefix: '+1', divisionLabel: 'State' },
                  ],
                },
              ],
            },
          ),
        },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', CACHE_CONTROL);
      return { items: await listCountries(db) };
    },
  );

  app.get(
    '/api/geo/countries/:code/provinces',
    {
      config: { access: access.public(reason) },
      schema: {
        tags: ['geo'],
        summary: 'The first-level divisions (provinces, states) of a country, by name',
        params: Type.Object({ code: Type.String({ pattern: '^[A-Za-z]{2}$', examples: ['KR'] }) }),
        response: {
          200: Type.Object(
            { items: Type.Array(Province) },
            {
              examples: [
                {
                  items: [
                    { id: 102, countryCode: 'KR', code: 'KR-26', name: 'Busan' },
                    { id: 103, countryCode: 'KR', code: 'KR-27', name: 'Daegu' },
                    { id: 106, countryCode: 'KR', code: 'KR-30', name: 'Daejeon' },
                    { id: 110, countryCode: 'KR', code: 'KR-42', name: 'Gangwon' },
                    { id: 105, countryCode: 'KR', code: 'KR-29', name: 'Gwangju' },
                    { id: 109, countryCode: 'KR', code: 'KR-41', name: 'Gyeonggi' },
                  ],
                },
              ],
            },
          ),
        },
      },
    },
    async (request, reply) => {
      const code = request.params.code.toUpperCase();
      if (!(await findCountry(db, code))) throw new AppError('not_found', 'No such country');
      void reply.header('cache-control', CACHE_CONTROL);
      return { items: await listProvinces(db, code) };
    },
  );

  app.get(
    '/api/geo/provinces/:id/cities',
    {
      config: { access: access.public(reason) },
      schema: {
        tags: ['geo'],
        summary: 'Major cities of a province or state, by name (not exhaustive: addresses may name others)',
        params: Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647, examples: [109] }) }),
        response: {
          200: Type.Object(
            { items: Type.Array(City) },
            {
              examples: [
                {
                  items: [
                    { id: 10906, provinceId: 109, name: 'Ansan' },
                    { id: 10921, provinceId: 109, name: 'Anseong' },
                    { id: 10907, provinceId: 109, name: 'Anyang' },
                    { id: 10905, provinceId: 109, name: 'Bucheon' },
                    { id: 10926, provinceId: 109, name: 'Dongducheon' },
                    { id: 10930, provinceId: 109, name: 'Gapyeong' },
                  ],
                },
              ],
            },
          ),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!(await findProvince(db, id))) throw new AppError('not_found', 'No such province');
      void reply.header('cache-control', CACHE_CONTROL);
      return { items: await listCities(db, id) };
    },
  );
}
