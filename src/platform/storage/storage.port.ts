import type { Readable } from 'node:stream';

/**
 * The storage port: a neutral vocabulary for object storage. Two adapters implement it — `local`
 * (files under the data dir, URLs signed by us and served by storage.routes.ts) and `s3` (S3, MinIO,
 * GCS interop). Keys are caller-chosen paths such as `models/<uuid>.glb`; see storage-key.ts.
 */
export interface PresignUploadInput {
  readonly key: string;
  readonly contentType: string;
  /** Ceiling for this upload; never above the configured `maxUploadBytes` (the smaller wins). */
  readonly maxBytes?: number;
  /** When given, `contentType` must match one of these (`image/*` wildcards allowed) or 415. */
  readonly allowedContentTypes?: readonly string[];
}

export interface PresignedUpload {
  readonly url: string;
  readonly method: 'PUT';
  /** Headers the client must send verbatim (the content type is part of the signature). */
  readonly headers: Record<string, string>;
  readonly expiresAt: Date;
  /**
   * The size ceiling that applies. The local adapter enforces it while receiving; S3 presigned PUT
   * cannot, so callers run `verifyUpload` (content-checks.ts) after the client reports completion.
   */
  readonly maxBytes: number;
}

export interface PresignDownloadInput {
  readonly key: string;
  /** Sent back as `Content-Disposition: attachment; filename=…`; omitted → served inline. */
  readonly filename?: string;
  readonly expiresInSeconds?: number;
}

export interface PresignedDownload {
  readonly url: string;
  readonly expiresAt: Date;
}

export interface PutOptions {
  readonly contentType: string;
  /**
   * Byte length of a stream body when known. S3 needs a length up front: without it a stream is
   * buffered in memory (bounded by `maxUploadBytes`).
   */
  readonly contentLength?: number;
}

export interface ObjectInfo {
  readonly contentType: string;
  readonly size: number;
}

export interface StoredObject extends ObjectInfo {
  readonly body: Readable;
}

export interface StoragePort {
  readonly driver: 'local' | 's3';
  presignUpload(input: PresignUploadInput): Promise<PresignedUpload>;
  presignDownload(input: PresignDownloadInput): Promise<PresignedDownload>;
  /** A trusted server-side write (no size ceiling other than S3 buffering of unknown-length streams). */
  put(key: string, body: Buffer | Uint8Array | Readable, options: PutOptions): Promise<{ size: number }>;
  /** Throws AppError `not_found` when the object does not exist. */
  get(key: string): Promise<StoredObject>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Idempotent: deleting a missing key is not an error (S3 semantics). */
  delete(key: string): Promise<void>;
  /** The first `bytes` bytes (fewer if the object is shorter) — for magic-byte checks after upload. */
  readPrefix(key: string, bytes: number): Promise<Buffer>;
}
