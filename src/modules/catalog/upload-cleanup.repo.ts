import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { productImages, productModels } from './catalog.tables.ts';

/** What a sweep removed: enough to delete the object once the row deletion has committed. */
export interface AbandonedUpload {
  readonly id: string;
  readonly productId: string;
  readonly storageKey: string;
}

/**
 * Deletes up to `limit` pending images created before `before`, in one statement, and returns them.
 * SKIP LOCKED leaves a row that a confirm or another sweep holds to that transaction, so two
 * workers never delete (and report) the same row; a row confirmed meanwhile is re-checked under
 * its lock and no longer matches `status = 'pending'`.
 */
export async function deleteAbandonedImages(
  db: DbOrTx,
  { before, limit }: { before: Date; limit: number },
): Promise<AbandonedUpload[]> {
  const due = db
    .select({ id: productImages.id })
    .from(productImages)
    .where(and(eq(productImages.status, 'pending'), lt(productImages.createdAt, before)))
    .orderBy(asc(productImages.createdAt), asc(productImages.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .delete(productImages)
    .where(and(inArray(productImages.id, due), eq(productImages.status, 'pending')))
    .returning({
      id: productImages.id,
      productId: productImages.productId,
      storageKey: productImages.storageKey,
    });
}

/**
 * The same for 3D models never confirmed (`status = 'pending'`). The age is `updated_at`: a newer
 * upload for a (product, format) that is still pending re-points the row at the new key and sets
 * `updated_at`, but keeps the old `created_at`. Ready rows are never deleted, whatever their age
 * (an abandoned replacement of a ready model is `clearAbandonedReplacements`' business).
 */
export async function deleteAbandonedModels(
  db: DbOrTx,
  { before, limit }: { before: Date; limit: number },
): Promise<AbandonedUpload[]> {
  const due = db
    .select({ id: productModels.id })
    .from(productModels)
    .where(and(eq(productModels.status, 'pending'), lt(productModels.updatedAt, before)))
    .orderBy(asc(productModels.updatedAt), asc(productModels.id))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .delete(productModels)
    .where(and(inArray(productModels.id, due), eq(productModels.status, 'pending')))
    .returning({
      id: productModels.id,
      productId: productModels.productId,
      storageKey: productModels.storageKey,
    });
}

/**
 * Drops replacements of ready models (`pending_storage_key`) started before `before` and never
 * confirmed, up to `limit` rows in one statement, and returns the keys no row refers to any more.
 * The live model (`storage_key`, `status`) is left as it is. SKIP LOCKED leaves a row that a
 * confirm or a newer upload holds to it; a row whose replacement was confirmed or restarted
 * meanwhile is re-checked under its lock and no longer matches.
 */
export async function clearAbandonedReplacements(
  db: DbOrTx,
  { before, limit }: { before: Date; limit: number },
): Promise<AbandonedUpload[]> {
  const result = await db.execute(
    sql`with due as (
          select id, pending_storage_key from product_models
           where pending_storage_key is not null and pending_started_at < ${before.toISOString()}::timestamptz
           order by pending_started_at, id
           limit ${limit}::int
           for update skip locked
        )
        update product_models m set pending_storage_key = null, pending_started_at = null
          from due where m.id = due.id
        returning m.id::text as id, m.product_id::text as "productId",
                  due.pending_storage_key as "storageKey"`,
  );
  // Raw statements come back as `{ rows }` from both drivers (node-postgres and PGlite).
  return (result as unknown as { rows: AbandonedUpload[] }).rows;
}
