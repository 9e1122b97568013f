import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config/config.ts';
import { AppError } from '../errors/index.ts';
import {
  assertContentType,
  assertContentTypeSyntax,
  assertSize,
  assertTtl,
  contentDisposition,
  effectiveMaxBytes,
} from './content-checks.ts';
import type { PutOptions, StoragePort } from './storage.port.ts';
import { assertValidKey } from './storage-key.ts';

export type S3Settings = NonNullable<Config['storage']['s3']>;

export interface S3StorageOptions {
  readonly s3: S3Settings;
  readonly maxUploadBytes: number;
  readonly urlTtlSeconds: number;
  readonly now?: () => Date;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function notFound(key: string): AppError {
  return new AppError('not_found', 'The stored object was not found', { details: { key } });
}

/**
 * S3 wants the length before the first byte (a chunked PutObject is refused with 411), so a stream of
 * unknown length is read into memory — bounded, so a runaway producer fails with 413 instead of
 * exhausting the heap. Large files should go client → S3 through a presigned PUT anyway.
 */
async function toBuffer(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    assertSize(size, maxBytes);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function readUpTo(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= bytes) break; // leaving the loop destroys the stream: a server ignoring Range costs nothing
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

export function createS3Client(s3: S3Settings): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    // Explicit keys when configured, else the SDK's default chain (env, profile, instance role).
    credentials:
      s3.accessKeyId && s3.secretAccessKey
        ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
        : undefined,
    // Since SDK 3.729 every PutObject carries a CRC32 by default, streamed as aws-chunked trailers and
    // baked into presigned URLs; MinIO versions and GCS interop reject or mis-sign that. Checksums
    // only where an operation requires them keeps us on plain SigV4 that every S3 dialect accepts.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createS3Storage(options: S3StorageOptions, client = createS3Client(options.s3)): StoragePort {
  const bucket = options.s3.bucket;
  const now = options.now ?? (() => new Date());

  async function put(key: string, body: Buffer | Uint8Array | Readable, putOptions: PutOptions) {
    assertValidKey(key);
    assertContentTypeSyntax(putOptions.contentType);
    let payload: Buffer | Uint8Array | Readable = body;
    let length = putOptions.contentLength;
    if (body instanceof Uint8Array) length = body.byteLength;
    else if (length === undefined) {
      payload = await toBuffer(body, options.maxUploadBytes);
      length = payload.byteLength;
    }
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: payload,
        ContentType: putOptions.contentType,
        ContentLength: length,
      }),
    );
    return { size: length };
  }

  return {
    driver: 's3',

    async presignUpload(input) {
      assertValidKey(input.key);
      assertContentTypeSyntax(input.contentType);
      if (input.allowedContentTypes) assertContentType(input.contentType, input.allowedContentTypes);
      const maxBytes = effectiveMaxBytes(input.maxBytes, options.maxUploadBytes);
      assertTtl(options.urlTtlSeconds);
      const signedAt = now();
      const command = new PutObjectCommand({
        Bucket: bucket,
        Key: input.key,
        ContentType: input.contentType,
      });
      const url = await getSignedUrl(client, command, {
        expiresIn: options.urlTtlSeconds,
        signingDate: signedAt,
        // The presigner leaves Content-Type unsigned by default; signing it makes S3 refuse a PUT with
        // any other type (403 SignatureDoesNotMatch), like the local route's 415.
        signableHeaders: new Set(['content-type']),
      });
      // Size cannot be bound into a presigned PUT (only an exact Content-Length, or a POST policy via
      // @aws-sdk/s3-presigned-post, which we do not ship). Callers must run verifyUpload afterwards.
      return {
        url,
        method: 'PUT' as const,
        headers: { 'content-type': input.contentType },
        expiresAt: new Date(signedAt.getTime() + options.urlTtlSeconds * 1000),
        maxBytes,
      };
    },

    async presignDownload(input) {
      assertValidKey(input.key);
      const ttl = input.expiresInSeconds ?? options.urlTtlSeconds;
      assertTtl(ttl);
      const signedAt = now();
      const command = new GetObjectCommand({
        Bucket: bucket,
        Key: input.key,
        ResponseContentDisposition:
          input.filename === undefined ? undefined : contentDisposition(input.filename),
      });
      const url = await getSignedUrl(client, command, { expiresIn: ttl, signingDate: signedAt });
      return { url, expiresAt: new Date(signedAt.getTime() + ttl * 1000) };
    },

    put,

    async get(key) {
      assertValidKey(key);
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        // In Node the SDK hands back the http.IncomingMessage itself.
        if (!(result.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
        return {
          body: result.Body,
          contentType: result.ContentType ?? DEFAULT_CONTENT_TYPE,
          size: result.ContentLength ?? 0,
        };
      } catch (error) {
        if (statusOf(error) === 404) throw notFound(key);
        throw error;
      }
    },

    async head(key) {
      assertValidKey(key);
      try {
        const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { contentType: result.ContentType ?? DEFAULT_CONTENT_TYPE, size: result.ContentLength ?? 0 };
      } catch (error) {
        // HEAD responses have no body, so the SDK only knows the status (error name `NotFound`).
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },

    async delete(key) {
      assertValidKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async readPrefix(key, bytes) {
      assertValidKey(key);
      if (bytes <= 0) return Buffer.alloc(0);
      try {
        const result = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
        );
        if (!(result.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
        return await readUpTo(result.Body, bytes);
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) throw notFound(key);
        if (status === 416) return Buffer.alloc(0); // InvalidRange: the object is empty
        throw error;
      }
    },
  };
}
