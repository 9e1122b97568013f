import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';

registerErrorCodes({
  /** A cursor that was not made by this listing (tampered, or from another listing). */
  invalid_cursor: 400,
});

/** Where a page of orders ended: the last row's `placed_at` (PostgreSQL text) and id. */
export interface OrderCursor {
  readonly placedAt: string;
  readonly id: string;
}

const TAG = 'orders';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// What PostgreSQL's timestamptz::text looks like: "2026-01-01 10:00:00.123456+00".
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** Opaque to clients: base64url of a small JSON array. */
export function encodeOrderCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify([TAG, cursor.placedAt, cursor.id]), 'utf8').toString('base64url');
}

export function decodeOrderCursor(text: string): OrderCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== TAG ||
    typeof parsed[1] !== 'string' ||
    !TIMESTAMP.test(parsed[1]) ||
    typeof parsed[2] !== 'string' ||
    !UUID.test(parsed[2])
  ) {
    throw new AppError('invalid_cursor', 'The cursor is not one this listing gave out', {
      fields: [
        { field: 'querystring.cursor', message: 'Pass the nextCursor of the previous page unchanged' },
      ],
    });
  }
  return { placedAt: parsed[1], id: parsed[2] };
}
