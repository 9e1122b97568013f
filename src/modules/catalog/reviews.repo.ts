import { and, desc, eq, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { users } from '../accounts/accounts.tables.ts';
import { products, reviews } from './catalog.tables.ts';

export type ReviewRow = typeof reviews.$inferSelect;
export type NewReview = typeof reviews.$inferInsert;
export type ReviewChanges = Partial<
  Pick<NewReview, 'rating' | 'title' | 'body' | 'status' | 'hiddenReason' | 'sellerReply' | 'sellerRepliedAt'>
>;
/** A review with its author's display name, as the API shows it. */
export type ReviewWithAuthor = ReviewRow & { authorName: string };

const withAuthor = { ...getTableColumns(reviews), authorName: users.displayName };

/** Inserts unless the author already reviewed the product (then undefined). */
export async function insertReview(db: DbOrTx, review: NewReview): Promise<ReviewRow | undefined> {
  const [row] = await db
    .insert(reviews)
    .values(review)
    .onConflictDoNothing({ target: [reviews.productId, reviews.authorId] })
    .returning();
  return row;
}

export async function findReview(db: DbOrTx, id: string): Promise<ReviewWithAuthor | undefined> {
  const [row] = await db
    .select(withAuthor)
    .from(reviews)
    .innerJoin(users, eq(users.id, reviews.authorId))
    .where(eq(reviews.id, id));
  return row;
}

/** Serialises changes to one review, so its status and rating move the aggregate exactly once. */
export async function lockReview(db: DbOrTx, id: string): Promise<ReviewRow | undefined> {
  const [row] = await db.select().from(reviews).where(eq(reviews.id, id)).for('update');
  return row;
}

export async function updateReview(
  db: DbOrTx,
  id: string,
  changes: ReviewChanges & { updatedAt: Date },
): Promise<void> {
  await db.update(reviews).set(changes).where(eq(reviews.id, id));
}

export async function deleteReview(db: DbOrTx, id: string): Promise<void> {
  await db.delete(reviews).where(eq(reviews.id, id));
}

/**
 * Moves the product's review aggregate by a delta, relative to whatever is committed when the row
 * lock is granted: concurrent reviews each add their own share and none is lost (no read-modify-write).
 */
export async function adjustRating(
  db: DbOrTx,
  productId: string,
  delta: { count: number; sum: number },
): Promise<void> {
  if (delta.count === 0 && delta.sum === 0) return;
  await db
    .update(products)
    .set({
      ratingCount: sql`${products.ratingCount} + ${delta.count}`,
      ratingSum: sql`${products.ratingSum} + ${delta.sum}`,
    })
    .where(eq(products.id, productId));
}

/** Visible reviews of a product, newest first, after the keyset `(createdAt, id)` when given. */
export async function listVisibleReviews(
  db: DbOrTx,
  options: { productId: string; after: { createdAt: string; id: string } | undefined; limit: number },
): Promise<Array<ReviewWithAuthor & { sortKey: string }>> {
  const conditions: SQL[] = [eq(reviews.productId, options.productId), eq(reviews.status, 'visible')];
  if (options.after) {
    conditions.push(
      sql`(${reviews.createdAt}, ${reviews.id}) < (cast(${options.after.createdAt} as timestamptz), cast(${options.after.id} as uuid))`,
    );
  }
  return db
    .select({ ...withAuthor, sortKey: sql<string>`(${reviews.createdAt})::text` })
    .from(reviews)
    .innerJoin(users, eq(users.id, reviews.authorId))
    .where(and(...conditions))
    .orderBy(desc(reviews.createdAt), desc(reviews.id))
    .limit(options.limit);
}

/** How many visible reviews give each rating (ratings without reviews are absent). */
export async function ratingHistogram(
  db: DbOrTx,
  productId: string,
): Promise<Array<{ rating: number; count: number }>> {
  return db
    .select({ rating: reviews.rating, count: sql<number>`count(*)::int` })
    .from(reviews)
    .where(and(eq(reviews.productId, productId), eq(reviews.status, 'visible')))
    .groupBy(reviews.rating);
}
