import Type from 'typebox';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Db } from '../../platform/db/types.ts';
import { isAppError } from '../../platform/errors/index.ts';
import { defineCron, defineJob } from '../../platform/jobs/index.ts';
import type { Logger } from '../../platform/observability/logger.ts';
import type { StoragePort } from '../../platform/storage/index.ts';
import {
  type AbandonedUpload,
  clearAbandonedReplacements,
  deleteAbandonedImages,
  deleteAbandonedModels,
} from './upload-cleanup.repo.ts';

/**
 * A pending image or model whose upload began this long ago (by the injected clock) is abandoned.
 * Far above the default presigned URL lifetime (`STORAGE_URL_TTL_SECONDS`, 15 minutes) and any
 * realistic upload. A URL configured to live longer (up to 7 days) can still PUT after the sweep:
 * that object is referenced by nothing, so it is never served.
 */
export const ABANDONED_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000;
export const UPLOAD_CLEANUP_BATCH_SIZE = 200;
/** Bounds one run (10,000 rows per table); whatever is left goes in the next hour's run. */
const MAX_BATCHES_PER_RUN = 50;
/** Storage deletes in flight at once, so a backlog on S3 does not take one round trip per object in turn. */
const DELETE_CONCURRENCY = 8;

export interface UploadCleanupReport {
  /** Pending image rows deleted. */
  readonly images: number;
  /** Pending model rows (formats never confirmed) deleted. */
  readonly models: number;
  /** Replacements of ready models dropped (the live model stays). */
  readonly replacements: number;
  /** Objects whose delete failed (logged); their rows are gone, so they are only wasted space. */
  readonly objectsFailed: number;
}

/** The port promises an idempotent delete; S3 interop services (GCS) may still answer 404. */
function isNotFound(error: unknown): boolean {
  if (isAppError(error)) return error.code === 'not_found';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 404;
}

/**
 * Deletes pending product images and product models whose upload began more than
 * `ABANDONED_UPLOAD_AGE_MS` ago, and drops replacements of ready models as old, in batches of
 * `batchSize` rows per statement, then deletes the objects of each batch. Rows change first and
 * objects go only after that statement committed: a leftover object is harmless (nothing refers to
 * it), a row pointing at nothing is not. Safe to run concurrently and repeatedly.
 */
export async function purgeAbandonedUploads({
  db,
  clock,
  storage,
  logger,
  batchSize = UPLOAD_CLEANUP_BATCH_SIZE,
}: {
  db: Db;
  clock: Clock;
  storage: StoragePort;
  logger: Logger;
  batchSize?: number;
}): Promise<UploadCleanupReport> {
  const before = new Date(clock.now().getTime() - ABANDONED_UPLOAD_AGE_MS);
  let objectsFailed = 0;

  async function deleteObjects(rows: readonly AbandonedUpload[]): Promise<void> {
    for (let start = 0; start < rows.length; start += DELETE_CONCURRENCY) {
      await Promise.all(
        rows.slice(start, start + DELETE_CONCURRENCY).map(async (row) => {
          try {
            await storage.delete(row.storageKey);
          } catch (error) {
            if (isNotFound(error)) return;
            objectsFailed++;
            logger.warn({ err: error, key: row.storageKey }, 'could not delete an abandoned upload object');
          }
        }),
      );
    }
  }

  async function sweep(
    deleteRows: (db: Db, options: { before: Date; limit: number }) => Promise<AbandonedUpload[]>,
  ): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN; batch++) {
      // One statement on the root handle: it has committed when it returns.
      const rows = await deleteRows(db, { before, limit: batchSize });
      total += rows.length;
      await deleteObjects(rows);
      if (rows.length < batchSize) break;
    }
    return total;
  }

  const images = await sweep(deleteAbandonedImages);
  const models = await sweep(deleteAbandonedModels);
  const replacements = await sweep(clearAbandonedReplacements);
  return { images, models, replacements, objectsFailed };
}

export const purgeAbandonedUploadsJob = defineJob(
  'catalog.purge-abandoned-uploads',
  Type.Object({}),
  async ({ services, logger }) => {
    const report = await purgeAbandonedUploads({
      db: services.db,
      clock: services.clock,
      storage: services.storage,
      logger,
    });
    if (report.images + report.models + report.replacements > 0)
      logger.info(report, 'purged abandoned uploads');
  },
  // A failed run is simply repeated by the next hour's schedule.
  { retryLimit: 0 },
);

export const purgeAbandonedUploadsCron = defineCron(
  'catalog.purge-abandoned-uploads',
  '41 * * * *',
  purgeAbandonedUploadsJob,
  {},
);
