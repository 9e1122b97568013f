import Type from 'typebox';
import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  Conversion,
  ConvertQuery,
  History,
  HistoryQuery,
  ManualRate,
  ManualRateBody,
  PairParams,
  RatesQuery,
  RateTable,
  RemoveManualRateQuery,
  SyncResultSchema,
} from './currency.schemas.ts';
import { createExchangeRatesService } from './exchange-rates.service.ts';
import { exchangeRateProviderFor } from './providers/provider-for.ts';

const TAGS = ['currency'];

/** Exchange rates for display (public), staff overrides and syncs. */
export function registerCurrencyRoutes(app: AppInstance, services: PlatformServices): void {
  const rates = createExchangeRatesService({
    db: services.db,
    clock: services.clock,
    provider: exchangeRateProviderFor(services.config.currency),
  });

  app.get(
    '/api/exchange-rates',
    {
      config: { access: access.public('reference exchange rates are public data') },
      schema: {
        tags: TAGS,
        summary: 'Rates from one currency to every other we know, in force on a day (default today)',
        description:
          'Latest stored rate on or before `date` for each pair, crossed through EUR where no direct pair exists; a staff rate wins over the provider on the same day. 404 rate_not_found when nothing connects to `base`.',
        querystring: RatesQuery,
        response: { 200: RateTable },
      },
    },
    async (request) => rates.table({ base: request.query.base ?? 'EUR', date: request.query.date }),
  );

  app.get(
    '/api/exchange-rates/history',
    {
      config: { access: access.public('reference exchange rates are public data') },
      schema: {
        tags: TAGS,
        summary: 'Daily history of one rate, oldest first (at most 366 days)',
        description:
          'One entry per day on which a rate it uses was published (or set by staff), with the rate in force that day.',
        querystring: HistoryQuery,
        response: { 200: History },
      },
    },
    async (request) => rates.history(request.query),
  );

  app.get(
    '/api/currency/convert',
    {
      config: { access: access.public('conversion for display uses public rates') },
      schema: {
        tags: TAGS,
        summary: 'Convert an amount for display (charges always stay in the listing currency)',
        description:
          'Indicative only: prices, carts, orders and payments are always charged in the listing’s own currency; this converts an amount in minor units at the rate in force on `date`, exactly, rounding half-to-even once. 404 rate_not_found when no rate connects the two currencies.',
        querystring: ConvertQuery,
        response: { 200: Conversion },
      },
    },
    async (request) => rates.convert(request.query),
  );

  app.put(
    '/api/admin/exchange-rates/:base/:quote',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Set a staff rate for a pair and day (wins over the provider on that day; audited)',
        params: PairParams,
        body: ManualRateBody,
        response: { 200: ManualRate },
      },
    },
    async (request) =>
      rates.setManualRate({
        actor: requirePrincipal(request),
        base: request.params.base,
        quote: request.params.quote,
        rate: request.body.rate,
        asOf: request.body.asOf,
        requestId: String(request.id),
      }),
  );

  app.delete(
    '/api/admin/exchange-rates/:base/:quote',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Remove a staff rate (the provider rate applies again; audited)',
        params: PairParams,
        querystring: RemoveManualRateQuery,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await rates.removeManualRate({
        actor: requirePrincipal(request),
        base: request.params.base,
        quote: request.params.quote,
        asOf: request.query.asOf,
        requestId: String(request.id),
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/exchange-rates/sync',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Fetch and store the provider’s rates now (502 rate_provider_unavailable stores nothing)',
        response: { 200: SyncResultSchema },
      },
    },
    async () => rates.sync(),
  );
}
