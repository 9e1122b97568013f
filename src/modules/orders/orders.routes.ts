import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  AdminOrder,
  AdminOrderListQuery,
  CancelOrderBody,
  OrderDetail,
  OrderIdParams,
  OrderListQuery,
  OrderNoteBody,
  OrderPage,
  ShipOrderBody,
} from './orders.schemas.ts';
import { createOrdersService } from './orders.service.ts';

const TAGS = ['orders'];

/** Buyers' order history and cancel; staff's order desk (list, detail, ship, deliver, cancel, notes). */
export function registerOrdersRoutes(app: AppInstance, services: PlatformServices): void {
  const orders = createOrdersService({ db: services.db, clock: services.clock, notifier: services.notifier });

  app.get(
    '/api/orders',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: TAGS,
        summary: 'My orders, newest first (optional status filter, cursor pages)',
        querystring: OrderListQuery,
        response: { 200: OrderPage },
      },
    },
    async (request) => orders.listMine({ actor: requirePrincipal(request), ...request.query }),
  );

  app.get(
    '/api/orders/:id',
    {
      config: { access: access.owner('the buyer') },
      schema: {
        tags: TAGS,
        summary: "One of my orders: lines, totals, status and timeline (another user's order is 404)",
        params: OrderIdParams,
        response: { 200: OrderDetail },
      },
    },
    async (request) => orders.getMine({ actor: requirePrincipal(request), id: request.params.id }),
  );

  app.post(
    '/api/orders/:id/cancel',
    {
      config: { access: access.owner('the buyer') },
      schema: {
        tags: TAGS,
        summary: 'Cancel my unpaid order and release its stock (409 order_not_cancellable once paid)',
        params: OrderIdParams,
        response: { 200: OrderDetail },
      },
    },
    async (request) => orders.cancelMine({ actor: requirePrincipal(request), id: request.params.id }),
  );

  app.get(
    '/api/admin/orders',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'All orders, newest first: filter by status, payment status, number or buyer email',
        querystring: AdminOrderListQuery,
        response: { 200: OrderPage },
      },
    },
    async (request) => orders.list(request.query),
  );

  app.get(
    '/api/admin/orders/:id',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'An order with its buyer, lines and full timeline (staff notes included)',
        params: OrderIdParams,
        response: { 200: AdminOrder },
      },
    },
    async (request) => orders.get({ id: request.params.id }),
  );

  app.post(
    '/api/admin/orders/:id/ship',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Mark a paid order shipped with its carrier and tracking number (emails the buyer)',
        params: OrderIdParams,
        body: ShipOrderBody,
        response: { 200: AdminOrder },
      },
    },
    async (request) =>
      orders.ship({ actor: requirePrincipal(request), id: request.params.id, ...request.body }),
  );

  app.post(
    '/api/admin/orders/:id/deliver',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Mark a shipped order delivered (the buyer may then review its products)',
        params: OrderIdParams,
        response: { 200: AdminOrder },
      },
    },
    async (request) => orders.deliver({ actor: requirePrincipal(request), id: request.params.id }),
  );

  app.post(
    '/api/admin/orders/:id/cancel',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary:
          'Cancel an unpaid order (409 order_not_cancellable once paid: refund it through payments instead)',
        params: OrderIdParams,
        body: CancelOrderBody,
        response: { 200: AdminOrder },
      },
    },
    async (request) =>
      orders.cancel({ actor: requirePrincipal(request), id: request.params.id, reason: request.body.reason }),
  );

  app.post(
    '/api/admin/orders/:id/notes',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Add an internal note to the order timeline (not shown to the buyer)',
        params: OrderIdParams,
        body: OrderNoteBody,
        response: { 201: AdminOrder },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await orders.addNote({
          actor: requirePrincipal(request),
          id: request.params.id,
          note: request.body.note,
        }),
      ),
  );
}
