import path from 'node:path';
import type { Config } from '../config/config.ts';
import { createLocalStorage } from './local.storage.ts';
import type { StoragePort } from './storage.port.ts';

export {
  assertContentType,
  assertSize,
  contentDisposition,
  createSizeLimit,
  type VerifyUploadOptions,
  verifyUpload,
} from './content-checks.ts';
export {
  createLocalStorage,
  isLocalStorage,
  type LocalStorage,
  type LocalStorageOptions,
} from './local.storage.ts';
export type { S3Settings, S3StorageOptions } from './s3.storage.ts';
export type {
  ObjectInfo,
  PresignDownloadInput,
  PresignedDownload,
  PresignedUpload,
  PresignUploadInput,
  PutOptions,
  StoragePort,
  StoredObject,
} from './storage.port.ts';
export { registerStorageRoutes, storageRoutes } from './storage.routes.ts';
export { storageErrorCodes } from './storage-errors.ts';
export { assertValidKey, isValidKey } from './storage-key.ts';

export interface CreateStorageOptions {
  readonly storage: Config['storage'];
  readonly dataDir: string;
  readonly publicUrl: string;
  /** config.secret; signs local URLs (a per-process random key when absent, development only). */
  readonly secret: string | undefined;
  readonly now?: () => Date;
}

/**
 * Picks the adapter named by STORAGE_DRIVER. The S3 SDK is imported only for the s3 driver, so a
 * server on local disk never loads it.
 */
export async function createStorage(options: CreateStorageOptions): Promise<StoragePort> {
  const { storage } = options;
  const limits = {
    maxUploadBytes: storage.maxUploadBytes,
    urlTtlSeconds: storage.urlTtlSeconds,
    now: options.now,
  };
  if (storage.driver === 's3') {
    // loadConfig already refuses STORAGE_DRIVER=s3 without S3_BUCKET; this guards hand-built configs.
    if (!storage.s3) throw new Error('storage.s3 settings are required for the s3 driver');
    const { createS3Storage } = await import('./s3.storage.ts');
    return createS3Storage({ s3: storage.s3, ...limits });
  }
  return createLocalStorage({
    root: path.join(options.dataDir, 'storage'),
    publicUrl: options.publicUrl,
    secret: options.secret,
    ...limits,
  });
}
