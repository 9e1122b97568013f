import { Transform } from 'node:stream';
import { AppError } from '../errors/index.ts';
import type { StoragePort } from './storage.port.ts';

// type/subtype with optional parameters; rejects CR/LF so a content type can never split a header.
const CONTENT_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(?:\s*;\s*[^\r\n;]+)*$/i;

/** Lower-cased, whitespace-free form, so `Image/PNG; charset=x` and `image/png;charset=x` compare equal. */
export function normalizeContentType(contentType: string): string {
  return contentType
    .trim()
    .toLowerCase()
    .replace(/\s*;\s*/g, ';');
}

/** The media type without parameters (`text/plain; charset=utf-8` → `text/plain`). */
export function mediaTypeOf(contentType: string): string {
  return normalizeContentType(contentType).split(';')[0] ?? '';
}

export function assertContentTypeSyntax(contentType: string): void {
  if (!CONTENT_TYPE_PATTERN.test(contentType)) {
    throw new AppError('unsupported_media_type', 'Malformed content type', { details: { contentType } });
  }
}

/** 415 unless `contentType` is one of `allowed` (entries may be `type/*`). An empty list allows all. */
export function assertContentType(contentType: string | undefined, allowed: readonly string[]): void {
  const actual = contentType === undefined ? '' : mediaTypeOf(contentType);
  if (allowed.length === 0 && actual !== '') return;
  const ok = allowed.some((entry) => {
    const wanted = mediaTypeOf(entry);
    return wanted.endsWith('/*') ? actual.startsWith(wanted.slice(0, -1)) : actual === wanted;
  });
  if (!ok) {
    throw new AppError('unsupported_media_type', `Content type ${actual || '(none)'} is not accepted`, {
      details: { contentType: actual, allowed },
    });
  }
}

const MAX_URL_TTL_SECONDS = 7 * 24 * 3600; // S3's SigV4 ceiling; the same rule for both adapters.

export function assertTtl(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_URL_TTL_SECONDS) {
    throw new RangeError(`URL lifetime must be an integer between 1 and ${MAX_URL_TTL_SECONDS} seconds`);
  }
}

/** The configured ceiling always wins; a caller can only narrow it. */
export function effectiveMaxBytes(requested: number | undefined, configured: number): number {
  const max = Math.min(requested ?? configured, configured);
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxBytes must be a positive integer');
  return max;
}

/**
 * 413 when `size` exceeds `maxBytes`. `closeConnection` is for errors raised while a request body is
 * still arriving: closing is cheaper than draining what the client keeps sending (Fastify does the same).
 */
export function assertSize(
  size: number,
  maxBytes: number,
  options: { closeConnection?: boolean } = {},
): void {
  if (size > maxBytes) {
    throw new AppError('payload_too_large', `Upload exceeds ${maxBytes} bytes`, {
      details: { size, maxBytes },
      ...(options.closeConnection ? { headers: { connection: 'close' } } : {}),
    });
  }
}

/**
 * Counts bytes as they pass and fails with 413 the moment the ceiling is crossed, so a client that
 * sends no Content-Length (chunked) or lies about it cannot write more than it was granted.
 */
export function createSizeLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        try {
          assertSize(seen, maxBytes, { closeConnection: true });
        } catch (error) {
          callback(error as Error);
          return;
        }
      }
      callback(null, chunk);
    },
  });
}

/**
 * RFC 6266 attachment header: an ASCII fallback plus the UTF-8 `filename*` form. Control characters,
 * quotes, backslashes and path separators are dropped so a stored name cannot inject headers or paths.
 */
export function contentDisposition(filename: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const cleaned = filename.replace(/[\u0000-\u001f\u007f"\\/]/g, '').trim() || 'download';
  const ascii = cleaned.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(cleaned).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export interface VerifyUploadOptions {
  readonly maxBytes: number;
  readonly allowedContentTypes?: readonly string[];
}

/**
 * Run after a client says a presigned upload finished. S3 presigned PUT cannot cap the size (only a
 * POST policy can, and `@aws-sdk/s3-presigned-post` is not a dependency), so the object is checked
 * here and deleted when it breaks the rules — it then never becomes visible to the rest of the app.
 */
export async function verifyUpload(
  storage: StoragePort,
  key: string,
  options: VerifyUploadOptions,
): Promise<{ contentType: string; size: number }> {
  const info = await storage.head(key);
  if (!info) throw new AppError('not_found', 'The upload was not found', { details: { key } });
  try {
    assertSize(info.size, options.maxBytes);
    if (options.allowedContentTypes) assertContentType(info.contentType, options.allowedContentTypes);
  } catch (error) {
    await storage.delete(key);
    throw error;
  }
  return info;
}
