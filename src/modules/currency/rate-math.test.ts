import { describe, expect, it } from 'vitest';
import { convertMinor, invert, multiply, parseDecimal, roundHalfEven, toDecimalString } from './rate-math.ts';

const ratio = (num: bigint, den: bigint) => ({ num, den });

describe('exact rate arithmetic', () => {
  it('rounds half to even, symmetrically for negatives', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [1n, 2n, 0n], // 0.5
      [3n, 2n, 2n], // 1.5
      [5n, 2n, 2n], // 2.5
      [7n, 2n, 4n], // 3.5
      [-5n, 2n, -2n],
      [-7n, 2n, -4n],
      [2501n, 1000n, 3n], // 2.501: above the half
      [2499n, 1000n, 2n],
      [-2501n, 1000n, -3n],
      [0n, 7n, 0n],
    ];
    for (const [num, den, expected] of cases) expect(roundHalfEven(ratio(num, den))).toBe(expected);
  });

  it('parses, inverts, multiplies and prints decimals without losing a digit', () => {
    expect(parseDecimal('1352.50')).toEqual(ratio(2705n, 2n));
    expect(parseDecimal('0.000000000001')).toEqual(ratio(1n, 1_000_000_000_000n));
    expect(() => parseDecimal('1e3')).toThrow(RangeError);
    expect(toDecimalString(invert(parseDecimal('1352')))).toBe('0.00073964497');
    expect(toDecimalString(multiply(parseDecimal('1461.85'), invert(parseDecimal('1.0812'))))).toBe(
      '1352.062523122457',
    );
    expect(toDecimalString(parseDecimal('1.081200000000'))).toBe('1.0812');
    expect(toDecimalString(parseDecimal('1450'))).toBe('1450');
    expect(toDecimalString(ratio(-1n, 3n))).toBe('-0.333333333333');
  });

  it('scales between minor units: cents to won, won to cents, yen to cents', () => {
    // 1000 cents = 10 USD; at 1352 KRW/USD → 13520 won (KRW has no minor unit).
    expect(convertMinor(1000n, parseDecimal('1352'), 'USD', 'KRW')).toBe(13520n);
    expect(convertMinor(13520n, invert(parseDecimal('1352')), 'KRW', 'USD')).toBe(1000n);
    // 10000 yen at 0.0067 USD/JPY = 67.00 USD = 6700 cents.
    expect(convertMinor(10000n, parseDecimal('0.0067'), 'JPY', 'USD')).toBe(6700n);
    // 1 KWD (3 decimals: 1000 fils) at 3.25 USD/KWD = 325 cents.
    expect(convertMinor(1000n, parseDecimal('3.25'), 'KWD', 'USD')).toBe(325n);
  });

  it('rounds once at the end where floats would not: 50 × 4.35 is exactly 217.5', () => {
    // In floating point 50 * 4.35 = 217.49999999999997, which any float rounding takes to 217.
    expect(50 * 4.35).toBeLessThan(217.5);
    expect(convertMinor(50n, parseDecimal('4.35'), 'GBP', 'PLN')).toBe(218n);
    expect(convertMinor(100n, parseDecimal('1.015'), 'CHF', 'SEK')).toBe(102n);
    expect(convertMinor(-50n, parseDecimal('4.35'), 'GBP', 'PLN')).toBe(-218n);
  });
});
