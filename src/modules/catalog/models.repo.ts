import { and, eq } from 'drizzle-orm';
import type { DbOrTx } from '../../platform/db/types.ts';
import { productModels } from './catalog.tables.ts';
import type { ModelFormat } from './model-checks.ts';

export type ModelRow = typeof productModels.$inferSelect;

const byFormat = (productId: string, format: ModelFormat) =>
  and(eq(productModels.productId, productId), eq(productModels.format, format));

export async function findModel(
  db: DbOrTx,
  productId: string,
  format: ModelFormat,
): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(productModels).where(byFormat(productId, format));
  return row;
}

/** Locks the (product, format) row so the key being replaced is read exactly once. */
export async function lockModel(
  db: DbOrTx,
  productId: string,
  format: ModelFormat,
): Promise<ModelRow | undefined> {
  const [row] = await db.select().from(productModels).where(byFormat(productId, format)).for('update');
  return row;
}

export async function listReadyModels(db: DbOrTx, productId: string): Promise<ModelRow[]> {
  return db
    .select()
    .from(productModels)
    .where(and(eq(productModels.productId, productId), eq(productModels.status, 'ready')))
    .orderBy(productModels.format);
}

/** The one row per (product, format) becomes a pending upload to `storageKey`. */
export async function upsertPendingModel(
  db: DbOrTx,
  model: { productId: string; format: ModelFormat; storageKey: string; now: Date },
): Promise<ModelRow> {
  const [row] = await db
    .insert(productModels)
    .values({
      productId: model.productId,
      format: model.format,
      storageKey: model.storageKey,
      status: 'pending',
      sizeBytes: null,
      createdAt: model.now,
      updatedAt: model.now,
    })
    .onConflictDoUpdate({
      target: [productModels.productId, productModels.format],
      set: { storageKey: model.storageKey, status: 'pending', sizeBytes: null, updatedAt: model.now },
    })
    .returning();
  return row!;
}

/** Marks the upload to `storageKey` ready; false when that upload was replaced or removed meanwhile. */
export async function markModelReady(
  db: DbOrTx,
  options: { productId: string; format: ModelFormat; storageKey: string; sizeBytes: number; now: Date },
): Promise<ModelRow | undefined> {
  const [row] = await db
    .update(productModels)
    .set({ status: 'ready', sizeBytes: options.sizeBytes, updatedAt: options.now })
    .where(and(byFormat(options.productId, options.format), eq(productModels.storageKey, options.storageKey)))
    .returning();
  return row;
}

/** Deletes the row (only the one for `storageKey` when given); returns what was deleted. */
export async function deleteModel(
  db: DbOrTx,
  productId: string,
  format: ModelFormat,
  storageKey?: string,
): Promise<ModelRow | undefined> {
  const condition =
    storageKey === undefined
      ? byFormat(productId, format)
      : and(byFormat(productId, format), eq(productModels.storageKey, storageKey));
  const [row] = await db.delete(productModels).where(condition).returning();
  return row;
}
