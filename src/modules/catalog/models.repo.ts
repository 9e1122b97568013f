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

/**
 * The first upload of a format: a pending row. undefined when a concurrent first upload inserted
 * the row first (the caller then locks that row and continues as a later upload).
 */
export async function insertPendingModel(
  db: DbOrTx,
  model: { productId: string; format: ModelFormat; storageKey: string; now: Date },
): Promise<ModelRow | undefined> {
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
    .onConflictDoNothing({ target: [productModels.productId, productModels.format] })
    .returning();
  return row;
}

/** A format that was never confirmed: its pending row now points at the newer upload. */
export async function repointPendingModel(
  db: DbOrTx,
  model: { productId: string; format: ModelFormat; storageKey: string; now: Date },
): Promise<ModelRow | undefined> {
  const [row] = await db
    .update(productModels)
    .set({ storageKey: model.storageKey, sizeBytes: null, updatedAt: model.now })
    .where(and(byFormat(model.productId, model.format), eq(productModels.status, 'pending')))
    .returning();
  return row;
}

/** A ready model gets a replacement upload (a newer one overrides an older); the live key stays. */
export async function startModelReplacement(
  db: DbOrTx,
  model: { productId: string; format: ModelFormat; pendingStorageKey: string; now: Date },
): Promise<ModelRow | undefined> {
  const [row] = await db
    .update(productModels)
    .set({ pendingStorageKey: model.pendingStorageKey, pendingStartedAt: model.now })
    .where(and(byFormat(model.productId, model.format), eq(productModels.status, 'ready')))
    .returning();
  return row;
}

/**
 * The confirmed replacement becomes the live model; undefined when `pendingStorageKey` is no longer
 * the replacement (a newer upload or a delete came first).
 */
export async function swapInModelReplacement(
  db: DbOrTx,
  options: {
    productId: string;
    format: ModelFormat;
    pendingStorageKey: string;
    sizeBytes: number;
    now: Date;
  },
): Promise<ModelRow | undefined> {
  const [row] = await db
    .update(productModels)
    .set({
      storageKey: options.pendingStorageKey,
      sizeBytes: options.sizeBytes,
      pendingStorageKey: null,
      pendingStartedAt: null,
      updatedAt: options.now,
    })
    .where(
      and(
        byFormat(options.productId, options.format),
        eq(productModels.pendingStorageKey, options.pendingStorageKey),
      ),
    )
    .returning();
  return row;
}

/**
 * Drops the replacement `pendingStorageKey` (refused, or abandoned) and keeps the live model; undefined
 * when it is no longer the replacement.
 */
export async function clearModelReplacement(
  db: DbOrTx,
  options: { productId: string; format: ModelFormat; pendingStorageKey: string },
): Promise<ModelRow | undefined> {
  const [row] = await db
    .update(productModels)
    .set({ pendingStorageKey: null, pendingStartedAt: null })
    .where(
      and(
        byFormat(options.productId, options.format),
        eq(productModels.pendingStorageKey, options.pendingStorageKey),
      ),
    )
    .returning();
  return row;
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
