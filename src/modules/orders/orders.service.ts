import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import type { Principal } from '../../platform/http/principal.ts';
import type { Notifier } from '../../platform/notify/notify.service.ts';
import { cancelLockedOrder, orderNotFound } from './cancel-order.ts';
import { notifyBuyer, type OrdersDeps } from './order-notifications.ts';
import { transitionOrder } from './order-status.ts';
import {
  findBuyer,
  findOrder,
  findOrderEvents,
  findOrderLines,
  findOrderOfBuyer,
  insertOrderEvent,
  listBuyerOrders,
  listOrdersForStaff,
  lockOrder,
  type OrderListRow,
  type OrderRow,
} from './orders.repo.ts';
import type {
  AdminOrderListQueryValue,
  AdminOrderPageView,
  AdminOrderView,
  OrderDetailView,
  OrderListQueryValue,
  OrderPageView,
} from './orders.schemas.ts';
import { orderCancelledTemplate, orderDeliveredTemplate, orderShippedTemplate } from './orders.templates.ts';
import { listRowToSummary, toAdminView, toDetail } from './orders.views.ts';
import { decodeOrderCursor, encodeOrderCursor } from './orders-cursor.ts';

const DEFAULT_LIMIT = 20;

export type Actor = Pick<Principal, 'userId' | 'roles'>;

export interface OrdersService {
  listMine(options: { actor: Actor } & OrderListQueryValue): Promise<OrderPageView>;
  getMine(options: { actor: Actor; id: string }): Promise<OrderDetailView>;
  cancelMine(options: { actor: Actor; id: string }): Promise<OrderDetailView>;
  list(options: AdminOrderListQueryValue): Promise<AdminOrderPageView>;
  get(options: { id: string }): Promise<AdminOrderView>;
  ship(options: {
    actor: Actor;
    id: string;
    carrier: string;
    trackingNumber: string;
  }): Promise<AdminOrderView>;
  deliver(options: { actor: Actor; id: string }): Promise<AdminOrderView>;
  cancel(options: { actor: Actor; id: string; reason: string }): Promise<AdminOrderView>;
  addNote(options: { actor: Actor; id: string; note: string }): Promise<AdminOrderView>;
}

function page(rows: OrderListRow[], limit: number) {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return {
    items: items.map(listRowToSummary),
    nextCursor: more && last ? encodeOrderCursor({ placedAt: last.sortKey, id: last.id }) : null,
  };
}

/**
 * The HTTP use cases: buyers read and cancel their own orders (anyone else's is a 404, exactly
 * like a missing one), staff read every order and move fulfilment on. Each change is one
 * transaction that locks the order row first.
 */
export function createOrdersService({
  db,
  clock,
  notifier,
}: {
  db: Db;
  clock: Clock;
  notifier: Notifier;
}): OrdersService {
  const deps: OrdersDeps = { clock, notifier };

  async function detail(tx: DbOrTx, order: OrderRow): Promise<OrderDetailView> {
    const lines = await findOrderLines(tx, order.id);
    return toDetail(order, lines, await findOrderEvents(tx, order.id));
  }

  async function adminView(tx: DbOrTx, order: OrderRow): Promise<AdminOrderView> {
    const buyer = await findBuyer(tx, order.buyerId);
    const lines = await findOrderLines(tx, order.id);
    const events = await findOrderEvents(tx, order.id);
    return toAdminView(order, buyer, lines, events);
  }

  /** A staff step on one order: locks it, applies `step`, answers the order as staff see it. */
  function withLockedOrder(
    id: string,
    step: (tx: DbOrTx, order: OrderRow, now: Date) => Promise<OrderRow>,
  ): Promise<AdminOrderView> {
    return db.transaction(async (tx) => {
      const order = await lockOrder(tx, id);
      if (!order) throw orderNotFound();
      return adminView(tx, await step(tx, order, clock.now()));
    });
  }

  return {
    async listMine({ actor, status, limit = DEFAULT_LIMIT, cursor }) {
      const after = cursor === undefined ? undefined : decodeOrderCursor(cursor);
      const rows = await listBuyerOrders(db, { buyerId: actor.userId, status, after, limit: limit + 1 });
      return page(rows, limit);
    },

    async getMine({ actor, id }) {
      const order = await findOrderOfBuyer(db, { orderId: id, buyerId: actor.userId });
      if (!order) throw orderNotFound();
      return detail(db, order);
    },

    cancelMine({ actor, id }) {
      return db.transaction(async (tx) => {
        const order = await lockOrder(tx, id);
        if (order?.buyerId !== actor.userId) throw orderNotFound();
        const cancelled = await cancelLockedOrder(tx, deps, {
          order,
          reason: 'buyer_request',
          actor: { kind: 'buyer', id: actor.userId },
          holdsReason: 'cancelled',
          template: orderCancelledTemplate,
        });
        return detail(tx, cancelled);
      });
    },

    async list({ status, paymentStatus, q, limit = DEFAULT_LIMIT, cursor }) {
      const after = cursor === undefined ? undefined : decodeOrderCursor(cursor);
      const rows = await listOrdersForStaff(db, { status, paymentStatus, q, after, limit: limit + 1 });
      return page(rows, limit);
    },

    async get({ id }) {
      const order = await findOrder(db, id);
      if (!order) throw orderNotFound();
      return adminView(db, order);
    },

    ship({ actor, id, carrier, trackingNumber }) {
      return withLockedOrder(id, async (tx, order, now) => {
        const shipped = await transitionOrder(tx, {
          order,
          to: 'shipped',
          actor: { kind: 'staff', id: actor.userId },
          now,
          data: { carrier, trackingNumber },
          set: { shippedAt: now },
        });
        await notifyBuyer(tx, deps, {
          order: shipped,
          template: orderShippedTemplate.name,
          event: 'shipped',
          data: { carrier, trackingNumber },
        });
        return shipped;
      });
    },

    deliver({ actor, id }) {
      return withLockedOrder(id, async (tx, order, now) => {
        const delivered = await transitionOrder(tx, {
          order,
          to: 'delivered',
          actor: { kind: 'staff', id: actor.userId },
          now,
          set: { deliveredAt: now },
        });
        await notifyBuyer(tx, deps, {
          order: delivered,
          template: orderDeliveredTemplate.name,
          event: 'delivered',
        });
        return delivered;
      });
    },

    cancel({ actor, id, reason }) {
      return withLockedOrder(id, (tx, order) =>
        cancelLockedOrder(tx, deps, {
          order,
          reason,
          actor: { kind: 'staff', id: actor.userId },
          holdsReason: 'cancelled',
          template: orderCancelledTemplate,
        }),
      );
    },

    addNote({ actor, id, note }) {
      return withLockedOrder(id, async (tx, order, now) => {
        await insertOrderEvent(tx, {
          orderId: order.id,
          type: 'note',
          fromStatus: order.status,
          toStatus: order.status,
          actorKind: 'staff',
          actorId: actor.userId,
          note,
          createdAt: now,
        });
        return order;
      });
    },
  };
}
