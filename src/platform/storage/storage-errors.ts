import { registerErrorCodes } from '../errors/index.ts';

/**
 * Stable codes clients can branch on. Both URL failures are 403 like S3's own answers, so a client
 * written against S3 treats local and S3 the same way (get a fresh URL and retry).
 */
export const storageErrorCodes = {
  storage_url_expired: 403,
  storage_signature_invalid: 403,
  storage_key_invalid: 400,
} as const;

registerErrorCodes(storageErrorCodes);
