import Type from 'typebox';

/**
 * A timestamp in a response: handlers return `Date` (what Drizzle gives), the serializer writes
 * ISO 8601. The static type accepts both so handlers need no conversion.
 */
export const DateTime = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const NullableDateTime = Type.Unsafe<Date | string | null>({
  anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }],
});
