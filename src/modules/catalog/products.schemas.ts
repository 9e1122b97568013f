import Type, { type Static } from 'typebox';
import { DateTime, NullableDateTime } from '../../platform/http/schemas.ts';
import { PRODUCT_STATUSES } from './catalog.tables.ts';
import { ProductImage } from './media.schemas.ts';

export const PRODUCT_SORTS = ['newest', 'price_asc', 'price_desc', 'rating'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Prices are integer minor units; bounded so every value is exact in a JS number. */
const PriceMinor = Type.Integer({
  minimum: 0,
  maximum: 1_000_000_000_000,
  description: 'Minor units of the currency (cents, won, paisa)',
  examples: [129000],
});
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['KRW'] });
const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S+$', examples: ['EARBUD-WHT-01'] });
const Options = Type.Record(Type.String({ maxLength: 50 }), Type.String({ maxLength: 100 }), {
  maxProperties: 20,
  description: 'What sets this variant apart (color, size)',
  examples: [{ color: 'white' }],
});
const StockUnit = Type.String({
  minLength: 1,
  maxLength: 16,
  description: 'What one unit of stock is',
  examples: ['each'],
});
const Attributes = Type.Record(Type.String({ maxLength: 100 }), Type.Unknown(), {
  maxProperties: 100,
  description: 'Free-form product facts (material, warranty …)',
  examples: [{ bluetooth: '5.3', batteryHours: 30 }],
});
const Title = Type.String({ minLength: 1, maxLength: 200, examples: ['무선 이어폰'] });
const Description = Type.String({ maxLength: 20_000, examples: ['Noise-cancelling earbuds, 30 h battery.'] });
const Brand = Type.String({ minLength: 1, maxLength: 100, examples: ['Sori'] });
const Position = Type.Integer({ minimum: 0, maximum: 10_000, examples: [0] });

const EXAMPLE_IDS = {
  product: '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c',
  seller: '7e4a1c9b-2d6f-4b8e-a3c5-9f1d7b2e4a6c',
  category: '6b1f3c2a-8d4e-4f5a-9b6c-7d8e9f0a1b2c',
  variant: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
};

const VARIANT_EXAMPLE = {
  id: EXAMPLE_IDS.variant,
  sku: 'EARBUD-WHT-01',
  title: 'White',
  priceMinor: 129000,
  currency: 'KRW',
  options: { color: 'white' },
  stockUnit: 'each',
  position: 0,
};

const PRODUCT_EXAMPLE = {
  id: EXAMPLE_IDS.product,
  slug: '무선-이어폰',
  title: '무선 이어폰',
  description: 'Noise-cancelling earbuds, 30 h battery.',
  brand: 'Sori',
  attributes: { bluetooth: '5.3' },
  status: 'active',
  sellerId: EXAMPLE_IDS.seller,
  category: { id: EXAMPLE_IDS.category, name: 'Earphones', slugPath: 'electronics/audio/earphones' },
  priceMinor: 129000,
  currency: 'KRW',
  variants: [VARIANT_EXAMPLE],
  rating: { count: 12, average: 4.5 },
  createdAt: '2026-11-21T10:20:00.000Z',
  updatedAt: '2026-11-21T10:25:00.000Z',
  publishedAt: '2026-11-21T10:25:00.000Z',
};

export const Variant = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    sku: Type.String({ examples: ['EARBUD-WHT-01'] }),
    title: Type.String({ examples: ['White'] }),
    priceMinor: Type.Integer({ examples: [129000] }),
    currency: Type.String({ examples: ['KRW'] }),
    options: Type.Record(Type.String(), Type.String()),
    stockUnit: Type.String({ examples: ['each'] }),
    position: Type.Integer({ examples: [0] }),
  },
  { examples: [VARIANT_EXAMPLE] },
);

export const Product = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String({ examples: ['무선-이어폰'] }),
    title: Type.String(),
    description: Type.String(),
    brand: Type.Union([Type.String(), Type.Null()]),
    attributes: Type.Record(Type.String(), Type.Unknown()),
    status: Type.Enum(PRODUCT_STATUSES),
    sellerId: Type.String({ format: 'uuid' }),
    category: Type.Union([
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        name: Type.String(),
        slugPath: Type.String({ examples: ['electronics/audio/earphones'] }),
      }),
      Type.Null(),
    ]),
    priceMinor: Type.Union([Type.Integer(), Type.Null()], {
      description: 'The lowest variant price (null without variants)',
    }),
    currency: Type.String({ examples: ['KRW'] }),
    variants: Type.Array(Variant),
    rating: Type.Object({
      count: Type.Integer({ minimum: 0 }),
      average: Type.Union([Type.Number(), Type.Null()], { description: 'null until the first review' }),
    }),
    createdAt: DateTime,
    updatedAt: DateTime,
    publishedAt: NullableDateTime,
    images: Type.Optional(
      Type.Array(ProductImage, {
        description: 'Ready images in display order with signed URLs (single-product reads only)',
      }),
    ),
  },
  { examples: [PRODUCT_EXAMPLE] },
);

