import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type StoragePort, verifyUpload } from '../../platform/storage/index.ts';
import { checkModel, MODEL_CONTENT_TYPES, MODEL_PREFIX_BYTES, type ModelFormat } from './model-checks.ts';
import {
  deleteModel,
  findModel,
  listReadyModels,
  lockModel,
  markModelReady,
  upsertPendingModel,
} from './models.repo.ts';
import { MODEL_MAX_BYTES, type ModelUploadView, type ModelView } from './models.schemas.ts';
import { findManagedProduct, findVisibleProduct } from './product-access.ts';
import type { Actor } from './products.service.ts';

registerErrorCodes({
  /** The uploaded bytes are not a valid model of the format (checked by magic bytes; the object is deleted). */
  model_invalid: 422,
});

export interface ModelsService {
  startUpload(options: {
    actor: Actor;
    productId: string;
    format: ModelFormat;
    sizeBytes: number;
  }): Promise<ModelUploadView>;
  confirm(options: { actor: Actor; productId: string; format: ModelFormat }): Promise<ModelView>;
  list(options: { actor: Actor | null; productId: string }): Promise<{ items: ModelView[] }>;
  remove(options: { actor: Actor; productId: string; format: ModelFormat }): Promise<void>;
}

const modelKey = (productId: string, format: ModelFormat) =>
  `products/${productId}/models/${format}-${randomUUID()}.${format}`;

const noUpload = () => new AppError('not_found', 'No model upload of this format to confirm');

/**
 * 3D/AR models, one per (product, format). An upload gets a fresh key each time, so a stale URL
 * can never overwrite the current file; storage I/O happens outside transactions and objects are
 * deleted only after the transaction that stopped referring to them committed.
 */
export function createModelsService({
  db,
  clock,
  storage,
  logger,
}: {
  db: Db;
  clock: Clock;
  storage: StoragePort;
  logger: Logger;
}): ModelsService {
  /** Best effort: a leftover object is only wasted space, never visible (no row refers to it). */
  async function deleteObject(key: string): Promise<void> {
    try {
      await storage.delete(key);
    } catch (error) {
      logger.warn({ err: error, key }, 'could not delete a replaced model object');
    }
  }

  async function toView(row: {
    format: ModelFormat;
    storageKey: string;
    sizeBytes: number | null;
    updatedAt: Date;
  }) {
    const download = await storage.presignDownload({ key: row.storageKey });
    return {
      format: row.format,
      contentType: MODEL_CONTENT_TYPES[row.format],
      sizeBytes: row.sizeBytes ?? 0,
      url: download.url,
      expiresAt: download.expiresAt,
      updatedAt: row.updatedAt,
    };
  }

  return {
    async startUpload({ actor, productId, format, sizeBytes }) {
      await findManagedProduct(db, actor, productId);
      const contentType = MODEL_CONTENT_TYPES[format];
      const key = modelKey(productId, format);
      const upload = await storage.presignUpload({
        key,
        contentType,
        maxBytes: Math.min(sizeBytes, MODEL_MAX_BYTES),
        allowedContentTypes: [contentType],
      });
      // The row now points at the new upload; the previous file (ready or not) is no longer
      // referred to and goes once this commits. The product has no model of this format until
      // the new one is confirmed (one row per format: the table has no second key to keep both).
      const previous = await db.transaction(async (tx) => {
        const existing = await lockModel(tx, productId, format);
        await findManagedProduct(tx, actor, productId);
        await upsertPendingModel(tx, { productId, format, storageKey: key, now: clock.now() });
        return existing;
      });
      if (previous) await deleteObject(previous.storageKey);
      return { format, status: 'pending', upload };
    },

    async confirm({ actor, productId, format }) {
      await findManagedProduct(db, actor, productId);
      const row = await findModel(db, productId, format);
      if (!row) throw noUpload();
      if (row.status === 'ready') return toView(row);
      const contentType = MODEL_CONTENT_TYPES[format];
      // 404 when nothing was uploaded yet; 413/415 delete the object.
      const info = await verifyUpload(storage, row.storageKey, {
        maxBytes: MODEL_MAX_BYTES,
        allowedContentTypes: [contentType],
      });
      const problem = checkModel(
        format,
        await storage.readPrefix(row.storageKey, MODEL_PREFIX_BYTES[format]),
        info.size,
      );
      if (problem) {
        await deleteModel(db, productId, format, row.storageKey);
        await storage.delete(row.storageKey);
        throw new AppError(
          'model_invalid',
          `The file is not a valid ${format.toUpperCase()} model: ${problem}`,
          {
            details: { format, reason: problem },
          },
        );
      }
      // Ready only if the row still points at this upload (no newer upload or delete meanwhile).
      const ready = await markModelReady(db, {
        productId,
        format,
        storageKey: row.storageKey,
        sizeBytes: info.size,
        now: clock.now(),
      });
      if (!ready) throw new AppError('conflict', 'A newer upload replaced this one; confirm that one');
      return toView(ready);
    },

    async list({ actor, productId }) {
      await findVisibleProduct(db, actor, productId);
      const rows = await listReadyModels(db, productId);
      return { items: await Promise.all(rows.map(toView)) };
    },

    async remove({ actor, productId, format }) {
      const removed = await db.transaction(async (tx) => {
        await findManagedProduct(tx, actor, productId);
        return deleteModel(tx, productId, format);
      });
      if (!removed) throw new AppError('not_found', 'No model of this format');
      await deleteObject(removed.storageKey);
    },
  };
}
