import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db, DbOrTx } from '../../platform/db/types.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import { type StoragePort, verifyUpload } from '../../platform/storage/index.ts';
import { IMAGE_PREFIX_BYTES, looksLikeImage } from './image-checks.ts';
import {
  deleteImage,
  findImage,
  type ImageRow,
  insertImage,
  listReadyImages,
  markImageReady,
  setImageOrder,
  updateImage,
} from './media.repo.ts';
import {
  IMAGE_MAX_BYTES,
  type ImageUploadInput,
  type ImageUploadView,
  type ImageView,
  type ProductImageView,
  type UpdateImageInput,
} from './media.schemas.ts';
import { findManagedProduct } from './product-access.ts';
import { lockProduct } from './products.repo.ts';
import type { Actor } from './products.service.ts';

registerErrorCodes({
  /** The uploaded bytes are not an image of the declared type (the object is deleted). */
  image_invalid: 422,
  /** A reorder that does not list every ready image of the product exactly once. */
  image_order_mismatch: 422,
});

export interface MediaService {
  startUpload(options: {
    actor: Actor;
    productId: string;
    input: ImageUploadInput;
  }): Promise<ImageUploadView>;
  confirm(options: { actor: Actor; productId: string; imageId: string }): Promise<ImageView>;
  update(options: {
    actor: Actor;
    productId: string;
    imageId: string;
    input: UpdateImageInput;
  }): Promise<ImageView>;
  reorder(options: {
    actor: Actor;
    productId: string;
    imageIds: readonly string[];
  }): Promise<{ items: ImageView[] }>;
  remove(options: { actor: Actor; productId: string; imageId: string }): Promise<void>;
  /** Ready images of a product with signed URLs, for product reads (visibility checked by the caller). */
  productImages(productId: string): Promise<ProductImageView[]>;
}

const imageNotFound = () => new AppError('not_found', 'No such image');

/**
 * Product images: presigned upload → confirm (size, type and magic bytes) → ready at the end of
 * the display order. Order changes lock the product row, so concurrent reorders and confirms
 * serialise; storage I/O happens outside transactions, deletes after the commit.
 */
export function createMediaService({
  db,
  storage,
  logger,
  clock,
}: {
  db: Db;
  storage: StoragePort;
  logger: Logger;
  /** Stamps `created_at`, which the abandoned-upload sweep measures against the same clock. */
  clock: Clock;
}): MediaService {
  async function signed(row: ImageRow): Promise<string> {
    return (await storage.presignDownload({ key: row.storageKey })).url;
  }

  async function toView(row: ImageRow): Promise<ImageView> {
    return {
      id: row.id,
      status: row.status,
      contentType: row.contentType,
      altText: row.altText,
      position: row.position,
      url: row.status === 'ready' ? await signed(row) : null,
    };
  }

  async function readyViews(tx: DbOrTx, productId: string): Promise<ImageView[]> {
    return Promise.all((await listReadyImages(tx, [productId])).map(toView));
  }

  /** Locks the product (after the ownership check) for a change to its image order. */
  async function lockForChange(tx: DbOrTx, actor: Actor, productId: string): Promise<void> {
    await findManagedProduct(tx, actor, productId);
    await lockProduct(tx, productId);
  }

  return {
    async startUpload({ actor, productId, input }) {
      await findManagedProduct(db, actor, productId);
      const id = randomUUID();
      const storageKey = `products/${productId}/images/${id}`;
      const upload = await storage.presignUpload({
        key: storageKey,
        contentType: input.contentType,
        maxBytes: Math.min(input.sizeBytes, IMAGE_MAX_BYTES),
        allowedContentTypes: [input.contentType],
      });
      const row = await insertImage(db, {
        id,
        productId,
        storageKey,
        contentType: input.contentType,
        altText: input.altText ?? '',
        status: 'pending',
        createdAt: clock.now(),
      });
      return { image: await toView(row), upload };
    },

    async confirm({ actor, productId, imageId }) {
      await findManagedProduct(db, actor, productId);
      const row = await findImage(db, productId, imageId);
      if (!row) throw imageNotFound();
      if (row.status === 'ready') return toView(row);
      // 404 when nothing was uploaded; too large or another type → 413/415 and the object is deleted.
      await verifyUpload(storage, row.storageKey, {
        maxBytes: IMAGE_MAX_BYTES,
        allowedContentTypes: [row.contentType],
      });
      if (!looksLikeImage(row.contentType, await storage.readPrefix(row.storageKey, IMAGE_PREFIX_BYTES))) {
        await deleteImage(db, productId, imageId);
        await storage.delete(row.storageKey);
        throw new AppError('image_invalid', `The file is not a ${row.contentType} image`, {
          details: { contentType: row.contentType },
        });
      }
      const ready = await db.transaction(async (tx) => {
        await lockProduct(tx, productId);
        return markImageReady(tx, productId, imageId);
      });
      // Confirmed twice at once: the other call made it ready.
      return toView(ready ?? (await findImage(db, productId, imageId)) ?? row);
    },

    update({ actor, productId, imageId, input }) {
      return db.transaction(async (tx) => {
        await lockForChange(tx, actor, productId);
        const row = await findImage(tx, productId, imageId);
        if (!row) throw imageNotFound();
        if (input.altText !== undefined)
          await updateImage(tx, productId, imageId, { altText: input.altText });
        if (input.position !== undefined && row.status === 'ready') {
          const order = (await listReadyImages(tx, [productId]))
            .map((image) => image.id)
            .filter((id) => id !== imageId);
          order.splice(Math.min(input.position, order.length), 0, imageId);
          await setImageOrder(tx, productId, order);
        }
        return toView((await findImage(tx, productId, imageId))!);
      });
    },

    reorder({ actor, productId, imageIds }) {
      return db.transaction(async (tx) => {
        await lockForChange(tx, actor, productId);
        const ready = new Set((await listReadyImages(tx, [productId])).map((image) => image.id));
        const given = new Set(imageIds);
        if (
          given.size !== imageIds.length ||
          given.size !== ready.size ||
          imageIds.some((id) => !ready.has(id))
        ) {
          throw new AppError('image_order_mismatch', 'List every ready image of the product exactly once', {
            fields: [{ field: 'body.imageIds', message: 'Must be exactly the ready images, each once' }],
            details: { readyImageIds: [...ready] },
          });
        }
        await setImageOrder(tx, productId, imageIds);
        return { items: await readyViews(tx, productId) };
      });
    },

    async remove({ actor, productId, imageId }) {
      const removed = await db.transaction(async (tx) => {
        await lockForChange(tx, actor, productId);
        return deleteImage(tx, productId, imageId);
      });
      if (!removed) throw imageNotFound();
      try {
        await storage.delete(removed.storageKey);
      } catch (error) {
        // No row refers to it any more: a leftover object is wasted space, never visible.
        logger.warn({ err: error, key: removed.storageKey }, 'could not delete a removed image object');
      }
    },

    async productImages(productId) {
      const rows = await listReadyImages(db, [productId]);
      return Promise.all(
        rows.map(async (row) => ({
          id: row.id,
          url: await signed(row),
          contentType: row.contentType,
          altText: row.altText,
          position: row.position,
        })),
      );
    },
  };
}
