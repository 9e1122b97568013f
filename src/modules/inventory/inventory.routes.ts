import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  AdjustBody,
  Availability,
  MovementListQuery,
  MovementPage,
  PublicVariantParams,
  ReceiveBody,
  StockChangeResult,
  StockLevels,
  VariantIdParams,
} from './inventory.schemas.ts';
import { createInventoryService } from './inventory.service.ts';

const TAGS = ['inventory'];

/** Staff stock tools (levels, audit log, receipts, count corrections) and public availability. */
export function registerInventoryRoutes(app: AppInstance, services: PlatformServices): void {
  const inventory = createInventoryService({ db: services.db, clock: services.clock });

  app.get(
    '/api/admin/inventory/:variantId',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: "A variant's stock levels and how many checkouts hold it now",
        params: VariantIdParams,
        response: { 200: StockLevels },
      },
    },
    async (request) => inventory.levels({ variantId: request.params.variantId.toLowerCase() }),
  );

  app.get(
    '/api/admin/inventory/:variantId/movements',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: "A variant's inventory audit log (every stock change), newest first, cursor pages",
        params: VariantIdParams,
        querystring: MovementListQuery,
        response: { 200: MovementPage },
      },
    },
    async (request) =>
      inventory.movements({
        variantId: request.params.variantId.toLowerCase(),
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/api/admin/inventory/:variantId/receive',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Record goods received (available and received go up)',
        params: VariantIdParams,
        body: ReceiveBody,
        response: { 200: StockChangeResult },
      },
    },
    async (request) =>
      inventory.receive({
        actor: requirePrincipal(request),
        variantId: request.params.variantId.toLowerCase(),
        input: request.body,
      }),
  );

  app.post(
    '/api/admin/inventory/:variantId/adjust',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary:
          'Correct available stock after a count (409 stock_adjustment_invalid when taking more than is available)',
        params: VariantIdParams,
        body: AdjustBody,
        response: { 200: StockChangeResult },
      },
    },
    async (request) =>
      inventory.adjust({
        actor: requirePrincipal(request),
        variantId: request.params.variantId.toLowerCase(),
        input: request.body,
      }),
  );

  app.get(
    '/api/variants/:id/availability',
    {
      config: { access: access.public('stock on sale is shown on product pages') },
      schema: {
        tags: TAGS,
        summary: 'Units of a variant on sale now (a plain read; checkout re-checks)',
        params: PublicVariantParams,
        response: { 200: Availability },
      },
    },
    async (request) => inventory.availability({ variantId: request.params.id.toLowerCase() }),
  );
}
