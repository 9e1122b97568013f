import Type, { type Static, type TSchema } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { ORDER_KINDS, ORDER_PAYMENT_STATUSES, ORDER_STATUSES } from './orders.tables.ts';

const EXAMPLE_IDS = {
  order: '7b1e4c2a-9d3f-4a6b-8c5e-2f1a3b4c5d6e',
  line: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  variant: '4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a',
  product: '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c',
  seller: '6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b',
  buyer: '9d8c7b6a-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  staff: '2f3e4d5c-6b7a-4980-8d1c-2b3a4f5e6d7c',
};

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Minor = Type.Integer({ minimum: 0, description: 'Minor units of `currency`' });

export const OrderTotals = Type.Object(
  {
    items: Minor,
    shipping: Minor,
    tax: Minor,
    fees: Minor,
    total: Type.Integer({ minimum: 0, description: 'items + shipping + tax + fees' }),
    paid: Type.Integer({ minimum: 0, description: 'Captured by the payment provider' }),
    refunded: Type.Integer({ minimum: 0, description: 'Refunded so far (never more than paid)' }),
  },
  { description: 'Amounts in minor units of the order currency' },
);

const Address = Type.Object({
  name: Type.String(),
  line1: Type.String(),
  line2: Type.Optional(Nullable(Type.String())),
  city: Type.String(),
  region: Type.Optional(Nullable(Type.String())),
  postalCode: Type.String(),
  country: Type.String(),
  phone: Type.Optional(Nullable(Type.String())),
});

const OrderLine = Type.Object({
  id: Type.String({ format: 'uuid' }),
  variantId: Nullable(Type.String({ format: 'uuid' })),
  productId: Nullable(Type.String({ format: 'uuid' })),
  sku: Nullable(Type.String()),
  title: Type.String(),
  quantity: Type.Integer({ minimum: 1 }),
  unitPriceMinor: Minor,
  totalMinor: Minor,
});

const AdminOrderLine = Type.Object({
  ...OrderLine.properties,
  sellerId: Nullable(Type.String({ format: 'uuid' })),
  platformFeeMinor: Minor,
});

const TimelineEntry = Type.Object({
  type: Type.String({
    description: 'placed, paid, payment_failed, cancelled, shipped, delivered, refund, …',
  }),
  fromStatus: Nullable(Type.String()),
  toStatus: Nullable(Type.String()),
  actorKind: Type.String({ description: 'buyer, staff, system or provider:<name>' }),
  note: Nullable(Type.String()),
  at: DateTime,
});

const AdminTimelineEntry = Type.Object({
  ...TimelineEntry.properties,
  id: Type.Integer(),
  actorId: Nullable(Type.String({ format: 'uuid' })),
  data: Type.Record(Type.String(), Type.Unknown()),
});

const Shipment = Type.Object({ carrier: Type.String(), trackingNumber: Type.String(), shippedAt: DateTime });

const summaryProperties = {
  id: Type.String({ format: 'uuid' }),
  number: Type.Integer({ description: 'Human-facing order number' }),
  kind: Type.Enum(ORDER_KINDS),
  status: Type.Enum(ORDER_STATUSES),
  paymentStatus: Type.Enum(ORDER_PAYMENT_STATUSES),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  totals: OrderTotals,
  itemCount: Type.Integer({ minimum: 0, description: 'Units over all lines' }),
  email: Type.String({ description: 'Where order emails go' }),
  placedAt: DateTime,
};

const detailProperties = {
  ...summaryProperties,
  lines: Type.Array(OrderLine),
  shippingAddress: Nullable(Address),
  paymentDueAt: NullableDateTime,
  paidAt: NullableDateTime,
  shippedAt: NullableDateTime,
  deliveredAt: NullableDateTime,
  cancelledAt: NullableDateTime,
  cancelReason: Nullable(Type.String()),
  shipment: Nullable(Shipment),
  timeline: Type.Array(TimelineEntry, { description: 'Oldest first; staff notes are not shown' }),
};

