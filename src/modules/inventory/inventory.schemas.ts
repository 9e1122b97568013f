import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { MOVEMENT_REASONS } from './inventory.tables.ts';

const EXAMPLE_IDS = {
  variant: '7b1e4c2a-9d3f-4a6b-8c5e-2f1a0b9c8d7e',
  staff: '9d8c7b6a-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  order: '4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8',
  hold: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
};

/** Units are whole numbers; one request moves at most a million (the columns are 32-bit). */
const MAX_UNITS = 1_000_000;

const LEVELS_EXAMPLE = {
  variantId: EXAMPLE_IDS.variant,
  received: 120,
  adjusted: 2,
  available: 95,
  held: 3,
  sold: 20,
  activeHolds: 2,
  updatedAt: '2026-11-24T10:15:00.000Z',
};

const MOVEMENT_EXAMPLE = {
  id: 1042,
  variantId: EXAMPLE_IDS.variant,
  reason: 'receive',
  quantity: 20,
  availableBefore: 75,
  availableAfter: 95,
  heldAfter: 3,
  soldAfter: 20,
  actorId: EXAMPLE_IDS.staff,
  orderId: null,
  holdId: null,
  note: 'Pallet 7 from Busan',
  createdAt: '2026-11-24T10:15:00.000Z',
};

export const VariantIdParams = Type.Object({ variantId: Type.String({ format: 'uuid' }) });
export const PublicVariantParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const StockLevels = Type.Object(
  {
    variantId: Type.String({ format: 'uuid' }),
    received: Type.Integer({ description: 'Units ever received' }),
    adjusted: Type.Integer({
      description: 'Net units taken out by stock counts (negative: counts found more)',
    }),
    available: Type.Integer({ minimum: 0, description: 'On sale now' }),
    held: Type.Integer({ minimum: 0, description: 'Reserved by checkouts awaiting payment' }),
    sold: Type.Integer({ minimum: 0 }),
    activeHolds: Type.Integer({ minimum: 0, description: 'Checkouts holding this variant now' }),
    updatedAt: NullableDateTime,
  },
  {
    description:
      'Always available + held + sold = received − adjusted; updatedAt is null for a variant never stocked',
    examples: [LEVELS_EXAMPLE],
  },
);

export const Movement = Type.Object(
  {
    id: Type.Integer(),
    variantId: Type.String({ format: 'uuid' }),
    reason: Type.Enum([...MOVEMENT_REASONS]),
    quantity: Type.Integer({ description: 'Signed change of `available` (a sale from a hold: 0)' }),
    availableBefore: Type.Integer(),
    availableAfter: Type.Integer(),
    heldAfter: Type.Integer(),
    soldAfter: Type.Integer(),
    actorId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
      description: 'The staff member or buyer; null for the system (expiry sweep, seed)',
    }),
    orderId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    holdId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    note: Type.Union([Type.String(), Type.Null()]),
    createdAt: DateTime,
  },
  { examples: [MOVEMENT_EXAMPLE] },
);

export const MovementPage = Type.Object(
  {
    items: Type.Array(Movement),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as ?cursor= for the next (older) page; null on the last page',
    }),
  },
  {
    examples: [
      {
        items: [
          MOVEMENT_EXAMPLE,
          {
            ...MOVEMENT_EXAMPLE,
            id: 1041,
            reason: 'hold',
            quantity: -1,
            availableBefore: 76,
            availableAfter: 75,
            actorId: null,
            orderId: EXAMPLE_IDS.order,
            holdId: EXAMPLE_IDS.hold,
            note: null,
          },
        ],
        nextCursor: 'WyJtb3ZlbWVudHMiLDEwNDFd',
      },
    ],
  },
);

export const MovementListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
});

const Note = Type.String({ minLength: 1, maxLength: 500, examples: ['Pallet 7 from Busan'] });

export const ReceiveBody = Type.Object(
  {
    quantity: Type.Integer({ minimum: 1, maximum: MAX_UNITS, examples: [20] }),
    note: Type.Optional(Note),
  },
  { additionalProperties: false, examples: [{ quantity: 20, note: 'Pallet 7 from Busan' }] },
);

export const AdjustBody = Type.Object(
  {
    delta: Type.Integer({
      minimum: -MAX_UNITS,
      maximum: MAX_UNITS,
      description: 'Signed change of available units; not 0',
      examples: [-2],
    }),
    note: Type.Optional(Note),
  },
  { additionalProperties: false, examples: [{ delta: -2, note: 'Two found damaged at the count' }] },
);

export const StockChangeResult = Type.Object(
  { levels: StockLevels, movement: Movement },
  { examples: [{ levels: LEVELS_EXAMPLE, movement: MOVEMENT_EXAMPLE }] },
);

export const Availability = Type.Object(
  {
    variantId: Type.String({ format: 'uuid' }),
    available: Type.Integer({ minimum: 0, description: 'Units on sale now (a checkout re-checks)' }),
  },
  { examples: [{ variantId: EXAMPLE_IDS.variant, available: 95 }] },
);

export type StockLevelsView = Static<typeof StockLevels>;
export type MovementView = Static<typeof Movement>;
export type MovementPageView = Static<typeof MovementPage>;
export type StockChangeView = Static<typeof StockChangeResult>;
export type AvailabilityView = Static<typeof Availability>;
export type ReceiveInput = Static<typeof ReceiveBody>;
export type AdjustInput = Static<typeof AdjustBody>;
