import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, Tx } from '../../platform/db/types.ts';
import { AppError, isAppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type StoragePort, verifyUpload } from '../../platform/storage/index.ts';
import { checkModel, MODEL_CONTENT_TYPES, MODEL_PREFIX_BYTES, type ModelFormat } from './model-checks.ts';
import {
  clearModelReplacement,
  deleteModel,
  findModel,
  insertPendingModel,
  listReadyModels,
  lockModel,
  type ModelRow,
  markModelReady,
  repointPendingModel,
  startModelReplacement,
  swapInModelReplacement,
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
const superseded = () => new AppError('conflict', 'A newer upload replaced this one; confirm that one');

const invalidModel = (format: ModelFormat, problem: string) =>
  new AppError('model_invalid', `The file is not a valid ${format.toUpperCase()} model: ${problem}`, {
    details: { format, reason: problem },
  });

/** Attempts at claiming the (product, format) row when a first upload races a delete. */
const CLAIM_ATTEMPTS = 3;

/**
 * Points the (product, format) row at the upload to `key`, under the row lock. A ready model stays
 * live and the upload becomes its replacement; a format never confirmed keeps one pending row. Returns
 * the key no row refers to any more (its object goes after the commit).
 */
async function claimFormat(
  tx: Tx,
  model: { productId: string; format: ModelFormat; key: string; now: Date },
): Promise<{ replacing: boolean; unreferenced: string | null }> {
  const { productId, format, key, now } = model;
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const existing = await lockModel(tx, productId, format);
    if (!existing) {
      if (await insertPendingModel(tx, { productId, format, storageKey: key, now })) {
        return { replacing: false, unreferenced: null };
      }
      continue; // a concurrent first upload committed its row: lock it and go on as the later one
    }
    if (existing.status === 'ready') {
      await startModelReplacement(tx, { productId, format, pendingStorageKey: key, now });
      return { replacing: true, unreferenced: existing.pendingStorageKey };
    }
    await repointPendingModel(tx, { productId, format, storageKey: key, now });
    return { replacing: false, unreferenced: existing.storageKey };
  }
  throw new AppError('conflict', 'The model of this format is changing; try again');
}

/**
 * 3D/AR models, one row per (product, format). An upload gets a fresh key each time, so an older
 * upload's URL never writes to a newer upload's key. Replacing a ready model keeps it served until the new one
 * is confirmed (a refused replacement leaves it in place). Storage I/O happens outside transactions
 * and objects are deleted only after the transaction that stopped referring to them committed.
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

  async function toView(row: ModelRow): Promise<ModelView> {
    const download = await storage.presignDownload({ key: row.storageKey });
    return {
      format: row.format,
      contentType: MODEL_CONTENT_TYPES[row.format],
      sizeBytes: row.sizeBytes ?? 0,
      url: download.url,
      expiresAt: download.expiresAt,
      updatedAt: row.updatedAt,
      replacementPending: row.pendingStorageKey !== null,
    };
  }

  /**
   * The uploaded object's size and, when its bytes are not a model of `format`, why. 404 when nothing
   * was uploaded yet; too large or another type → 413/415 and verifyUpload deletes the object.
   */
  async function inspectUpload(format: ModelFormat, key: string) {
    const info = await verifyUpload(storage, key, {
      maxBytes: MODEL_MAX_BYTES,
      allowedContentTypes: [MODEL_CONTENT_TYPES[format]],
    });
    const prefix = await storage.readPrefix(key, MODEL_PREFIX_BYTES[format]);
    return { size: info.size, problem: checkModel(format, prefix, info.size) };
  }

  /** Confirms the upload that would become a format's first model. */
  async function confirmFirst(row: ModelRow): Promise<ModelView> {
    const { productId, format, storageKey } = row;
    const { size, problem } = await inspectUpload(format, storageKey);
    if (problem) {
      await deleteModel(db, productId, format, storageKey);
      await storage.delete(storageKey);
      throw invalidModel(format, problem);
    }
    // Ready only if the row still points at this upload (no newer upload or delete meanwhile).
    const ready = await markModelReady(db, {
      productId,
      format,
      storageKey,
      sizeBytes: size,
      now: clock.now(),
    });
    if (!ready) throw superseded();
    return toView(ready);
  }

  /** Confirms the replacement of a ready model: swapped in when valid, dropped (live model kept) when not. */
  async function confirmReplacement(row: ModelRow, pendingStorageKey: string): Promise<ModelView> {
    const { productId, format } = row;
    const replacement = { productId, format, pendingStorageKey };
    let inspected: { size: number; problem: string | null };
    try {
      inspected = await inspectUpload(format, pendingStorageKey);
    } catch (error) {
      // 413/415 deleted the object: the replacement is over. A 404 (not uploaded yet) keeps it open.
      if (isAppError(error) && error.code !== 'not_found') await clearModelReplacement(db, replacement);
      throw error;
    }
    if (inspected.problem) {
      await clearModelReplacement(db, replacement);
      await deleteObject(pendingStorageKey);
      throw invalidModel(format, inspected.problem);
    }
    const sizeBytes = inspected.size;
    const swapped = await db.transaction(async (tx) => {
      const current = await lockModel(tx, productId, format);
      if (current?.pendingStorageKey !== pendingStorageKey) return null;
      const ready = await swapInModelReplacement(tx, { ...replacement, sizeBytes, now: clock.now() });
      return ready ? { ready, replaced: current.storageKey } : null;
    });
    if (!swapped) throw superseded();
    await deleteObject(swapped.replaced);
    return toView(swapped.ready);
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
      const claimed = await db.transaction(async (tx) => {
        await findManagedProduct(tx, actor, productId);
        return claimFormat(tx, { productId, format, key, now: clock.now() });
      });
      if (claimed.unreferenced) await deleteObject(claimed.unreferenced);
      return { format, status: 'pending', replacing: claimed.replacing, upload };
    },

    async confirm({ actor, productId, format }) {
      await findManagedProduct(db, actor, productId);
      const row = await findModel(db, productId, format);
      if (!row) throw noUpload();
      if (row.pendingStorageKey) return confirmReplacement(row, row.pendingStorageKey);
      if (row.status === 'ready') return toView(row);
      return confirmFirst(row);
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
      if (removed.pendingStorageKey) await deleteObject(removed.pendingStorageKey);
    },
  };
}
