import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { PAYMENT_PROVIDERS, PAYMENT_STATUSES, REFUND_STATUSES } from './payments.tables.ts';

const IDS = {
  payment: '0b7e4c2a-9d3f-4a1b-8c6e-5f2d1a3b4c5d',
  order: '6a1f3e9c-2b4d-4e8a-9c7b-1d3e5f7a9b2c',
  refund: 'c3d2e1f0-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
};

export const OrderIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const ProviderParams = Type.Object({ provider: Type.String({ minLength: 1, maxLength: 20 }) });

const REFUND_EXAMPLE = {
  id: IDS.refund,
  paymentId: IDS.payment,
  orderId: IDS.order,
  amountMinor: 2500,
  currency: 'USD',
  status: 'pending',
  reason: 'Item arrived damaged',
  providerRef: null,
  failureCode: null,
  createdAt: '2026-11-21T10:05:00.000Z',
  settledAt: null,
};

export const RefundView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    paymentId: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    amountMinor: Type.Integer(),
    currency: Type.String(),
    status: Type.Enum(REFUND_STATUSES),
    reason: Type.Union([Type.String(), Type.Null()]),
    providerRef: Type.Union([Type.String(), Type.Null()]),
    failureCode: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTime,
    settledAt: NullableDateTime,
  },
  { examples: [REFUND_EXAMPLE] },
);
export type RefundViewValue = Static<typeof RefundView>;

const PAYMENT_EXAMPLE = {
  id: IDS.payment,
  orderId: IDS.order,
  provider: 'local',
  status: 'captured',
  amountMinor: 12500,
  currency: 'USD',
  capturedMinor: 12500,
  refundedMinor: 0,
  redirectUrl: null,
  failureCode: null,
  createdAt: '2026-11-21T10:00:00.000Z',
  updatedAt: '2026-11-21T10:01:10.000Z',
};

export const PaymentView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    orderId: Type.String({ format: 'uuid' }),
    provider: Type.Enum(PAYMENT_PROVIDERS),
    status: Type.Enum(PAYMENT_STATUSES),
    amountMinor: Type.Integer(),
    currency: Type.String(),
    capturedMinor: Type.Integer(),
    refundedMinor: Type.Integer(),
    /** Only while the payment is pending: where the buyer can (still) pay. */
    redirectUrl: Type.Union([Type.String(), Type.Null()]),
    failureCode: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { examples: [PAYMENT_EXAMPLE] },
);

const EVENT_EXAMPLE = {
  provider: 'stripe',
  eventId: 'evt_1Q2w3E4r5T6y7U8i',
  type: 'checkout.session.completed',
  action: 'captured',
  source: 'webhook',
  occurredAt: '2026-11-21T10:01:09.000Z',
  receivedAt: '2026-11-21T10:01:10.000Z',
  outcome: 'applied',
};

export const PaymentEventView = Type.Object(
  {
    provider: Type.String(),
    eventId: Type.String(),
    type: Type.String(),
    action: Type.String(),
    source: Type.String(),
    occurredAt: DateTime,
    receivedAt: DateTime,
    outcome: Type.Union([Type.String(), Type.Null()]),
  },
  { examples: [EVENT_EXAMPLE] },
);

export const OrderPayments = Type.Object(
  {
    payments: Type.Array(PaymentView),
    refunds: Type.Array(RefundView),
    /** Provider events as received (staff only; empty for buyers). */
    events: Type.Array(PaymentEventView),
  },
  { examples: [{ payments: [PAYMENT_EXAMPLE], refunds: [REFUND_EXAMPLE], events: [EVENT_EXAMPLE] }] },
);

export const RefundBody = Type.Object(
  {
    /** Minor units; omit for a full refund of what is left. */
    amountMinor: Type.Optional(Type.Integer({ minimum: 1 })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false, examples: [{ amountMinor: 2500, reason: 'Item arrived damaged' }] },
);

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
});

export const WebhookAck = Type.Object(
  { received: Type.Boolean(), duplicate: Type.Boolean() },
  { examples: [{ received: true, duplicate: false }] },
);

export const ReconciliationReportView = Type.Object(
  {
    providers: Type.Record(Type.String(), Type.Object({ listed: Type.Integer(), recorded: Type.Integer() })),
    requeued: Type.Integer(),
    /** Provider payments closed because their order was cancelled. */
    closed: Type.Integer(),
  },
  {
    examples: [
      {
        providers: { local: { listed: 0, recorded: 0 }, stripe: { listed: 12, recorded: 1 } },
        requeued: 0,
        closed: 1,
      },
    ],
  },
);
