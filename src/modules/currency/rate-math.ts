import { minorUnitExponent } from '../../platform/money/money.ts';

/**
 * An exact rational number. Rates are decimals (`1.0812`), but their inverses and cross rates
 * (KRW→USD = 1 / 1352.5, USD→KRW = EUR→KRW / EUR→USD) are not, so conversions carry fractions
 * of BigInts and round once, at the end. Floats would turn 100 × 1.115 into 111.49999….
 */
export interface Ratio {
  readonly num: bigint;
  /** Always positive. */
  readonly den: bigint;
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function reduced(num: bigint, den: bigint): Ratio {
  if (den === 0n) throw new RangeError('division by zero');
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den) || 1n;
  return { num: (sign * num) / divisor, den: (sign * den) / divisor };
}

/** "1352.50" → 135250/100 (reduced). Refuses anything but a plain decimal. */
export function parseDecimal(value: string): Ratio {
  const match = DECIMAL.exec(value);
  if (!match) throw new RangeError(`not a decimal: ${value}`);
  const [, sign = '', whole = '', fraction = ''] = match;
  return reduced(BigInt(`${sign}${whole}${fraction}`), 10n ** BigInt(fraction.length));
}

export function multiply(a: Ratio, b: Ratio): Ratio {
  return reduced(a.num * b.num, a.den * b.den);
}

export function invert(a: Ratio): Ratio {
  return reduced(a.den, a.num);
}

/** The nearest integer; exact halves go to the even neighbour (banker's rounding, IEEE 754's default). */
export function roundHalfEven(value: Ratio): bigint {
  const negative = value.num < 0n;
  const magnitude = negative ? -value.num : value.num;
  let quotient = magnitude / value.den;
  const twiceRemainder = (magnitude % value.den) * 2n;
  if (twiceRemainder > value.den || (twiceRemainder === value.den && quotient % 2n === 1n)) quotient += 1n;
  return negative ? -quotient : quotient;
}

/**
 * A decimal string rounded half-even to `scale` places, trailing zeros dropped: the form rates are
 * shown in (12 places, as `exchange_rates.rate` stores them).
 */
export function toDecimalString(value: Ratio, scale = 12): string {
  const scaled = roundHalfEven(multiply(value, { num: 10n ** BigInt(scale), den: 1n }));
  const negative = scaled < 0n;
  const digits = (negative ? -scaled : scaled).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * `amountMinor` of `from` at `rate` (units of `to` per unit of `from`) in minor units of `to`:
 * amount × rate × 10^(exponent(to) − exponent(from)), rounded half-even once. 1000 USD cents at
 * 1352 KRW/USD → 13520 won; 13520 won at 1/1352 → 1000 cents.
 */
export function convertMinor(amountMinor: bigint, rate: Ratio, from: string, to: string): bigint {
  const shift = minorUnitExponent(to) - minorUnitExponent(from);
  const scale: Ratio =
    shift >= 0 ? { num: 10n ** BigInt(shift), den: 1n } : { num: 1n, den: 10n ** BigInt(-shift) };
  return roundHalfEven(multiply(multiply({ num: amountMinor, den: 1n }, rate), scale));
}
