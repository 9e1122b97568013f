import { recordAudit } from '../../platform/audit/audit.ts';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { findVisibleProduct, productNotFound } from './product-access.ts';
import { findProduct } from './products.repo.ts';
import type { Actor } from './products.service.ts';
import type { ReviewEligibility } from './review-eligibility.ts';
import {
  adjustRating,
  deleteReview,
  findReview,
  insertReview,
  listVisibleReviews,
  lockReview,
  type ReviewChanges,
  type ReviewRow,
  type ReviewWithAuthor,
  ratingHistogram,
  updateReview,
} from './reviews.repo.ts';
import type { CreateReviewInput, ReviewPageView, ReviewView, UpdateReviewInput } from './reviews.schemas.ts';

registerErrorCodes({
  /** No delivered order line for the product (or it is the caller's own product). */
  review_not_eligible: 403,
  /** One review per buyer per product: edit the existing one instead. */
  review_exists: 409,
});

const DEFAULT_LIMIT = 20;
const CURSOR_SORT = 'reviews';

const reviewNotFound = () => new AppError('not_found', 'No such review');

/** What a review adds to its product's aggregate: nothing while hidden. */
const share = (review: Pick<ReviewRow, 'status' | 'rating'>) =>
  review.status === 'visible' ? { count: 1, sum: review.rating } : { count: 0, sum: 0 };

