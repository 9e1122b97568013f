import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';

registerErrorCodes({
  /** A cursor that was not made by this listing (tampered, or from another sort). */
  invalid_cursor: 400,
});

/** Where a page ended: the sort it belongs to, the last row's sort key (as text) and its id. */
export interface Cursor {
  readonly sort: string;
  readonly key: string | null;
  readonly id: string;
}

/** Opaque to clients: base64url of a small JSON array. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.id]), 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(text: string, sort: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 3 ||
    parsed[0] !== sort ||
    !(typeof parsed[1] === 'string' || parsed[1] === null) ||
    typeof parsed[2] !== 'string' ||
    !UUID.test(parsed[2])
  ) {
    throw new AppError('invalid_cursor', 'The cursor is not one this listing gave out', {
      fields: [
        { field: 'querystring.cursor', message: 'Pass the nextCursor of the previous page unchanged' },
      ],
    });
  }
  return { sort, key: parsed[1] as string | null, id: parsed[2] };
}
