import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';

const ADDRESS_EXAMPLE = {
  name: 'Minji Kim',
  line1: '350 5th Ave',
  line2: 'Apt 12',
  city: 'New York',
  region: 'NY',
  postalCode: '10118',
  country: 'US',
  phone: '+12125550123',
};

export const CheckoutAddress = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 300 }),
    line2: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
    city: Type.String({ minLength: 1, maxLength: 120 }),
    region: Type.Optional(Type.Union([Type.String({ maxLength: 120 }), Type.Null()])),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ pattern: '^[A-Z]{2}$' }),
    phone: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  },
  { additionalProperties: false, examples: [ADDRESS_EXAMPLE] },
);

export const CheckoutBody = Type.Object(
  {
    /** Ship to a saved address of the buyer… */
    addressId: Type.Optional(Type.String({ format: 'uuid' })),
    /** …or to this one. One of the two is required. */
    shippingAddress: Type.Optional(CheckoutAddress),
    /** A configured provider (default: PAYMENT_PROVIDER). */
    provider: Type.Optional(Type.Enum(['local', 'stripe', 'paypal'])),
    /** The total the buyer was shown; a different total (a price changed) is refused with 409. */
    expectedTotalMinor: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  {
    additionalProperties: false,
    examples: [{ shippingAddress: ADDRESS_EXAMPLE, provider: 'local', expectedTotalMinor: 10500 }],
  },
);
export type CheckoutBodyValue = Static<typeof CheckoutBody>;

export const CheckoutHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 8, maxLength: 200 })),
});

export const CheckoutResult = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    orderNumber: Type.Integer(),
    paymentId: Type.String({ format: 'uuid' }),
    provider: Type.String(),
    currency: Type.String(),
    itemsMinor: Type.Integer(),
    shippingMinor: Type.Integer(),
    taxMinor: Type.Integer(),
    feesMinor: Type.Integer(),
    totalMinor: Type.Integer(),
    /** Send the buyer here (hosted payment page), when the provider has one. */
    redirectUrl: Type.Union([Type.String(), Type.Null()]),
    /** For client-side confirmation (Stripe Elements), when the provider uses one. */
    clientSecret: Type.Union([Type.String(), Type.Null()]),
    holdExpiresAt: DateTime,
    paymentDueAt: DateTime,
  },
  {
    examples: [
      {
        orderId: '6a1f3e9c-2b4d-4e8a-9c7b-1d3e5f7a9b2c',
        orderNumber: 1042,
        paymentId: '0b7e4c2a-9d3f-4a1b-8c6e-5f2d1a3b4c5d',
        provider: 'local',
        currency: 'USD',
        itemsMinor: 10000,
        shippingMinor: 500,
        taxMinor: 0,
        feesMinor: 0,
        totalMinor: 10500,
        redirectUrl:
          'http://localhost:3000/pay/local/0b7e4c2a-9d3f-4a1b-8c6e-5f2d1a3b4c5d?expires=1795000000&sig=…',
        clientSecret: null,
        holdExpiresAt: '2026-11-21T10:15:00.000Z',
        paymentDueAt: '2026-11-24T10:00:00.000Z',
      },
    ],
  },
);
export type CheckoutResultValue = Static<typeof CheckoutResult>;