function toView(row: ReviewWithAuthor): ReviewView {
  return {
    id: row.id,
    productId: row.productId,
    author: { id: row.authorId, displayName: row.authorName },
    rating: row.rating,
    title: row.title,
    body: row.body,
    status: row.status,
    hiddenReason: row.hiddenReason,
    sellerReply:
      row.sellerReply !== null && row.sellerRepliedAt !== null
        ? { body: row.sellerReply, repliedAt: row.sellerRepliedAt }
        : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export interface ReviewsService {
  list(options: {
    actor: Actor | null;
    productId: string;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<ReviewPageView>;
  create(options: { actor: Actor; productId: string; input: CreateReviewInput }): Promise<ReviewView>;
  update(options: { actor: Actor; id: string; input: UpdateReviewInput }): Promise<ReviewView>;
  remove(options: { actor: Actor; id: string }): Promise<void>;
  reply(options: { actor: Actor; id: string; body: string }): Promise<ReviewView>;
  hide(options: { actor: Actor; id: string; reason: string; requestId?: string }): Promise<ReviewView>;
  unhide(options: { actor: Actor; id: string; requestId?: string }): Promise<ReviewView>;
}

/**
 * Reviews and the product's rating aggregate (`products.rating_count` / `rating_sum`). Every change
 * locks the review row, then moves the aggregate by a relative delta in the same transaction, so
 * the aggregate equals the sum over visible reviews at every commit, however many run at once.
 */
export function createReviewsService({
  db,
  clock,
  eligibility,
}: {
  db: Db;
  clock: Clock;
  eligibility: ReviewEligibility;
}): ReviewsService {
  async function view(tx: DbOrTx, id: string): Promise<ReviewView> {
    const row = await findReview(tx, id);
    if (!row) throw reviewNotFound();
    return toView(row);
  }

  /** The author's own review, locked; anyone else's is a 404 (hidden ones are not public). */
  async function lockOwn(tx: DbOrTx, actor: Actor, id: string): Promise<ReviewRow> {
    const review = await lockReview(tx, id);
    if (!review || review.authorId !== actor.userId) throw reviewNotFound();
    return review;
  }

  return {
    async list({ actor, productId, limit = DEFAULT_LIMIT, cursor }) {
      await findVisibleProduct(db, actor, productId);
      const after = cursor === undefined ? undefined : decodeCursor(cursor, CURSOR_SORT);
      const [rows, histogramRows] = await Promise.all([
        listVisibleReviews(db, {
          productId,
          after: after && after.key !== null ? { createdAt: after.key, id: after.id } : undefined,
          limit: limit + 1,
        }),
        ratingHistogram(db, productId),
      ]);
      const histogram = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
      let count = 0;
      let sum = 0;
      for (const { rating, count: n } of histogramRows) {
        histogram[rating as keyof typeof histogram] = n;
        count += n;
        sum += rating * n;
      }
      const more = rows.length > limit;
      const items = more ? rows.slice(0, limit) : rows;
      const last = items.at(-1);
      return {
        summary: { count, average: count > 0 ? Math.round((sum / count) * 100) / 100 : null, histogram },
        items: items.map(toView),
        nextCursor: more && last ? encodeCursor({ sort: CURSOR_SORT, key: last.sortKey, id: last.id }) : null,
      };
    },

    create({ actor, productId, input }) {
      return db.transaction(async (tx) => {
        const product = await findProduct(tx, productId);
        if (product?.status !== 'active') throw productNotFound();
        if (product.sellerId === actor.userId) {
          throw new AppError('review_not_eligible', 'Sellers cannot review their own products', {
            details: { reason: 'own_product' },
          });
        }
        if (!(await eligibility.hasDeliveredOrderLine(tx, { userId: actor.userId, productId }))) {
          throw new AppError('review_not_eligible', 'Only buyers who received this product can review it', {
            details: { reason: 'no_delivered_order' },
          });
        }
        const now = clock.now();
        const review = await insertReview(tx, {
          productId,
          authorId: actor.userId,
          rating: input.rating,
          title: input.title ?? '',
          body: input.body ?? '',
          createdAt: now,
          updatedAt: now,
        });
        if (!review)
          throw new AppError('review_exists', 'You already reviewed this product; edit that review');
        await adjustRating(tx, productId, share(review));
        return view(tx, review.id);
      });
    },

    update({ actor, id, input }) {
      return db.transaction(async (tx) => {
        const review = await lockOwn(tx, actor, id);
        const changes: ReviewChanges = {};
        if (input.rating !== undefined) changes.rating = input.rating;
        if (input.title !== undefined) changes.title = input.title;
        if (input.body !== undefined) changes.body = input.body;
        if (Object.keys(changes).length > 0) {
          await updateReview(tx, id, { ...changes, updatedAt: clock.now() });
          if (changes.rating !== undefined && review.status === 'visible') {
            await adjustRating(tx, review.productId, { count: 0, sum: changes.rating - review.rating });
          }
        }
        return view(tx, id);
      });
    },

    async remove({ actor, id }) {
      await db.transaction(async (tx) => {
        const review = await lockOwn(tx, actor, id);
        await deleteReview(tx, id);
        const { count, sum } = share(review);
        await adjustRating(tx, review.productId, { count: -count, sum: -sum });
      });
    },

    reply({ actor, id, body }) {
      return db.transaction(async (tx) => {
        const review = await lockReview(tx, id);
        if (review?.status !== 'visible') throw reviewNotFound();
        const product = await findProduct(tx, review.productId);
        if (!product || product.sellerId !== actor.userId) {
          throw new AppError('forbidden', "Only the product's seller can reply to its reviews");
        }
        // One reply per review: replying again edits it (and moves its date).
        await updateReview(tx, id, {
          sellerReply: body,
          sellerRepliedAt: clock.now(),
          updatedAt: review.updatedAt,
        });
        return view(tx, id);
      });
    },

    hide({ actor, id, reason, requestId }) {
      return db.transaction(async (tx) => {
        const review = await lockReview(tx, id);
        if (!review) throw reviewNotFound();
        if (review.status === 'hidden' && review.hiddenReason === reason) return view(tx, id);
        await updateReview(tx, id, { status: 'hidden', hiddenReason: reason, updatedAt: clock.now() });
        const { count, sum } = share(review);
        await adjustRating(tx, review.productId, { count: -count, sum: -sum });
        await recordAudit(tx, {
          actorId: actor.userId,
          action: 'review.hide',
          targetType: 'review',
          targetId: id,
          before: { status: review.status, hiddenReason: review.hiddenReason },
          after: { status: 'hidden', hiddenReason: reason },
          requestId: requestId ?? null,
        });
        return view(tx, id);
      });
    },

    unhide({ actor, id, requestId }) {
      return db.transaction(async (tx) => {
        const review = await lockReview(tx, id);
        if (!review) throw reviewNotFound();
        if (review.status === 'visible') return view(tx, id);
        await updateReview(tx, id, { status: 'visible', hiddenReason: null, updatedAt: clock.now() });
        await adjustRating(tx, review.productId, share({ status: 'visible', rating: review.rating }));
        await recordAudit(tx, {
          actorId: actor.userId,
          action: 'review.unhide',
          targetType: 'review',
          targetId: id,
          before: { status: review.status, hiddenReason: review.hiddenReason },
          after: { status: 'visible', hiddenReason: null },
          requestId: requestId ?? null,
        });
        return view(tx, id);
      });
    },
  };
}