const TOTALS_EXAMPLE = { items: 9000, shipping: 500, tax: 0, fees: 0, total: 9500, paid: 9500, refunded: 0 };
const SUMMARY_EXAMPLE = {
  id: EXAMPLE_IDS.order,
  number: 1042,
  kind: 'store',
  status: 'shipped',
  paymentStatus: 'paid',
  currency: 'USD',
  totals: TOTALS_EXAMPLE,
  itemCount: 2,
  email: 'minji@example.com',
  placedAt: '2026-11-20T10:00:00.000Z',
};
const LINE_EXAMPLE = {
  id: EXAMPLE_IDS.line,
  variantId: EXAMPLE_IDS.variant,
  productId: EXAMPLE_IDS.product,
  sku: 'MUG-BLUE',
  title: 'Stoneware mug, blue',
  quantity: 2,
  unitPriceMinor: 4500,
  totalMinor: 9000,
};
const DETAIL_EXAMPLE = {
  ...SUMMARY_EXAMPLE,
  lines: [LINE_EXAMPLE],
  shippingAddress: {
    name: 'Minji Kim',
    line1: '1 Market St',
    line2: null,
    city: 'San Francisco',
    region: 'CA',
    postalCode: '94105',
    country: 'US',
    phone: null,
  },
  paymentDueAt: '2026-11-23T10:00:00.000Z',
  paidAt: '2026-11-20T10:02:00.000Z',
  shippedAt: '2026-11-21T08:00:00.000Z',
  deliveredAt: null,
  cancelledAt: null,
  cancelReason: null,
  shipment: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784', shippedAt: '2026-11-21T08:00:00.000Z' },
  timeline: [
    {
      type: 'placed',
      fromStatus: null,
      toStatus: 'pending_payment',
      actorKind: 'buyer',
      note: null,
      at: '2026-11-20T10:00:00.000Z',
    },
    {
      type: 'paid',
      fromStatus: 'pending_payment',
      toStatus: 'paid',
      actorKind: 'provider:stripe',
      note: null,
      at: '2026-11-20T10:02:00.000Z',
    },
    {
      type: 'shipped',
      fromStatus: 'paid',
      toStatus: 'shipped',
      actorKind: 'staff',
      note: null,
      at: '2026-11-21T08:00:00.000Z',
    },
  ],
};

export const OrderSummary = Type.Object(summaryProperties, { examples: [SUMMARY_EXAMPLE] });

export const OrderPage = Type.Object(
  {
    items: Type.Array(OrderSummary),
    nextCursor: Nullable(Type.String({ description: 'Pass as ?cursor= for the next page' })),
  },
  { examples: [{ items: [SUMMARY_EXAMPLE], nextCursor: null }] },
);

export const OrderDetail = Type.Object(detailProperties, { examples: [DETAIL_EXAMPLE] });

export const AdminOrder = Type.Object(
  {
    ...detailProperties,
    sourceRef: Nullable(Type.String()),
    cartId: Nullable(Type.String({ format: 'uuid' })),
    buyer: Type.Object({
      id: Type.String({ format: 'uuid' }),
      email: Type.String(),
      displayName: Type.String(),
    }),
    lines: Type.Array(AdminOrderLine),
    timeline: Type.Array(AdminTimelineEntry, { description: 'Oldest first, staff notes included' }),
  },
  {
    examples: [
      {
        ...DETAIL_EXAMPLE,
        sourceRef: null,
        cartId: null,
        buyer: { id: EXAMPLE_IDS.buyer, email: 'minji@example.com', displayName: 'minji' },
        lines: [{ ...LINE_EXAMPLE, sellerId: EXAMPLE_IDS.seller, platformFeeMinor: 0 }],
        timeline: DETAIL_EXAMPLE.timeline.map((entry, index) => ({
          ...entry,
          id: index + 1,
          actorId:
            entry.actorKind === 'buyer'
              ? EXAMPLE_IDS.buyer
              : entry.actorKind === 'staff'
                ? EXAMPLE_IDS.staff
                : null,
          data: entry.type === 'shipped' ? { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' } : {},
        })),
      },
    ],
  },
);

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });
const CursorParam = Type.String({ maxLength: 500, description: 'nextCursor of the previous page' });

export const OrderListQuery = Type.Object({
  status: Type.Optional(Type.Enum(ORDER_STATUSES)),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(CursorParam),
});

export const AdminOrderListQuery = Type.Object({
  status: Type.Optional(Type.Enum(ORDER_STATUSES)),
  paymentStatus: Type.Optional(Type.Enum(ORDER_PAYMENT_STATUSES)),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'An order number (1042 or #1042) or part of the buyer email',
      examples: ['minji@'],
    }),
  ),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(CursorParam),
});

export const OrderIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ShipOrderBody = Type.Object(
  {
    carrier: Type.String({ minLength: 1, maxLength: 60, examples: ['UPS'] }),
    trackingNumber: Type.String({ minLength: 1, maxLength: 100, examples: ['1Z999AA10123456784'] }),
  },
  { additionalProperties: false, examples: [{ carrier: 'UPS', trackingNumber: '1Z999AA10123456784' }] },
);

export const CancelOrderBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500, examples: ['Buyer asked by phone'] }) },
  { additionalProperties: false, examples: [{ reason: 'Buyer asked by phone' }] },
);

export const OrderNoteBody = Type.Object(
  { note: Type.String({ minLength: 1, maxLength: 2000, examples: ['Customer asked for gift wrap'] }) },
  { additionalProperties: false, examples: [{ note: 'Customer asked for gift wrap' }] },
);

export type OrderSummaryView = Static<typeof OrderSummary>;
export type OrderPageView = Static<typeof OrderPage>;
export type OrderDetailView = Static<typeof OrderDetail>;
export type AdminOrderView = Static<typeof AdminOrder>;
export type AdminOrderPageView = { items: OrderSummaryView[]; nextCursor: string | null };
export type AdminOrderListQueryValue = Static<typeof AdminOrderListQuery>;
export type OrderListQueryValue = Static<typeof OrderListQuery>;
