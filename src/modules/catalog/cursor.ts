import { decodeKeysetCursor, encodeKeysetCursor, isUuid } from '../../platform/http/keyset-cursor.ts';

/** Where a page ended: the sort it belongs to, the last row's sort key (as text) and its id. */
export interface Cursor {
  readonly sort: string;
  readonly key: string | null;
  readonly id: string;
}

/** Opaque to clients: base64url of `[sort, key, id]`. */
export function encodeCursor(cursor: Cursor): string {
  return encodeKeysetCursor([cursor.sort, cursor.key, cursor.id]);
}

/** A cursor of another sort, or tampered with, is `invalid_cursor` (400). */
export function decodeCursor(text: string, sort: string): Cursor {
  return decodeKeysetCursor(text, (parts) => {
    const [tag, key, id] = parts;
    if (parts.length !== 3 || tag !== sort || !(typeof key === 'string' || key === null) || !isUuid(id)) {
      return undefined;
    }
    return { sort, key, id };
  });
}