export const ProductPage = Type.Object(
  {
    items: Type.Array(Product),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as ?cursor= for the next page; null on the last page',
    }),
  },
  { examples: [{ items: [PRODUCT_EXAMPLE], nextCursor: 'WyJuZXdlc3QiLCIyMDI2LTExLTIxIiwiLi4uIl0' }] },
);

export const VariantInput = Type.Object(
  {
    sku: Sku,
    title: Type.String({ minLength: 1, maxLength: 200, examples: ['White'] }),
    priceMinor: PriceMinor,
    currency: Type.Optional(Type.String({ ...Currency, description: "Must be the product's currency" })),
    options: Type.Optional(Options),
    stockUnit: Type.Optional(StockUnit),
    position: Type.Optional(Position),
  },
  {
    additionalProperties: false,
    examples: [
      {
        sku: 'EARBUD-WHT-01',
        title: 'White',
        priceMinor: 129000,
        currency: 'KRW',
        options: { color: 'white' },
      },
    ],
  },
);

export const UpdateVariantBody = Type.Object(
  {
    sku: Type.Optional(Sku),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    priceMinor: Type.Optional(PriceMinor),
    currency: Type.Optional(Type.String({ ...Currency, description: "Must be the product's currency" })),
    options: Type.Optional(Options),
    stockUnit: Type.Optional(StockUnit),
    position: Type.Optional(Position),
  },
  { additionalProperties: false, examples: [{ priceMinor: 119000 }] },
);

/** The seller is always the signed-in user: a sellerId in the body is dropped. */
export const CreateProductBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    brand: Type.Optional(Brand),
    attributes: Type.Optional(Attributes),
    categoryId: Type.Optional(Type.String({ format: 'uuid' })),
    currency: Currency,
    variants: Type.Optional(Type.Array(VariantInput, { maxItems: 100 })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        title: '무선 이어폰',
        description: 'Noise-cancelling earbuds, 30 h battery.',
        brand: 'Sori',
        attributes: { bluetooth: '5.3' },
        categoryId: EXAMPLE_IDS.category,
        currency: 'KRW',
        variants: [{ sku: 'EARBUD-WHT-01', title: 'White', priceMinor: 129000, options: { color: 'white' } }],
      },
    ],
  },
);

/** The slug stays when the title changes, so links keep working. */
export const UpdateProductBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    brand: Type.Optional(Type.Union([Brand, Type.Null()])),
    attributes: Type.Optional(Attributes),
    categoryId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
    currency: Type.Optional(
      Type.String({ ...Currency, description: 'Only while the product has no variants' }),
    ),
  },
  { additionalProperties: false, examples: [{ title: '무선 이어폰 Pro', brand: 'Sori' }] },
);

export const ProductIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const VariantParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  variantId: Type.String({ format: 'uuid' }),
});
export const ProductLookupParams = Type.Object({
  idOrSlug: Type.String({
    minLength: 1,
    maxLength: 200,
    description: 'A product id or slug',
    examples: ['무선-이어폰'],
  }),
});

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });
const CursorParam = Type.String({ maxLength: 500, description: 'nextCursor of the previous page' });

export const ProductListQuery = Type.Object({
  category: Type.Optional(
    Type.String({
      description: 'Category id or slug path; includes its whole subtree',
      examples: ['electronics'],
    }),
  ),
  minPrice: Type.Optional(Type.Integer({ minimum: 0, description: 'Lowest price, minor units' })),
  maxPrice: Type.Optional(Type.Integer({ minimum: 0, description: 'Highest price, minor units' })),
  seller: Type.Optional(Type.String({ format: 'uuid' })),
  brand: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Exact, case-insensitive' })),
  sort: Type.Optional(
    Type.Enum(PRODUCT_SORTS, {
      default: 'newest',
      description: 'newest (default), price_asc, price_desc, rating',
    }),
  ),
  inStock: Type.Optional(
    Type.Boolean({ description: 'true: only products with at least one variant available to buy now' }),
  ),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(CursorParam),
});

export const MyProductsQuery = Type.Object({
  status: Type.Optional(Type.Enum(PRODUCT_STATUSES)),
  limit: Type.Optional(Limit),
  cursor: Type.Optional(CursorParam),
});

export type ProductView = Static<typeof Product>;
export type VariantView = Static<typeof Variant>;
export type CreateProductInput = Static<typeof CreateProductBody>;
export type UpdateProductInput = Static<typeof UpdateProductBody>;
export type VariantInputValue = Static<typeof VariantInput>;
export type UpdateVariantInput = Static<typeof UpdateVariantBody>;
export type ProductListQueryValue = Static<typeof ProductListQuery>;
