import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/index.ts';
import './storage-errors.ts';

/**
 * HMAC-SHA256 URLs for the local adapter. The MAC covers everything the route will rely on (method,
 * key, expiry, content type, size ceiling, download filename) so changing any query value breaks it.
 * Fields are serialised as a JSON array: unambiguous whatever characters a value holds.
 */
export interface UploadGrant {
  readonly key: string;
  readonly contentType: string;
  readonly maxBytes: number;
  readonly expiresAt: Date;
}

export interface DownloadGrant {
  readonly key: string;
  readonly filename: string | undefined;
  readonly expiresAt: Date;
}

/** The query string the routes receive (all strings; the MAC is checked before any is trusted). */
export interface SignedQuery {
  readonly expires: string;
  readonly sig: string;
  readonly ct?: string;
  readonly max?: string;
  readonly filename?: string;
}

export interface UrlSigner {
  signUpload(grant: UploadGrant): URLSearchParams;
  signDownload(grant: DownloadGrant): URLSearchParams;
  verifyUpload(key: string, query: SignedQuery): UploadGrant;
  verifyDownload(key: string, query: SignedQuery): DownloadGrant;
}

/**
 * A purpose-bound subkey: APP_SECRET also signs other things (sessions, webhooks); deriving our own
 * key means a MAC from one feature can never be replayed as another. Without a secret (development
 * only — config requires APP_SECRET in production) a per-process random key is used, so URLs simply
 * stop working after a restart.
 */
function deriveKey(secret: string | undefined): Buffer {
  const base = secret ?? randomBytes(32).toString('hex');
  return createHmac('sha256', base).update('caravan:storage:url:v1').digest();
}

export function createUrlSigner(options: { secret: string | undefined; now: () => Date }): UrlSigner {
  const key = deriveKey(options.secret);
  // The MAC covers the exact query strings (not parsed numbers), so `max=0100` cannot pass for `100`;
  // an absent filename is `null`, distinct from an empty one.
  const mac = (fields: readonly (string | null)[]): string =>
    createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');

  function check(expected: string, query: SignedQuery): Date {
    const given = Buffer.from(query.sig);
    const wanted = Buffer.from(expected);
    // timingSafeEqual throws on different lengths; the length of a MAC is public anyway.
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      throw new AppError('storage_signature_invalid', 'The URL signature is invalid');
    }
    // Expiry is checked only after the MAC, so a tampered expiry reads as a bad signature.
    const expiresAt = new Date(Number(query.expires) * 1000);
    if (!(expiresAt.getTime() > options.now().getTime())) {
      throw new AppError('storage_url_expired', 'The URL has expired', { details: { expiresAt } });
    }
    return expiresAt;
  }

  return {
    signUpload(grant) {
      const expires = String(Math.floor(grant.expiresAt.getTime() / 1000));
      const max = String(grant.maxBytes);
      const sig = mac(['PUT', grant.key, expires, grant.contentType, max]);
      return new URLSearchParams({ expires, ct: grant.contentType, max, sig });
    },
    signDownload(grant) {
      const expires = String(Math.floor(grant.expiresAt.getTime() / 1000));
      const params = new URLSearchParams({ expires });
      if (grant.filename !== undefined) params.set('filename', grant.filename);
      params.set('sig', mac(['GET', grant.key, expires, grant.filename ?? null]));
      return params;
    },
    verifyUpload(objectKey, query) {
      const contentType = query.ct ?? '';
      const max = query.max ?? '';
      const expiresAt = check(mac(['PUT', objectKey, query.expires, contentType, max]), query);
      return { key: objectKey, contentType, maxBytes: Number(max), expiresAt };
    },
    verifyDownload(objectKey, query) {
      const filename = query.filename;
      const expiresAt = check(mac(['GET', objectKey, query.expires, filename ?? null]), query);
      return { key: objectKey, filename, expiresAt };
    },
  };
}
