import Type, { type Static } from 'typebox';
import { DateTime } from '../../platform/http/schemas.ts';

const EXAMPLE_IDS = {
  review: '5f2c8a1e-3b7d-4c9e-8a6f-1d2e3f4a5b6c',
  product: '3c9e2b7a-5d1f-4e8a-b6c4-2a7d9e1f3b5c',
  author: '9d8c7b6a-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
};

const Rating = Type.Integer({ minimum: 1, maximum: 5, examples: [5] });
const ReviewTitle = Type.String({ maxLength: 120, examples: ['Great sound for the price'] });
const ReviewBody = Type.String({
  maxLength: 5000,
  examples: ['Battery really lasts all week; the case is a bit bulky.'],
});
const ReplyBody = Type.String({
  minLength: 1,
  maxLength: 5000,
  examples: ['Thank you! A slimmer case is coming in spring.'],
});

const REVIEW_EXAMPLE = {
  id: EXAMPLE_IDS.review,
  productId: EXAMPLE_IDS.product,
  author: { id: EXAMPLE_IDS.author, displayName: 'minji' },
  rating: 5,
  title: 'Great sound for the price',
  body: 'Battery really lasts all week; the case is a bit bulky.',
  status: 'visible',
  hiddenReason: null,
  sellerReply: {
    body: 'Thank you! A slimmer case is coming in spring.',
    repliedAt: '2026-11-23T09:00:00.000Z',
  },
  createdAt: '2026-11-22T18:30:00.000Z',
  updatedAt: '2026-11-22T18:30:00.000Z',
};

export const Review = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    productId: Type.String({ format: 'uuid' }),
    author: Type.Object({ id: Type.String({ format: 'uuid' }), displayName: Type.String() }),
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    title: Type.String(),
    body: Type.String(),
    status: Type.Enum(['visible', 'hidden'], { description: 'Hidden reviews are not listed or counted' }),
    hiddenReason: Type.Union([Type.String(), Type.Null()], { description: 'Why staff hid it' }),
    sellerReply: Type.Union([Type.Object({ body: Type.String(), repliedAt: DateTime }), Type.Null()]),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { examples: [REVIEW_EXAMPLE] },
);

export const RatingSummary = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  average: Type.Union([Type.Number(), Type.Null()], { description: 'null until the first review' }),
  histogram: Type.Object(
    {
      1: Type.Integer({ minimum: 0 }),
      2: Type.Integer({ minimum: 0 }),
      3: Type.Integer({ minimum: 0 }),
      4: Type.Integer({ minimum: 0 }),
      5: Type.Integer({ minimum: 0 }),
    },
    { description: 'Visible reviews per rating' },
  ),
});

export const ReviewPage = Type.Object(
  {
    summary: RatingSummary,
    items: Type.Array(Review),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'Pass as ?cursor= for the next page; null on the last page',
    }),
  },
  {
    examples: [
      {
        summary: { count: 1, average: 5, histogram: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 1 } },
        items: [REVIEW_EXAMPLE],
        nextCursor: null,
      },
    ],
  },
);

export const ReviewListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'nextCursor of the previous page' })),
});

export const CreateReviewBody = Type.Object(
  { rating: Rating, title: Type.Optional(ReviewTitle), body: Type.Optional(ReviewBody) },
  {
    additionalProperties: false,
    examples: [{ rating: 5, title: 'Great sound for the price', body: 'Battery really lasts all week.' }],
  },
);

export const UpdateReviewBody = Type.Object(
  { rating: Type.Optional(Rating), title: Type.Optional(ReviewTitle), body: Type.Optional(ReviewBody) },
  { additionalProperties: false, examples: [{ rating: 4, title: 'Good, the case is bulky' }] },
);

export const ReplyReviewBody = Type.Object(
  { body: ReplyBody },
  { additionalProperties: false, examples: [{ body: 'Thank you! A slimmer case is coming in spring.' }] },
);

export const HideReviewBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500, examples: ['Personal data in the text'] }) },
  { additionalProperties: false, examples: [{ reason: 'Personal data in the text' }] },
);

export const ReviewIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export type ReviewView = Static<typeof Review>;
export type ReviewPageView = Static<typeof ReviewPage>;
export type CreateReviewInput = Static<typeof CreateReviewBody>;
export type UpdateReviewInput = Static<typeof UpdateReviewBody>;
