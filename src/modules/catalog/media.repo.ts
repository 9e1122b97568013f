import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { productImages } from './catalog.tables.ts';

export type ImageRow = typeof productImages.$inferSelect;
export type NewImage = typeof productImages.$inferInsert;

const byId = (productId: string, id: string) =>
  and(eq(productImages.id, id), eq(productImages.productId, productId));

export async function insertImage(db: DbOrTx, image: NewImage): Promise<ImageRow> {
  const [row] = await db.insert(productImages).values(image).returning();
  return row!;
}

export async function findImage(db: DbOrTx, productId: string, id: string): Promise<ImageRow | undefined> {
  const [row] = await db.select().from(productImages).where(byId(productId, id));
  return row;
}

/** Ready images of many products in one query, in display order. */
export async function listReadyImages(db: DbOrTx, productIds: readonly string[]): Promise<ImageRow[]> {
  if (productIds.length === 0) return [];
  return db
    .select()
    .from(productImages)
    .where(and(inArray(productImages.productId, [...productIds]), eq(productImages.status, 'ready')))
    .orderBy(
      asc(productImages.productId),
      asc(productImages.position),
      asc(productImages.createdAt),
      asc(productImages.id),
    );
}

/** Marks a pending image ready at the end of the order; undefined when it is no longer pending. */
export async function markImageReady(
  db: DbOrTx,
  productId: string,
  id: string,
): Promise<ImageRow | undefined> {
  const [row] = await db
    .update(productImages)
    .set({
      status: 'ready',
      position: sql`(select coalesce(max(${productImages.position}) + 1, 0) from ${productImages} where ${productImages.productId} = ${productId} and ${productImages.status} = 'ready')`,
    })
    .where(and(byId(productId, id), eq(productImages.status, 'pending')))
    .returning();
  return row;
}

export async function updateImage(
  db: DbOrTx,
  productId: string,
  id: string,
  changes: Partial<Pick<NewImage, 'altText' | 'position'>>,
): Promise<void> {
  await db.update(productImages).set(changes).where(byId(productId, id));
}

/** Positions 0, 1, 2 … in the order given (one statement). */
export async function setImageOrder(db: DbOrTx, productId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const cases = sql.join(
    ids.map((id, index) => sql`when ${id}::uuid then ${index}::int`),
    sql` `,
  );
  await db
    .update(productImages)
    .set({ position: sql`case ${productImages.id} ${cases} end` })
    .where(and(eq(productImages.productId, productId), inArray(productImages.id, [...ids])));
}

export async function deleteImage(db: DbOrTx, productId: string, id: string): Promise<ImageRow | undefined> {
  const [row] = await db.delete(productImages).where(byId(productId, id)).returning();
  return row;
}
