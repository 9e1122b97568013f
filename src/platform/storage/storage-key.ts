import path from 'node:path';
import { AppError } from '../errors/index.ts';
import './storage-errors.ts';

const MAX_KEY_LENGTH = 512;
// Each segment starts with a letter, digit, `_` or `-`: that rules out `.`, `..` and dotfiles in one
// rule, and the charset needs no escaping in URLs, file systems or S3 (no `%`, `\`, spaces, `:`).
const SEGMENT = '[A-Za-z0-9_-][A-Za-z0-9._-]*';
const KEY_PATTERN = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);

export function isValidKey(key: unknown): key is string {
  return typeof key === 'string' && key.length <= MAX_KEY_LENGTH && KEY_PATTERN.test(key);
}

/** Rejects anything that could escape the storage root (path traversal) or differ across backends. */
export function assertValidKey(key: unknown): asserts key is string {
  if (!isValidKey(key)) {
    throw new AppError('storage_key_invalid', 'Invalid storage key', {
      details: { rule: `segments of [A-Za-z0-9._-] not starting with '.', at most ${MAX_KEY_LENGTH} chars` },
    });
  }
}

/** Maps a validated key under `root`, and re-checks containment so a future rule change cannot leak. */
export function resolveKeyPath(root: string, key: string): string {
  assertValidKey(key);
  const resolved = path.resolve(root, ...key.split('/'));
  if (!resolved.startsWith(root + path.sep)) {
    throw new AppError('storage_key_invalid', 'Invalid storage key');
  }
  return resolved;
}

/** Encodes each segment for a URL path (a no-op for today's charset; kept so the rule can widen). */
export function keyToUrlPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
