import { describe, expect, it } from 'vitest';
import { decimalStringToMinor, minorToDecimalString, minorUnitExponent } from './money.ts';

describe('money', () => {
  it('knows zero- and three-decimal currencies', () => {
    expect(minorUnitExponent('USD')).toBe(2);
    expect(minorUnitExponent('krw')).toBe(0);
    expect(minorUnitExponent('KWD')).toBe(3);
  });

  it('formats minor units as vendor decimal strings', () => {
    expect(minorToDecimalString(1234, 'USD')).toBe('12.34');
    expect(minorToDecimalString(5, 'USD')).toBe('0.05');
    expect(minorToDecimalString(-5, 'EUR')).toBe('-0.05');
    expect(minorToDecimalString(15000, 'KRW')).toBe('15000');
    expect(minorToDecimalString(1, 'KWD')).toBe('0.001');
  });

  it('parses decimal strings back without rounding money', () => {
    expect(decimalStringToMinor('12.34', 'USD')).toBe(1234);
    expect(decimalStringToMinor('12', 'USD')).toBe(1200);
    expect(decimalStringToMinor('12.5', 'USD')).toBe(1250);
    expect(decimalStringToMinor('15000', 'KRW')).toBe(15000);
    expect(decimalStringToMinor('15000.00', 'KRW')).toBe(15000);
    expect(() => decimalStringToMinor('1.234', 'USD')).toThrow(RangeError);
    expect(() => decimalStringToMinor('abc', 'USD')).toThrow(RangeError);
  });
});
