import { AppError, registerErrorCodes } from '../errors/index.ts';

registerErrorCodes({
  /** A cursor that this listing did not give out (tampered, or from another listing or sort). */
  invalid_cursor: 400,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row id in a cursor: a UUID as text. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * Opaque to clients: base64url of a small JSON array. Put what tells the listing apart (a tag, or the
 * sort) first, so that a cursor of one listing is refused by another.
 */
export function encodeKeysetCursor(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * The listing's keys read from a cursor by `read`, which gets the decoded array and returns undefined
 * for one it did not make. Anything else (not base64url JSON of an array, or refused) is
 * `invalid_cursor` (400).
 */
export function decodeKeysetCursor<T>(text: string, read: (parts: readonly unknown[]) => T | undefined): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const keys = Array.isArray(parsed) ? read(parsed) : undefined;
  if (keys === undefined) throw invalidCursor();
  return keys;
}

/** The `invalid_cursor` error, pointing the client at the `cursor` query parameter. */
export function invalidCursor(message = 'The cursor is not one this listing gave out'): AppError {
  return new AppError('invalid_cursor', message, {
    fields: [{ field: 'querystring.cursor', message: 'Pass the nextCursor of the previous page unchanged' }],
  });
}
