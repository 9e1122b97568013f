import Type, { type Static } from 'typebox';
import { NullableDateTime } from '../../platform/http/schemas.ts';

/** Per line, and for a line's total after adding: more is a wholesale order, not a cart. */
export const MAX_LINE_QUANTITY = 99;

const EXAMPLE_IDS = {
  cart: '0b7e6c5d-4a3f-4e2d-9c1b-8a7f6e5d4c3b',
  line: '2c4e6a8b-1d3f-4a5c-8e7b-9d0f1a2b3c4d',
  variant: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  product: '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c',
};
const EXAMPLE_TOKEN = 'q3Vt0cN1m4iQ2o8xZrj5hW6yK9bL0sD7fG1eA2cB3dE';

const Quantity = Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY, examples: [2] });

export const CartLine = Type.Object({
  id: Type.String({ format: 'uuid' }),
  variantId: Type.String({ format: 'uuid' }),
  productId: Type.String({ format: 'uuid' }),
  productTitle: Type.String(),
  variantTitle: Type.String(),
  sku: Type.String(),
  quantity: Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY }),
  unitPriceMinor: Type.Integer({ description: "The variant's current price" }),
  addedUnitPriceMinor: Type.Integer({ description: 'The price when the line was last added to' }),
  priceChanged: Type.Boolean({ description: 'unitPriceMinor differs from addedUnitPriceMinor' }),
  available: Type.Integer({
    minimum: 0,
    description: 'Units on sale now (a display figure; checkout re-checks under a lock)',
  }),
  lineTotalMinor: Type.Integer({ description: 'quantity × unitPriceMinor' }),
});

export const MergeNote = Type.Object({
  code: Type.Enum(['currency_mismatch', 'quantity_capped'], {
    description:
      'currency_mismatch: the guest line was dropped (other currency); quantity_capped: the summed quantity was cut to 99',
  }),
  variantId: Type.String({ format: 'uuid' }),
  quantity: Type.Integer({ description: 'The guest line quantity' }),
  currency: Type.String({ description: "The guest line's currency" }),
  keptQuantity: Type.Integer({ description: 'What the cart line holds after the merge (0 when dropped)' }),
});

const LINE_EXAMPLE = {
  id: EXAMPLE_IDS.line,
  variantId: EXAMPLE_IDS.variant,
  productId: EXAMPLE_IDS.product,
  productTitle: '무선 이어폰',
  variantTitle: 'White',
  sku: 'EARBUD-WHT-01',
  quantity: 2,
  unitPriceMinor: 129000,
  addedUnitPriceMinor: 129000,
  priceChanged: false,
  available: 14,
  lineTotalMinor: 258000,
};

export const CART_EXAMPLE = {
  id: EXAMPLE_IDS.cart,
  currency: 'KRW',
  lines: [LINE_EXAMPLE],
  itemCount: 2,
  itemsMinor: 258000,
  updatedAt: '2026-11-21T10:25:00.000Z',
};

export const Cart = Type.Object(
  {
    id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
      description: 'null when the caller has no cart yet',
    }),
    currency: Type.Union([Type.String(), Type.Null()], {
      description: 'Fixed by the first line (ISO 4217); null while empty',
    }),
    lines: Type.Array(CartLine),
    itemCount: Type.Integer({ minimum: 0, description: 'Sum of the line quantities' }),
    itemsMinor: Type.Integer({ minimum: 0, description: 'Sum of the line totals at current prices' }),
    updatedAt: NullableDateTime,
    guestToken: Type.Optional(
      Type.String({
        description:
          'Sent ONCE, when a guest cart is created: store it and send it back as X-Cart-Token; it is the only key to the cart',
      }),
    ),
    mergeNotes: Type.Optional(
      Type.Array(MergeNote, {
        description: 'Present when this request merged a guest cart into the user cart',
      }),
    ),
  },
  {
    examples: [
      CART_EXAMPLE,
      { ...CART_EXAMPLE, guestToken: EXAMPLE_TOKEN },
      { id: null, currency: null, lines: [], itemCount: 0, itemsMinor: 0, updatedAt: null },
    ],
  },
);

export const AddLineBody = Type.Object(
  { variantId: Type.String({ format: 'uuid', examples: [EXAMPLE_IDS.variant] }), quantity: Quantity },
  { additionalProperties: false, examples: [{ variantId: EXAMPLE_IDS.variant, quantity: 2 }] },
);

export const UpdateLineBody = Type.Object(
  { quantity: Quantity },
  { additionalProperties: false, examples: [{ quantity: 3 }] },
);

export const LineIdParams = Type.Object({ lineId: Type.String({ format: 'uuid' }) });

const TOKEN_DESCRIPTION =
  'The guest cart token (from `guestToken` when the cart was created). Signed in, a token of an open guest cart merges that cart into the user cart.';

export const CartTokenHeaders = Type.Object({
  'x-cart-token': Type.Optional(Type.String({ maxLength: 200, description: TOKEN_DESCRIPTION })),
});

export const RequiredCartTokenHeaders = Type.Object({
  'x-cart-token': Type.String({ minLength: 1, maxLength: 200, description: TOKEN_DESCRIPTION }),
});

export type CartView = Static<typeof Cart>;
export type CartLineView = Static<typeof CartLine>;
export type MergeNoteView = Static<typeof MergeNote>;
export type AddLineInput = Static<typeof AddLineBody>;
