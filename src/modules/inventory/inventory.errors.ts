import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';

registerErrorCodes({
  /** A hold asked for more than is available; `details.variants` lists each short line. */
  out_of_stock: 409,
  /** A count correction would take more units than are available (held and sold ones stay). */
  stock_adjustment_invalid: 409,
  /** A return of more units than were sold. */
  stock_return_invalid: 409,
  /** Another transaction is holding stock for the same order at this moment; retry the step. */
  hold_conflict: 409,
});

export interface ShortLine {
  readonly variantId: string;
  readonly requested: number;
  readonly available: number;
}

export function outOfStock(variants: readonly ShortLine[]): AppError {
  return new AppError('out_of_stock', 'Not enough stock for some items', {
    details: { variants: variants.map((line) => ({ ...line })) },
  });
}

export const variantNotFound = () => new AppError('not_found', 'No such variant');

/** A caller passed a quantity no route would accept (routes validate first): a programming error. */
export function invalidQuantity(field: string, message: string): AppError {
  return new AppError('validation_failed', message, { fields: [{ field, message }] });
}
