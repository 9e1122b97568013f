import { decodeKeysetCursor, encodeKeysetCursor, isUuid } from '../../platform/http/keyset-cursor.ts';

/** Where a page of orders ended: the last row's `placed_at` (PostgreSQL text) and id. */
export interface OrderCursor {
  readonly placedAt: string;
  readonly id: string;
}

const TAG = 'orders';
// What PostgreSQL's timestamptz::text looks like: "2026-01-01 10:00:00.123456+00".
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

/** Opaque to clients: base64url of `["orders", placedAt, id]`. */
export function encodeOrderCursor(cursor: OrderCursor): string {
  return encodeKeysetCursor([TAG, cursor.placedAt, cursor.id]);
}

/** A cursor of another listing, or tampered with, is `invalid_cursor` (400). */
export function decodeOrderCursor(text: string): OrderCursor {
  return decodeKeysetCursor(text, (parts) => {
    const [tag, placedAt, id] = parts;
    if (
      parts.length !== 3 ||
      tag !== TAG ||
      typeof placedAt !== 'string' ||
      !TIMESTAMP.test(placedAt) ||
      !isUuid(id)
    ) {
      return undefined;
    }
    return { placedAt, id };
  });
}
